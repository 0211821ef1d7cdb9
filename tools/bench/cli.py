"""``grabdesk bench NAME``: every benchmark prints one JSON object.

Each benchmark is a module here exposing ``add_arguments(parser)`` and
``run(args) -> dict``; the numbers in README's performance section come from
these commands. Figures are from this machine: compare ratios within a run.
"""
from __future__ import annotations

import argparse
import importlib
import json
import sys

#: benchmark name -> module
BENCHMARKS = {
    "arbitration": "tools.bench.arbitration",
    "fanout": "tools.bench.fanout",
    "recovery": "tools.bench.recovery",
    "claim-peers": "tools.bench.claim_peers",
    "console": "tools.bench.console",
    "agent": "tools.bench.agent",
    "fuzz": "tools.bench.fuzz",
    "robot": "tools.bench.robot",
    "disk": "tools.bench.disk",
    "failover": "tools.bench.failover",
}


def add_parser(sub) -> argparse.ArgumentParser:
    parser = sub.add_parser("bench", help="run a benchmark and print one JSON object",
                            description="Benchmarks against a real broker on loopback.")
    names = parser.add_subparsers(dest="bench", metavar="NAME")
    for name, module_name in BENCHMARKS.items():
        bench = names.add_parser(name)
        bench.add_argument("--json", action="store_true", help="print only the JSON object")
        try:
            module = importlib.import_module(module_name)
        except ImportError as exc:
            bench.set_defaults(func=_unavailable(name, exc))
            continue
        module.add_arguments(bench)
        bench.set_defaults(func=_runner(module))
    parser.set_defaults(func=lambda args: (parser.print_help(), 2)[1])
    return parser


def _runner(module):
    def run(args) -> int:
        result = module.run(args)
        if not args.json:
            print(f"# {module.__name__.rsplit('.', 1)[-1]} on this machine", file=sys.stderr)
        print(json.dumps(result, indent=None if args.json else 2, sort_keys=False))
        return 0 if result.get("ok", True) else 1
    return run


def _unavailable(name, exc):
    def run(args) -> int:
        print(f"grabdesk bench {name}: not available: {exc}", file=sys.stderr)
        return 2
    return run
