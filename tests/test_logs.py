"""Structured logs: ``--log-format json`` writes one JSON object a line, with fields."""
from __future__ import annotations

import json
import logging
import subprocess
import sys
import time

import zmq

from broker.service.logs import JsonFormatter
from broker.wire import protocol as p


def test_json_lines_carry_extra_fields_and_tracebacks():
    record = logging.LogRecord("broker.x", logging.WARNING, __file__, 1, "grab by %s refused", ("a1",), None)
    record.event, record.agent, record.code, record.elapsed_ms = "grab.refused", "a1", "quota-concurrent", 1.5
    line = json.loads(JsonFormatter().format(record))
    assert line["level"] == "WARNING" and line["logger"] == "broker.x"
    assert line["message"] == "grab by a1 refused"
    assert (line["event"], line["agent"], line["code"], line["elapsed_ms"]) == \
        ("grab.refused", "a1", "quota-concurrent", 1.5)
    assert line["ts"].endswith("+00:00")
    try:
        raise ValueError("boom")
    except ValueError:
        failed = logging.LogRecord("broker.x", logging.ERROR, __file__, 1, "failed", (), sys.exc_info())
    assert "ValueError: boom" in json.loads(JsonFormatter().format(failed))["exc"]


def test_broker_logs_json_lines_with_fields(tmp_path):
    """A real broker with --log-format json: every stderr line parses; refusals carry their fields."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "grabdesk", "broker", "--log-format", "json", "--db", str(tmp_path / "b.db"),
         "--command-endpoint", "ipc://" + str(tmp_path / "cmd"), "--events-endpoint",
         "ipc://" + str(tmp_path / "ev")], stderr=subprocess.PIPE, text=True)
    ctx = zmq.Context()
    try:
        lines = []
        while not any(line.get("event") == "broker.listening" for line in lines):
            raw = proc.stderr.readline()
            assert raw, "the broker ended before listening"
            lines.append(json.loads(raw))
        dealer = ctx.socket(zmq.DEALER)
        dealer.setsockopt(zmq.LINGER, 0)
        dealer.connect("ipc://" + str(tmp_path / "cmd"))
        # an agent nobody enrolled grabs: refused (forbidden), logged with its fields
        grab = p.Grab(v=p.PROTOCOL_VERSION, id="m1", role="agent", who="ghost", grab_id="g1", inquiry="q9")
        dealer.send(p.encode(grab))
        dealer.send(b"\x93not msgpack at all")
        assert dealer.poll(5000) and dealer.recv()
        assert dealer.poll(5000) and dealer.recv()
        dealer.close()
        proc.terminate()
        _out, rest = proc.communicate(timeout=30)
        lines += [json.loads(raw) for raw in rest.splitlines() if raw.strip()]
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        ctx.term()
    assert proc.returncode == 0
    for line in lines:
        assert {"ts", "level", "logger", "message"} <= set(line), line
    refused = [line for line in lines if line.get("event") == "command.refused"]
    assert refused and refused[0]["agent"] == "ghost" and refused[0]["inquiry"] == "q9"
    assert refused[0]["code"] == "forbidden" and refused[0]["level"] == "WARNING"
    assert any(line.get("event") == "frame.refused" and line.get("code") for line in lines)
    stopping = [line for line in lines if line.get("event") == "broker.stopping"]
    assert stopping and stopping[0]["commands"] == 2
