"""The supervisor console: see the floor live and steer it.

Layers, each importing only the ones above it:

* ``rows``, ``history``, ``state``: plain Python (no Qt). The console's view of
  the floor derived from the link's ``Mirror``: which rows each table shows in
  which order, queue-depth history, alerts, audit, pending edits.
* ``models``: Qt item models over that state. Structural changes are replayed
  row by row (``beginInsertRows``...), data changes as row-scoped
  ``dataChanged``; a model reset happens only for a full snapshot.
* widgets (``chart``, ``coverage``, ``tables``, ``dialogs``, ``panels``,
  ``window``): render on one refresh timer and send commands through
  ``actions``; the broker decides, the views show its verdict.
"""
