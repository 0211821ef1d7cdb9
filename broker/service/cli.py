"""``grabdesk broker``: run the headless arbiter as a service.

Precedence: command line > config file > default. Logs go to stderr (a
service manager collects them). SIGTERM and SIGINT shut down in order:
stop reading commands, commit and publish what was decided, close.
"""
from __future__ import annotations

import argparse
import logging
import os
import sys
import time

from broker.service.config import ConfigError, load_config

log = logging.getLogger("broker")


def add_parser(sub) -> argparse.ArgumentParser:
    parser = sub.add_parser("broker", help="run the grab arbiter (headless)",
                            description="Run the grabdesk broker: commands on a ROUTER socket, "
                                        "events on a PUB socket, decisions durable in SQLite.")
    parser.add_argument("--config", metavar="FILE", help="TOML config file (docs/operating.md)")
    parser.add_argument("--command-endpoint", metavar="ENDPOINT",
                        help="ZeroMQ endpoint for commands (default tcp://127.0.0.1:5570)")
    parser.add_argument("--events-endpoint", metavar="ENDPOINT",
                        help="ZeroMQ endpoint for events (default tcp://127.0.0.1:5571)")
    parser.add_argument("--db", metavar="PATH|URL",
                        help="SQLite store (default ~/.local/share/grabdesk/broker.db), or postgresql://... to "
                             "run as one of an active/standby pair on PostgreSQL")
    parser.add_argument("--shard", metavar="NAME", help="the shard this broker serves (PostgreSQL store; "
                                                        "default main)")
    parser.add_argument("--directory", metavar="FILE",
                        help="the platform's shard directory (TOML): this broker's shard must be in it")
    parser.add_argument("--lease-s", metavar="SECONDS", type=float,
                        help="a standby takes over this long after the active stops renewing (default 2)")
    parser.add_argument("--synchronous", choices=["FULL", "NORMAL"],
                        help="FULL survives a power loss (default), NORMAL only a process crash")
    parser.add_argument("--roster", metavar="FILE", help="roster file to load at start (CSV or TOML)")
    parser.add_argument("--curve", action="store_true", default=None,
                        help="require CurveZMQ with enrolled keys (see --keys-dir)")
    parser.add_argument("--keys-dir", metavar="DIR", help="broker key pair and enrolled clients")
    parser.add_argument("--allow-insecure-bind", action="store_true", default=None,
                        help="DANGEROUS: allow binding beyond loopback without CurveZMQ")
    parser.add_argument("--time-scale", type=float, metavar="N",
                        help="run the floor's clock N times real speed (demos, rehearsals; default 1: "
                             "the wall clock); every SLA, delay and quota timer follows it")
    parser.add_argument("--start", metavar="ISO",
                        help="the floor's time at start-up, e.g. 2026-11-11T19:00 (without an offset: "
                             "in broker.day_tz; default: now)")
    parser.add_argument("--metrics-endpoint", metavar="HOST:PORT",
                        help="serve Prometheus /metrics and /healthz over HTTP here (off by default; "
                             "a bare PORT listens on 127.0.0.1)")
    parser.add_argument("--log-format", choices=["text", "json"],
                        help="text: one human line per message (default); json: one JSON object per line "
                             "with ts, level, logger, message and fields such as event, agent, code")
    parser.add_argument("--seed-demo", action="store_true",
                        help="use the demo floor (assets/demo) for shops, groups, agents, roster "
                             "and profile the config file does not set")
    parser.add_argument("--check-config", action="store_true",
                        help="check the configuration (file, options, keys, roster, profile, store) "
                             "and exit: 0 if the broker would start with it, 2 with the reason if not")
    parser.set_defaults(func=run)
    return parser


def merged_config(args):
    """Apply command-line values over the file's."""
    config = load_config(args.config)
    b = config.broker
    for name in ("command_endpoint", "events_endpoint", "db", "synchronous", "roster", "curve",
                 "keys_dir", "allow_insecure_bind", "metrics_endpoint", "log_format", "time_scale",
                 "start", "shard", "lease_s", "directory"):
        value = getattr(args, name, None)
        if value is not None:
            setattr(b, name, value)
    if b.db.startswith(("postgresql://", "postgres://")):  # --db postgresql://... chooses the store
        b.store, b.db = b.db, ""
    return config


def run(args) -> int:
    if args.verbose == 0:
        logging.getLogger().setLevel(logging.INFO)  # a service should say what it does
    from broker.service.app import BrokerApp, StartupError
    from broker.service.config import check_directory, validate
    from broker.service.server import BindError
    from broker.service.store import StoreError

    try:
        config = merged_config(args)
        validate(config, "command line")
        if config.broker.directory:  # after the merge: --shard may name the shard the file does not
            check_directory(config, "command line")
        from broker.service.logs import configure

        configure(config.broker.log_format)
        if args.check_config:
            from broker.service.checkconfig import check

            for line in check(config):
                print(f"ok: {line}")
            print("configuration OK")
            return 0
        app = BrokerApp(config, seed_demo=args.seed_demo)
    except (ConfigError, StartupError, StoreError) as exc:
        print(f"grabdesk broker: {exc}", file=sys.stderr)
        return 2
    if app.server.time_scale != 1.0 or config.broker.start:
        log.info("floor clock: %s at %gx real speed", time.strftime(
            "%Y-%m-%d %H:%M:%S UTC", time.gmtime(app.server.clock())), app.server.time_scale)
    try:
        return _serve(app)
    except BindError as exc:
        print(f"grabdesk broker: {exc}", file=sys.stderr)
        return 2


def _serve(app) -> int:
    app.server.install_signal_handlers()
    if os.environ.get("GRABDESK_GC_LOG"):  # performance work: log every slow GC pass
        import gc
        import time as _time

        started = {}

        def _gc_timer(phase, info):
            if phase == "start":
                started["t"] = _time.perf_counter()
            elif (ms := (_time.perf_counter() - started.get("t", 0)) * 1000) > 5:
                logging.getLogger("broker.gc").warning("gc generation %d took %.1f ms (%d collected)",
                                                       info["generation"], ms, info["collected"])
        gc.callbacks.append(_gc_timer)
    profile_path = os.environ.get("GRABDESK_PROFILE")
    if profile_path:  # for performance work: cProfile the whole run, dump on exit
        import cProfile

        profiler = cProfile.Profile()
        try:
            return profiler.runcall(app.run)
        finally:
            profiler.dump_stats(profile_path)
    return app.run()
