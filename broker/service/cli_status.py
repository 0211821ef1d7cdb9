"""``grabdesk status``: is the broker up, serving and keeping up? For people and probes.

With the broker's metrics endpoint (``--metrics-endpoint`` or the config's
``metrics_endpoint``) it reads ``/healthz``: serving, loop lag, last commit
age (broker/service/health.py). Without one it listens for the broker's
heartbeat on the events endpoint, which proves the loop turns but says
nothing of lag or commits.

Exit status, for a service manager or a load balancer's probe: 0 healthy, 1
degraded, unhealthy or unreachable, 2 usage error (docs/operating.md section 10).
"""
from __future__ import annotations

import argparse
import json
import sys
import time
import urllib.error
import urllib.request

HEALTHY, UNHEALTHY, USAGE = 0, 1, 2


def add_parser(sub) -> argparse.ArgumentParser:
    parser = sub.add_parser("status", help="is the broker up and keeping up? (exit 0 healthy, 1 not)",
                            description="Ask a running broker whether it is up, serving and keeping up. "
                                        "Exit status: 0 healthy, 1 degraded, unhealthy or unreachable, "
                                        "2 usage error.")
    parser.add_argument("--config", metavar="FILE", help="the broker's TOML config (its endpoints are used)")
    parser.add_argument("--metrics-endpoint", metavar="HOST:PORT",
                        help="the broker's metrics endpoint: /healthz is read there (the fullest answer)")
    parser.add_argument("--events-endpoint", metavar="ENDPOINT",
                        help="without a metrics endpoint: wait for a heartbeat here (default: the config's)")
    parser.add_argument("--timeout-s", type=float, default=3.0, help="give up after this long (default 3)")
    parser.add_argument("--wait-s", type=float, default=0.0,
                        help="keep asking until healthy or this many seconds passed (a readiness gate, "
                             "e.g. systemd's ExecStartPost); default: ask once")
    parser.add_argument("--json", action="store_true", help="print the answer as one JSON object")
    parser.set_defaults(func=run)
    return parser


def run(args) -> int:
    from broker.service.config import ConfigError, load_config

    try:
        config = load_config(args.config)
    except ConfigError as exc:
        print(f"grabdesk status: {exc}", file=sys.stderr)
        return USAGE
    if args.timeout_s <= 0 or args.wait_s < 0:
        print("grabdesk status: --timeout-s must be above 0 and --wait-s not below 0", file=sys.stderr)
        return USAGE
    metrics = args.metrics_endpoint or config.broker.metrics_endpoint
    if metrics:
        from broker.service.httpd import EndpointError, parse_endpoint

        try:
            host, port = parse_endpoint(metrics)
        except EndpointError as exc:
            print(f"grabdesk status: {exc}", file=sys.stderr)
            return USAGE
        if host in ("0.0.0.0", "::"):  # bound to every address: ask on loopback
            host = "127.0.0.1" if host == "0.0.0.0" else "::1"
        url = f"http://{f'[{host}]' if ':' in host else host}:{port}/healthz"
        ask = lambda: _healthz(url, args.timeout_s)  # noqa: E731
    else:
        if config.broker.curve:
            print("grabdesk status: this broker requires CurveZMQ; give its --metrics-endpoint instead",
                  file=sys.stderr)
            return USAGE
        endpoint = args.events_endpoint or config.broker.events_endpoint
        ask = lambda: _heartbeat(endpoint, args.timeout_s)  # noqa: E731
    deadline = time.monotonic() + args.wait_s
    while True:
        code, answer = ask()
        if code == HEALTHY or time.monotonic() >= deadline:
            break
        time.sleep(min(0.5, max(0.0, deadline - time.monotonic())))
    if args.json:
        print(json.dumps(answer))
    else:
        print(_sentence(answer))
    return code


def _healthz(url: str, timeout_s: float) -> tuple[int, dict]:
    try:
        with urllib.request.urlopen(url, timeout=timeout_s) as reply:
            body = json.loads(reply.read())
    except urllib.error.HTTPError as exc:  # 503: degraded or unhealthy, with its reasons
        try:
            body = json.loads(exc.read())
        except ValueError:
            return UNHEALTHY, {"status": "unreachable", "reasons": [f"{url} answered {exc.code}"]}
    except (OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        return UNHEALTHY, {"status": "unreachable", "reasons": [f"no answer from {url}: {reason}"]}
    return (HEALTHY if body.get("status") == "ok" else UNHEALTHY), body


def _heartbeat(endpoint: str, timeout_s: float) -> tuple[int, dict]:
    import msgspec
    import zmq

    from broker.wire import protocol as p

    ctx = zmq.Context()
    sub = ctx.socket(zmq.SUB)
    sub.setsockopt(zmq.LINGER, 0)
    try:
        sub.setsockopt(zmq.SUBSCRIBE, p.HEARTBEAT_TOPIC)
        sub.connect(endpoint)
        if not sub.poll(int(timeout_s * 1000)):
            return UNHEALTHY, {"status": "unreachable",
                               "reasons": [f"no heartbeat on {endpoint} within {timeout_s:g} s"]}
        _topic, body = sub.recv_multipart()
        beat = p.decode_heartbeat(body)
        return HEALTHY, {"status": "ok", "serving": True, "seq": beat.seq, "epoch": beat.epoch,
                         "loop_lag_s": None, "last_commit_age_s": None,
                         "reasons": ["heartbeat only: give --metrics-endpoint for loop lag and last commit"]}
    except (zmq.ZMQError, msgspec.DecodeError) as exc:
        return UNHEALTHY, {"status": "unreachable", "reasons": [f"{endpoint}: {exc}"]}
    finally:
        sub.close()
        ctx.term()


def _sentence(answer: dict) -> str:
    parts = [answer.get("status", "?")]
    if answer.get("serving") is not None and answer.get("status") != "unreachable":
        parts.append("serving" if answer["serving"] else "not serving")
    if answer.get("loop_lag_s") is not None:
        parts.append(f"loop lag {answer['loop_lag_s']:.2f} s")
    if answer.get("last_commit_age_s") is not None:
        parts.append(f"last commit {answer['last_commit_age_s']:.1f} s ago")
    if answer.get("seq") is not None:
        parts.append(f"seq {answer['seq']}")
    if answer.get("uptime_s") is not None:
        parts.append(f"up {answer['uptime_s']:.0f} s")
    text = ", ".join(parts)
    if answer.get("reasons"):
        text += ": " + "; ".join(answer["reasons"])
    return text
