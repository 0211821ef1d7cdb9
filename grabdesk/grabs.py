"""``grabdesk grabs INQUIRY``: who tried to grab an inquiry, when, how fast, and why each lost or was refused.

``grabdesk grabs --agent AGENT`` lists an agent's latest attempts instead.
Read from the broker's store (``query_grabs`` / ``query_agent_grabs``); a
table for people, ``--json`` for scripts. An unknown inquiry or agent, or a
broker that does not answer, ends in one sentence on stderr and exit 2.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import msgspec

from broker.wire import protocol as p
from broker.wire.client import BrokerClient, BrokerRefused
from broker.wire.keyfiles import KeyFileError, load_client_keys
from supervisor.common.cli_options import add_link_arguments

#: how long to wait for the broker's answer unless told otherwise
DEFAULT_TIMEOUT_S = 5.0


def add_parser(sub) -> argparse.ArgumentParser:
    parser = sub.add_parser("grabs", help="who tried to grab an inquiry and why each lost or was refused",
                            description=__doc__.split("\n\n")[0])
    parser.add_argument("inquiry", nargs="?", help="the inquiry id (as the console shows it)")
    parser.add_argument("--agent", help="list this agent's latest attempts instead")
    parser.add_argument("--limit", type=int, default=50, help="most attempts listed with --agent (1-500)")
    parser.add_argument("--who", default="grabs", help="the supervisor identity to ask as (default grabs)")
    parser.add_argument("--timeout-s", type=float, default=DEFAULT_TIMEOUT_S,
                        help=f"give up waiting for the broker after this (default {DEFAULT_TIMEOUT_S:g})")
    parser.add_argument("--json", action="store_true", help="print the broker's reply as JSON")
    add_link_arguments(parser)
    parser.set_defaults(func=run)
    return parser


def _fail(sentence: str) -> int:
    print(f"grabdesk grabs: {sentence}", file=sys.stderr)
    return 2


def run(args) -> int:
    if bool(args.inquiry) == bool(args.agent):
        return _fail("name an inquiry, or an agent with --agent (not both)")
    if not 1 <= args.limit <= p.MAX_HISTORY_ROWS:
        return _fail(f"--limit must be 1 to {p.MAX_HISTORY_ROWS}")
    keys = (args.server_key, args.public_key, args.secret_key)
    curve = None
    if any(keys):
        if not all(keys):
            return _fail("give all three key files (--server-key, --public-key, --secret-key) or none")
        try:
            curve = load_client_keys(*(Path(k) for k in keys))
        except (KeyFileError, OSError) as exc:
            return _fail(f"cannot read the key files: {exc}")
    client = BrokerClient(args.command_endpoint or p.DEFAULT_COMMAND_ENDPOINT,
                          args.events_endpoint or p.DEFAULT_EVENTS_ENDPOINT, "supervisor", args.who,
                          curve=curve, follow=False, name="grabdesk-grabs").start()
    try:
        if args.agent:
            reply = client.call(p.QueryAgentGrabs, args.timeout_s, agent=args.agent, limit=args.limit)
        else:
            reply = client.call(p.QueryGrabs, args.timeout_s, inquiry=args.inquiry)
    except BrokerRefused as refused:
        return _fail(refused.reason)
    except (TimeoutError, ConnectionError):
        endpoint = args.command_endpoint or p.DEFAULT_COMMAND_ENDPOINT
        return _fail(f"no answer from a broker at {endpoint} within {args.timeout_s:g} s")
    finally:
        client.stop()
    if args.json:
        print(json.dumps(msgspec.to_builtins(reply), ensure_ascii=False, indent=1))
    elif isinstance(reply, p.AgentGrabs):
        print(_agent_table(reply))
    else:
        print(_inquiry_table(reply))
    return 0


def _clock(ts: float) -> str:
    return time.strftime("%H:%M:%S", time.localtime(ts)) + f".{int(ts * 1000) % 1000:03d}"


def _why(outcome: str, code: str, reason: str) -> str:
    return "" if outcome == "won" else f"{reason} ({code})" if code else reason


def _inquiry_table(history: p.GrabHistory) -> str:
    if not history.attempts:
        return f"{history.inquiry}: nobody has tried to grab it yet (held by {history.winner or 'nobody'})"
    lines = [f"{history.inquiry}: {len(history.attempts)} attempts, won by {history.winner or 'nobody'}",
             f"{'time':<13} {'agent':<16} {'after':>8}  {'outcome':<8} why"]
    for a in history.attempts:
        lines.append(f"{_clock(a.at):<13} {a.agent:<16} {a.latency_s:>7.2f}s  {a.outcome:<8} "
                     f"{_why(a.outcome, a.code, a.reason)}")
    return "\n".join(lines)


def _agent_table(grabs: p.AgentGrabs) -> str:
    if not grabs.attempts:
        return f"{grabs.agent}: no grab attempts recorded"
    won = sum(a.outcome == "won" for a in grabs.attempts)
    lines = [f"{grabs.agent}: latest {len(grabs.attempts)} attempts, {won} won",
             f"{'time':<13} {'inquiry':<24} {'after':>8}  {'outcome':<8} why"]
    for a in grabs.attempts:
        lines.append(f"{_clock(a.at):<13} {a.inquiry:<24} {a.latency_s:>7.2f}s  {a.outcome:<8} "
                     f"{_why(a.outcome, a.code, a.reason)}")
    return "\n".join(lines)
