"""`grabdesk grabs`: grab transparency on the command line, against a real broker."""
from __future__ import annotations

import json
import socket

from broker.wire import protocol as p
from grabdesk.cli import main

from helpers import agent_spec


def _endpoints(broker) -> list[str]:
    return ["--command-endpoint", broker.server.command_endpoint,
            "--events-endpoint", broker.server.events_endpoint]


def test_lists_who_tried_how_fast_and_why_each_lost(broker, capsys):
    broker.define(groups=["g1"], agents=[agent_spec("a1", group="g1"), agent_spec("a2", group="g1"),
                                         agent_spec("ja", group="g1", skills=("after_sales",))])
    broker.online("a1", "a2", "ja")
    broker.submit(p.NewInquiry(id="q1", shop="s1", skill="pre_sales"))
    broker.client("agent", "a1").call(p.Grab, grab_id="g1", inquiry="q1")
    broker.client("agent", "a2").call(p.Grab, grab_id="g2", inquiry="q1")
    broker.client("agent", "ja").call(p.Grab, grab_id="g3", inquiry="q1")
    assert main(["grabs", "q1", *_endpoints(broker)]) == 0
    out = capsys.readouterr().out
    assert "q1: 3 attempts, won by a1" in out
    lines = {line.split()[1]: line for line in out.splitlines()[2:]}
    assert " won " in lines["a1"]
    assert "taken by a1 (already-taken)" in lines["a2"]
    assert "agent ja lacks skill pre_sales (not-eligible)" in lines["ja"]
    assert main(["grabs", "--agent", "a2", "--json", *_endpoints(broker)]) == 0
    reply = json.loads(capsys.readouterr().out)
    assert [a[0] for a in reply["attempts"]] == ["q1"]


def test_an_unknown_inquiry_is_one_sentence_and_exit_2(broker, capsys):
    broker.define()
    assert main(["grabs", "nope", *_endpoints(broker)]) == 2
    captured = capsys.readouterr()
    assert captured.err.strip() == "grabdesk grabs: no grabs recorded for inquiry nope"
    assert captured.out == ""


def test_no_broker_is_one_sentence_and_exit_2(capsys):
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    status = main(["grabs", "q1", "--timeout-s", "0.5", "--command-endpoint", f"tcp://127.0.0.1:{port}",
                   "--events-endpoint", f"tcp://127.0.0.1:{port}"])
    assert status == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no answer from a broker at tcp://127.0.0.1:" in err


def test_neither_or_both_targets_is_a_usage_mistake(capsys):
    assert main(["grabs"]) == 2
    assert main(["grabs", "q1", "--agent", "a1"]) == 2
    assert "name an inquiry, or an agent with --agent" in capsys.readouterr().err
