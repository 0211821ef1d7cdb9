"""The policy lab behind ``grabdesk lab``: what if the floor ran another policy?

* ``trace``: the traffic and the floor a run replays: the built-in seeded
  Double-11 day, any demand profile and roster, or the arrivals recorded in a
  broker store;
* ``policy``: the policies compared (mode, hybrid delay, fair share, tiers,
  quotas, assist settings), from built-in names, ``--policy`` options or a
  TOML file;
* ``engine``: a discrete-event loop in virtual time that drives the real
  arbiter (``broker.arbiter.core.Arbiter``) through its public methods with
  the simulator's people (``tools.simulate.personas``): no sockets, no sleep;
* ``figures``: what a run measured, per policy and per hour;
* ``report``: the table, the JSON and the CSV/PNG report;
* ``cli``: the ``grabdesk lab`` command (policies in parallel processes).

docs/lab.md describes the model, its assumptions and the figures.
"""
