"""The floor's alerts: queued work that nobody online may take is raised well before its SLA."""
import msgspec
import pytest

from broker.service.floor import UNCOVERED_ALERT_AFTER_S, UNCOVERED_CHECK_EVERY_S
from broker.service.server import BrokerServer
from broker.wire import protocol as p

from helpers import FakeClock, agent_spec, loopback_config


@pytest.fixture
def floor(tmp_path):
    clock = FakeClock(1_795_000_000.0)
    server = BrokerServer(loopback_config(tmp_path), clock)
    core = server.core
    core.define_shop(p.ShopRecord(id="s1"))
    core.define_agent(agent_spec("a1", group="g"))  # speaks zh only
    core.set_status("a1", "online", "a1")
    yield server, core, clock
    server.store.close()


def _alerts(core) -> list[p.Alert]:
    events = [msgspec.msgpack.decode(e.raw, type=p.Event) for e in core.drain().events]
    return [e.record for e in events if e.kind == "alert.no_eligible_agent"]


def _tick_for(server, clock, seconds: float) -> None:
    for _ in range(int(seconds / UNCOVERED_CHECK_EVERY_S) + 1):
        server.floor.publish_metrics(clock.now)
        clock.advance(UNCOVERED_CHECK_EVERY_S)


def test_a_language_nobody_online_speaks_is_alerted_before_the_sla(floor):
    server, core, clock = floor
    core.submit(p.NewInquiry(id="q-ja", shop="s1", skill="pre_sales", language="ja"))
    core.submit(p.NewInquiry(id="q-zh", shop="s1", skill="pre_sales", language="zh"))
    core.drain()
    _tick_for(server, clock, UNCOVERED_ALERT_AFTER_S)
    alerts = _alerts(core)
    assert len(alerts) == 1, "one alert for the Japanese need, none for the Chinese one a1 covers"
    alert = alerts[0]
    assert alert.severity == "critical" and alert.skill == "pre_sales"
    assert alert.key == "no_eligible_agent"
    assert alert.params["language"] == "ja" and alert.params["queued"] == 1
    assert "no online agent may take them" in alert.text
    assert clock.now - core.inquiries["q-ja"].arrived_at < core.config.default_sla.first_response_s
    _tick_for(server, clock, 60)
    assert _alerts(core) == [], "not repeated every check"


def test_no_alert_when_someone_online_covers_it_in_time(floor):
    server, core, clock = floor
    core.define_agent(agent_spec("a2", group="g", languages=["ja"]))
    core.submit(p.NewInquiry(id="q-ja", shop="s1", skill="pre_sales", language="ja"))
    server.floor.publish_metrics(clock.now)
    clock.advance(UNCOVERED_ALERT_AFTER_S / 2)
    core.set_status("a2", "online", "a2")  # logs in before the alert is due
    _tick_for(server, clock, UNCOVERED_ALERT_AFTER_S * 2)
    assert _alerts(core) == []
    core.check_invariants()


def test_coverage_now_follows_agents_coming_online_without_waiting_a_minute(floor, monkeypatch):
    from broker.service import floor as floor_module
    from broker.staffing.roster import parse_roster

    server, core, clock = floor
    monkeypatch.setattr(floor_module, "COVERAGE_NOW_EVERY_S", 0.0)
    core.define_agent(agent_spec("a2", group="g"))
    server.floor.roster = parse_roster("agent_id,days,start,end,tz,skills\n"
                                       "a1,Mon-Sun,00:00,00:00,UTC,pre_sales\n"
                                       "a2,Mon-Sun,00:00,00:00,UTC,pre_sales\n", "csv")
    server.floor.publish_metrics(clock.now)
    before = {c.skill: c.online for c in server.service.latest_coverage.now}
    assert before == {"pre_sales": 1}
    clock.advance(1)
    core.set_status("a2", "online", "a2")
    server.floor.publish_metrics(clock.now)
    after = {c.skill: c.online for c in server.service.latest_coverage.now}
    assert after == {"pre_sales": 2}, "the header's online count and coverage agree within a tick"

