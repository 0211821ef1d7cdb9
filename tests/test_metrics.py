"""Prometheus /metrics and /healthz from a real broker, scraped over HTTP."""
from __future__ import annotations

import socket
import threading
import time
import urllib.error
import urllib.request

import pytest
from prometheus_client.parser import text_string_to_metric_families

from broker.service.app import BrokerApp
from broker.wire import protocol as p
from broker.wire.client import BrokerRefused
from helpers import BrokerHandle, agent_spec, loopback_config, wait_until

SKILLS = ("pre_sales", "after_sales")


@pytest.fixture
def metered(tmp_path):
    """A broker started as an operator starts it (BrokerApp), with metrics on an ephemeral port."""
    app = BrokerApp(loopback_config(tmp_path, metrics_endpoint="127.0.0.1:0", grab_rate_per_s=10_000.0))
    thread = threading.Thread(target=app.run, name="broker", daemon=True)
    thread.start()
    assert app.server.ready.wait(10) and not app.server.stopped.is_set()
    handle = BrokerHandle(app.server, thread)
    yield handle, app.server.metrics_http.url
    if thread.is_alive():
        handle.stop()


def get(url: str, timeout_s: float = 5.0) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=timeout_s) as reply:
            return reply.status, reply.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def scrape(base: str) -> dict[tuple[str, tuple], float]:
    status, text = get(base + "/metrics")
    assert status == 200
    out = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            out[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return out


def total(samples: dict, name: str, **labels) -> float:
    wanted = set(labels.items())
    return sum(v for (n, lab), v in samples.items() if n == name and wanted <= set(lab))


def test_scrape_under_load_agrees_with_the_floor_events(metered):
    broker, base = metered
    agents = [agent_spec(f"a{i}", skills=SKILLS, group="g1" if i % 2 else "g2") for i in range(8)]
    broker.define(groups=("g1", "g2"), agents=agents)
    broker.online(*(a.id for a in agents))
    _supervisor, mirror = broker.follow("sup")
    inquiries = [p.NewInquiry(id=f"q{i}", shop="s1", skill=SKILLS[i % 2]) for i in range(150)]
    broker.submit(*inquiries)
    clients = {a.id: broker.client("agent", a.id) for a in agents}
    scrapes: list[int] = []
    stop_scraping = threading.Event()

    def scraper():
        while not stop_scraping.is_set():
            scrapes.append(len(scrape(base)))

    scraping = threading.Thread(target=scraper, daemon=True)
    scraping.start()
    # every agent tries every 3rd inquiry: wins, losses (already taken) and refusals (at cap)
    futures = [clients[a.id].request(p.Grab, grab_id=f"{a.id}-{q.id}", inquiry=q.id)
               for n, q in enumerate(inquiries) for a in agents[n % 3::3]]
    verdicts = [f.result(30) for f in futures]
    stop_scraping.set()
    scraping.join(10)
    assert len(scrapes) >= 2, "the scraper never got through while grabs were decided"
    outcomes = {v.outcome for v in verdicts}
    assert {"won", "refused"} <= outcomes

    def agrees() -> bool:
        m = mirror.metrics
        if m is None:
            return False
        s = scrape(base)
        grabs = total(s, "grabdesk_grabs_total")
        depth = {skill: total(s, "grabdesk_queue_depth", skill=skill) for skill in SKILLS}
        return (m.grabs_total == len(verdicts) == grabs
                and depth == {skill: m.queue_by_skill.get(skill, 0) for skill in SKILLS})

    wait_until(agrees, 10, 0.1, "the scrape and the metrics.floor events never agreed")
    s = scrape(base)
    won = sum(v.outcome == "won" for v in verdicts)
    assert total(s, "grabdesk_grabs_total", outcome="won") == won
    # the queue the scrape shows is what the grabs left: 150 submitted, ``won`` taken
    assert sum(total(s, "grabdesk_queue_depth", skill=k) for k in SKILLS) == 150 - won
    assert total(s, "grabdesk_agents", state="online") == 8
    assert total(s, "grabdesk_agents", group="g1", state="at_cap") + \
        total(s, "grabdesk_agents", group="g2", state="at_cap") == mirror.metrics.agents_at_cap
    assert total(s, "grabdesk_connected_clients", role="agent") == 8
    assert total(s, "grabdesk_verdict_latency_seconds_count") == len(verdicts)
    assert total(s, "grabdesk_commit_latency_seconds_count") >= 1
    assert total(s, "grabdesk_store_bytes") > 0
    by_code = {lab: v for (n, lab), v in s.items() if n == "grabdesk_grabs_total" and ("outcome", "refused") in lab}
    assert by_code and all(dict(lab)["code"] != "none" for lab in by_code)


def test_malformed_http_requests_do_not_disturb_the_broker(metered):
    broker, base = metered
    broker.define(agents=[agent_spec("a1")])
    broker.online("a1")
    agent = broker.client("agent", "a1")
    port = int(base.rsplit(":", 1)[1])
    idle = socket.create_connection(("127.0.0.1", port))  # connects and never sends a byte
    try:
        for junk in (b"\x00\xff" * 2000 + b"\r\n\r\n", b"GET /" + b"a" * 70_000 + b" HTTP/1.1\r\n\r\n",
                     b"NOT-HTTP at all\r\n\r\n", b"GET /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n"):
            with socket.create_connection(("127.0.0.1", port), timeout=5) as raw:
                raw.sendall(junk)
                raw.shutdown(socket.SHUT_WR)
                while raw.recv(65536):  # whatever it answers, it answers and closes
                    pass
        assert get(base + "/nowhere")[0] == 404
        # the broker still decides, and the exporter still serves
        broker.submit(p.NewInquiry(id="q1", shop="s1", skill="pre_sales"))
        assert agent.call(p.Grab, grab_id="g1", inquiry="q1").outcome == "won"
        wait_until(lambda: total(scrape(base), "grabdesk_grabs_total", outcome="won") == 1, 5, 0.05)
        assert get(base + "/healthz")[0] == 200
    finally:
        idle.close()


def test_healthz_reports_a_stalled_loop(metered):
    broker, base = metered
    wait_until(lambda: get(base + "/healthz")[0] == 200, 5, 0.05, "never healthy")
    release = threading.Event()
    stalled = threading.Event()

    def stall(_now):  # a periodic job that blocks the loop, as a hung disk would
        stalled.set()
        release.wait(20)

    broker.server.periodic.append([0.0, stall, 0.0])
    try:
        assert stalled.wait(5)
        wait_until(lambda: get(base + "/healthz")[0] == 503, 15, 0.1, "a stalled loop stayed healthy")
        status, body = get(base + "/healthz")
        assert '"loop_lag_s"' in body and "late" in body
    finally:
        broker.server.periodic.pop()
        release.set()
    wait_until(lambda: get(base + "/healthz")[0] == 200, 10, 0.1, "never healthy again")


def test_metrics_are_off_unless_asked(broker):
    assert broker.server.figures is None
    assert getattr(broker.server, "metrics_http", None) is None


def test_a_metrics_port_in_use_is_a_start_up_mistake(tmp_path):
    import subprocess
    import sys

    holder = socket.socket()
    holder.bind(("127.0.0.1", 0))
    holder.listen()
    port = holder.getsockname()[1]
    try:
        result = subprocess.run([sys.executable, "-m", "grabdesk", "broker", "--db", str(tmp_path / "b.db"),
                                 "--command-endpoint", "tcp://127.0.0.1:0", "--events-endpoint",
                                 "tcp://127.0.0.1:0", "--metrics-endpoint", str(port)],
                                capture_output=True, text=True, timeout=60)
    finally:
        holder.close()
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    assert f"port {port} is already in use" in result.stderr and "metrics" in result.stderr


def test_the_grafana_dashboard_uses_only_exported_metrics(metered):
    import json
    import re
    from pathlib import Path

    broker, base = metered
    broker.define(agents=[agent_spec("a1")])
    broker.online("a1")
    broker.submit(p.NewInquiry(id="q1", shop="s1", skill="pre_sales"), p.NewInquiry(id="q2", shop="s1",
                                                                                  skill="pre_sales"))
    assert broker.client("agent", "a1").call(p.Grab, grab_id="g1", inquiry="q1").outcome == "won"
    with pytest.raises(BrokerRefused):
        broker.admin.call(p.SetStatus, status="online", agent="nobody")  # refused: not found
    wait_until(lambda: total(scrape(base), "grabdesk_queue_depth") == 1, 5, 0.05)
    exported = {name for name, _labels in scrape(base)}
    dashboard = Path(__file__).resolve().parents[1] / "assets" / "grafana" / "grabdesk-broker.json"
    exprs = [t["expr"] for panel in json.loads(dashboard.read_text())["panels"] for t in panel.get("targets", [])]
    used = {name for expr in exprs for name in re.findall(r"grabdesk_[a-z_]+", expr)}
    assert used and used <= exported, used - exported


def grabdesk_status(*args: str) -> "subprocess.CompletedProcess":
    import subprocess
    import sys

    return subprocess.run([sys.executable, "-m", "grabdesk", "status", *args], capture_output=True, text=True,
                          timeout=60)


def test_status_answers_for_probes(metered, tmp_path):
    import json

    broker, base = metered
    broker.define()  # one commit, so there is a last commit to report
    endpoint = base.removeprefix("http://")
    wait_until(lambda: get(base + "/healthz")[0] == 200 and '"last_commit_age_s": null' not in get(base + "/healthz")[1],
               5, 0.05)
    healthy = grabdesk_status("--metrics-endpoint", endpoint)
    assert healthy.returncode == 0, healthy.stdout + healthy.stderr
    assert healthy.stdout.startswith("ok, serving, loop lag")
    answer = json.loads(grabdesk_status("--metrics-endpoint", endpoint, "--json").stdout)
    assert answer["status"] == "ok" and answer["last_commit_age_s"] is not None
    # without a metrics endpoint the heartbeat still proves the loop turns
    beat = grabdesk_status("--events-endpoint", broker.server.events_endpoint)
    assert beat.returncode == 0 and "heartbeat only" in beat.stdout
    # a stalled loop is unhealthy for a probe
    release = threading.Event()

    def stall(_now):
        release.wait(20)

    broker.server.periodic.append([0.0, stall, 0.0])
    try:
        stalled = grabdesk_status("--metrics-endpoint", endpoint, "--wait-s", "0")
        wait_until(lambda: grabdesk_status("--metrics-endpoint", endpoint).returncode == 1, 15, 0.2,
                   "a stalled loop passed the probe")
    finally:
        broker.server.periodic.pop()
        release.set()
    assert stalled.returncode in (0, 1)
    # a readiness gate waits until healthy again
    assert grabdesk_status("--metrics-endpoint", endpoint, "--wait-s", "15").returncode == 0


def test_status_of_a_broker_that_is_not_there():
    holder = socket.socket()
    holder.bind(("127.0.0.1", 0))
    port = holder.getsockname()[1]
    holder.close()  # a port nobody listens on
    down = grabdesk_status("--metrics-endpoint", f"127.0.0.1:{port}", "--timeout-s", "1")
    assert down.returncode == 1 and down.stdout.startswith("unreachable"), down.stdout
    silent = grabdesk_status("--events-endpoint", f"tcp://127.0.0.1:{port}", "--timeout-s", "0.5")
    assert silent.returncode == 1 and "no heartbeat" in silent.stdout
    usage = grabdesk_status("--metrics-endpoint", "nowhere:port")
    assert usage.returncode == 2 and "Traceback" not in usage.stderr
