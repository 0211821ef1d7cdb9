"""What the console and the agent window share: the link to the broker, i18n, widgets, rows, formats."""
