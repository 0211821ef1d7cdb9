"""The traffic simulator behind ``grabdesk simulate`` and ``grabdesk demo``.

* ``plan``: the seeded arrival process (daily curve per skill, surge,
  shops, channels, languages, priorities, patience) and the time scale; pure.
* ``personas``: simulated agents' habits (reaction, pickiness, handling,
  release/transfer, satisfaction); pure.
* ``agents`` and ``runner``: drive a live broker with them as an ordinary
  client.
* ``cli``: the ``grabdesk simulate`` command.

The model and the options are described in ``docs/simulator.md``.
"""
