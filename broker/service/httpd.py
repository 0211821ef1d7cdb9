"""The broker's HTTP side door: ``/metrics`` for Prometheus, ``/healthz`` for probes.

A small threaded WSGI server (the standard library's, as
``prometheus_client.start_http_server`` uses) on its own daemon threads. It
only reads the snapshot the loop publishes (broker/service/metrics.py), so a
scrape, a slow client or a garbage request never reaches the decision loop;
each connection times out after ``REQUEST_TIMEOUT_S``.
"""
from __future__ import annotations

import json
import logging
import socket
import threading
from socketserver import ThreadingMixIn
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from prometheus_client import CollectorRegistry, make_wsgi_app

from broker.service.health import evaluate
from broker.service.metrics import LoopFigures, SnapshotCollector

log = logging.getLogger(__name__)

#: a client that has not sent its request within this long is dropped
REQUEST_TIMEOUT_S = 5.0
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 9570


class EndpointError(ValueError):
    pass


def parse_endpoint(text: str) -> tuple[str, int]:
    """``HOST:PORT``, ``:PORT`` or ``PORT`` (host defaults to loopback); ``[::1]:PORT`` for IPv6."""
    text = text.strip()
    if text.startswith("http://"):
        text = text[len("http://"):].rstrip("/")
    host, sep, port_text = text.rpartition(":")
    if not sep:
        host, port_text = "", text
    host = host.strip("[]") or DEFAULT_HOST
    try:
        port = int(port_text)
    except ValueError:
        raise EndpointError(f"metrics endpoint {text!r} is not HOST:PORT (e.g. 127.0.0.1:{DEFAULT_PORT})") from None
    if not 0 <= port <= 65535:
        raise EndpointError(f"metrics endpoint {text!r}: port {port} is out of range")
    return host, port


class _Server(ThreadingMixIn, WSGIServer):
    daemon_threads = True
    allow_reuse_address = True


class _Server6(_Server):
    address_family = socket.AF_INET6


class _QuietHandler(WSGIRequestHandler):
    timeout = REQUEST_TIMEOUT_S

    def log_message(self, format, *args):  # noqa: A002 (the standard library's name)
        log.debug("http %s: " + format, self.client_address[0], *args)


class MetricsServer:
    """Serves ``/metrics`` and ``/healthz`` from ``figures`` until ``stop()``."""

    def __init__(self, figures: LoopFigures, host: str, port: int, store=None):
        self.figures = figures
        self.registry = CollectorRegistry(auto_describe=False)
        self.registry.register(SnapshotCollector(figures, store))
        self._metrics_app = make_wsgi_app(self.registry)
        server_class = _Server6 if ":" in host else _Server
        self._httpd = make_server(host, port, self._app, server_class=server_class,
                                  handler_class=_QuietHandler)
        self.port = self._httpd.server_port
        self.host = host
        self._thread = threading.Thread(target=self._httpd.serve_forever, name="metrics-http", daemon=True)

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def start(self) -> "MetricsServer":
        self._thread.start()
        log.info("metrics on %s/metrics, health on %s/healthz", self.url, self.url)
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)

    def _app(self, environ, start_response):
        path = environ.get("PATH_INFO", "")
        if path == "/metrics":
            return self._metrics_app(environ, start_response)
        if path == "/healthz":
            health = evaluate(self.figures.snapshot)
            body = json.dumps(health.as_dict()).encode()
            start_response("200 OK" if health.healthy else "503 Service Unavailable",
                           [("Content-Type", "application/json"), ("Content-Length", str(len(body))),
                            ("Cache-Control", "no-store")])
            return [body]
        body = b"not found: try /metrics or /healthz\n"
        start_response("404 Not Found", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
        return [body]


def serve_metrics(server, endpoint: str) -> LoopFigures:
    """Keep figures on ``server``'s loop and serve them on ``endpoint`` while it runs.

    The HTTP port is bound once the store is loaded, just before the broker's
    own sockets, so a port in use stops the start with one sentence.
    """
    from broker.service import metrics
    from broker.service.ports import bind_failure
    from broker.service.server import BindError

    from broker.service.app import endpoint_is_loopback

    host, port = parse_endpoint(endpoint)
    if not endpoint_is_loopback(f"tcp://{host}:{port}"):
        # read-only floor figures (queue depths, counts per group), no customer data; still say so
        log.warning("metrics and health served without authentication on %s:%d", host, port)
    figures = metrics.attach(server)

    def start(server, _loaded) -> None:
        try:
            http = MetricsServer(figures, host, port, server.store)
        except OSError as exc:
            raise BindError(bind_failure(f"tcp://{host}:{port}", "metrics", exc)) from None
        server.metrics_http = http.start()
        server.on_stop.append(http.stop)

    server.on_loaded.append(start)
    return figures
