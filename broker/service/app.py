"""Assembles a broker process: store, server, periodic views, security.

``cli_broker`` parses options; this module turns a configuration into a
running ``BrokerServer`` with everything attached, so the demo, the
benchmarks and the tests start exactly what an operator starts.
"""
from __future__ import annotations

import ipaddress
import logging
import socket
from pathlib import Path
from urllib.parse import urlsplit

from broker.service.config import FileConfig, load_config
from broker.service.server import BindError, BrokerServer

log = logging.getLogger(__name__)

ASSETS = Path(__file__).resolve().parents[2] / "assets"
DEMO_FLOOR = ASSETS / "demo" / "floor.toml"


class StartupError(RuntimeError):
    """A configuration the broker refuses to start with; the message says why."""


def endpoint_is_loopback(endpoint: str) -> bool:
    """True for ipc://, inproc:// and tcp:// endpoints bound to loopback only."""
    scheme, _, rest = endpoint.partition("://")
    if scheme in ("ipc", "inproc"):
        return True
    host = urlsplit(f"//{rest}").hostname or ""
    if host in ("localhost",):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        try:  # an interface or host name: loopback only if it resolves to loopback
            return ipaddress.ip_address(socket.gethostbyname(host)).is_loopback
        except OSError:
            return False


def check_binding(config: FileConfig) -> None:
    b = config.broker
    exposed = [e for e in (b.command_endpoint, b.events_endpoint) if not endpoint_is_loopback(e)]
    if exposed and not b.curve and not b.allow_insecure_bind:
        raise StartupError(
            f"refusing to listen on {', '.join(exposed)} without CurveZMQ: anyone on the network "
            "could grab inquiries. Enable curve (--curve --keys-dir DIR, see docs/security.md), bind "
            "to 127.0.0.1, or pass --allow-insecure-bind if you really mean it.")
    if exposed and not b.curve:
        log.warning("!!! INSECURE: listening on %s without authentication (--allow-insecure-bind)",
                    ", ".join(exposed))


class BrokerApp:
    def __init__(self, config: FileConfig, seed_demo: bool = False, clock=None, context=None):
        check_binding(config)
        if seed_demo:
            demo = load_config(DEMO_FLOOR)
            config.shops = config.shops or demo.shops
            config.groups = config.groups or demo.groups
            config.agents = config.agents or demo.agents
            if not config.broker.roster:
                config.broker.roster = str(ASSETS / "demo" / "roster.csv")
            if not config.broker.profile:
                config.broker.profile = str(ASSETS / "demo" / "profile.toml")
        authenticator = None
        if config.broker.curve:
            from broker.service.keys import CurveAuthenticator, KeyFileError

            try:
                authenticator = CurveAuthenticator(Path(config.broker.keys_dir).expanduser())
            except KeyFileError as exc:
                raise StartupError(str(exc)) from exc
        self.config = config
        if config.broker.store:
            from broker.service.pair import PairedBroker

            try:
                self.server = PairedBroker(config, clock, context=context, authenticator=authenticator)
            except BindError as exc:
                raise StartupError(str(exc)) from None
        else:
            self.server = BrokerServer(config, clock, context=context, authenticator=authenticator)
        if config.broker.metrics_endpoint:
            from broker.service.httpd import serve_metrics

            if config.broker.store:  # each active turn serves its own figures; a standby has none
                self.server.on_server.append(lambda server: serve_metrics(server, config.broker.metrics_endpoint))
            else:
                serve_metrics(self.server, config.broker.metrics_endpoint)

    def run(self) -> int:
        try:
            self.server.run()
        except BindError:
            raise  # a start-up mistake: the caller says it in one sentence
        except Exception as exc:
            log.exception("broker stopped on an error: %s", exc)
            return 1
        return 0
