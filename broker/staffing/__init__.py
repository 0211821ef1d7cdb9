"""Staffing: Erlang C, rosters, demand forecasts, coverage and period reports."""
