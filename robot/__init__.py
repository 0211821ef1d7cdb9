"""The robot first line: understand a customer's message and answer it or hand it to a person.

A fourth program beside ``broker/`` and ``supervisor/``; it imports neither
(nor Qt), so the robot service, the simulator and offline tools share it.

Public API::

    from robot.decide import Robot, Context, Decision
    robot = Robot.from_directory()              # assets/robot; trains in well under a second
    decision = robot.decide(text, shop="tmall-flagship", customer="cust-000123")
    decision.action                             # "answer" or "escalate"
    robot.decide(next_text, shop=..., context=decision.context)   # the customer's next message

    from robot.phrasing import sample           # customer messages for simulations
    from robot.orders import OrderLookup        # the order-system interface to implement

Modules: ``knowledge`` (load and validate ``assets/robot``), ``text``
(screening and normal form), ``lexicon`` (strong-signal terms), ``nlu`` (the
intent model), ``orders``, ``answers`` (templates), ``decide`` (the rules),
``evaluation`` (accuracy on labelled sets), ``phrasing``, ``cli``.
"""
