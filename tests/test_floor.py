"""Floor metrics on a scripted sequence with a fake clock equal hand-computed values."""
import csv

import msgspec
import pytest

from broker.wire import protocol as p
from broker.service.server import BrokerServer
from broker.service.store import SqliteStore

from helpers import FakeClock, agent_spec, loopback_config, wait_until


@pytest.fixture
def floor(tmp_path):
    clock = FakeClock(1_795_000_000.0)
    server = BrokerServer(loopback_config(tmp_path), clock)
    core = server.core
    core.define_shop(p.ShopRecord(id="s1", sla=p.SlaPolicy(first_response_s=60, resolution_s=300)))
    core.define_group(p.GroupRecord(id="g"))
    for agent in ("a1", "a2", "a3"):
        core.define_agent(agent_spec(agent, group="g"))
        core.set_status(agent, "online", agent)
    yield server, core, clock
    server.store.close()


def _latest(core, kind):
    events = [msgspec.msgpack.decode(e.raw, type=p.Event) for e in core.drain().events]
    return [e.record for e in events if e.kind == kind][-1]


def test_scripted_floor_matches_hand_computed_figures(floor):
    server, core, clock = floor
    t0 = clock.now
    for i in range(4):
        core.submit(p.NewInquiry(id=f"q{i}", shop="s1", skill="pre_sales"))
    clock.advance(10)                       # q0 grabbed after 10 s
    assert core.grab("a1", "q0", "g0").outcome == "won"
    clock.advance(20)                       # q1 grabbed after 30 s
    assert core.grab("a1", "q1", "g1").outcome == "won"
    clock.advance(10)                       # t = 40: q0 answered at 40 s, within the 60 s SLA
    core.respond("a1", "q0")
    clock.advance(40)                       # t = 80: q1 answered at 80 s: first-response SLA missed
    core.respond("a1", "q1")
    clock.advance(20)                       # t = 100: q0 resolved (100 s, within 300 s), satisfaction 5
    core.resolve("a1", "q0", 5)
    clock.advance(300)                      # t = 400: q1 resolved (400 s: resolution SLA missed)
    core.resolve("a1", "q1", 3)
    core.abandon("q2")                      # q2 abandoned unanswered after 400 s: FRT missed
    server.floor.publish_metrics(clock.now)
    m = _latest(core, "metrics.floor")

    assert m.queue_by_skill == {"pre_sales": 1}
    assert m.longest_wait == {"pre_sales": ("q3", 400.0)}
    assert m.resolved_today == 2 and m.abandoned_today == 1
    # first response: q0 met, q1 missed, q2 (abandoned unanswered) missed -> 1/3
    assert m.sla_attainment["first_response.hour"] == pytest.approx(1 / 3)
    assert m.sla_attainment["first_response.today"] == pytest.approx(1 / 3)
    # resolution: q0 met, q1 missed -> 1/2
    assert m.sla_attainment["resolution.today"] == pytest.approx(0.5)
    # time to grab 10 s and 30 s: median 20, p90 28 (linear interpolation)
    assert m.times_s["time_to_grab"] == pytest.approx((20.0, 28.0))
    assert m.times_s["first_response"] == pytest.approx((60.0, 76.0))
    assert m.times_s["resolution"] == pytest.approx((250.0, 370.0))
    assert m.agents_online == 3 and m.held_total == 0
    # grabs today 2, 0, 0: Gini = (2*(1*0+2*0+3*2))/(3*2) - 4/3 = 2/3
    assert m.gini_by_group["g"] == pytest.approx(2 / 3, abs=1e-3)
    assert m.at == t0 + 400


def test_report_writes_hourly_and_agent_csv(floor, tmp_path):
    server, core, clock = floor
    core.submit(p.NewInquiry(id="q1", shop="s1", skill="pre_sales"))
    clock.advance(5)
    core.grab("a2", "q1", "g")
    clock.advance(55)
    core.resolve("a2", "q1", 4)
    server.store.write(core.drain())
    server.store.close()
    from grabdesk.cli import main

    out = tmp_path / "report"
    assert main(["report", "--db", str(server.db_path), "--since", "2026-11-01T00:00",
                 "--until", "2026-12-31T00:00", "--out", str(out)]) == 0
    [row] = list(csv.DictReader(open(out / "agents.csv")))
    assert (row["agent"], row["skill"], row["resolved"]) == ("a2", "pre_sales", "1")
    assert float(row["resolution_p50_s"]) == 60.0 and float(row["satisfaction_avg"]) == 4.0
    [hour] = list(csv.DictReader(open(out / "hourly.csv")))
    assert (hour["arrivals"], hour["resolved"], hour["time_to_grab_p50_s"]) == ("1", "1", "5.0")
    server.store = SqliteStore(tmp_path / "unused.db")  # the fixture closes a store


def test_report_defaults_to_the_day_before_the_brokers_clock_not_the_wall(floor, tmp_path):
    """A store kept on a broker clock weeks away from the wall (a scaled or replayed
    floor) still reports its last day when no period is given."""
    server, core, clock = floor
    core.submit(p.NewInquiry(id="q1", shop="s1", skill="pre_sales"))
    clock.advance(5)
    core.grab("a2", "q1", "g")
    clock.advance(3600)
    server.store.write(core.drain())
    assert server.store.floor_now() == pytest.approx(clock.now)
    server.store.close()
    from grabdesk.cli import main

    out = tmp_path / "report"
    assert main(["report", "--db", str(server.db_path), "--out", str(out)]) == 0
    [hour] = list(csv.DictReader(open(out / "hourly.csv")))
    assert hour["arrivals"] == "1"
    server.store = SqliteStore(tmp_path / "unused.db")  # the fixture closes a store


def test_report_without_a_store_says_so(tmp_path, capsys):
    from grabdesk.cli import main

    assert main(["report", "--db", str(tmp_path / "nothing.db")]) == 2
    assert "no broker store" in capsys.readouterr().err


def test_the_metrics_job_runs_in_slices_and_publishes_what_a_whole_run_does(floor):
    """Each step of the broker's periodic metrics job is one bounded slice; stepping
    through them publishes the same figures as computing them at once."""
    from broker.service.floor import AGENTS_PER_SLICE

    server, core, clock = floor
    for i in range(2 * AGENTS_PER_SLICE):
        core.define_agent(agent_spec(f"b{i}", group="g"))
        core.set_status(f"b{i}", "online", f"b{i}")
    core.submit(p.NewInquiry(id="q1", shop="s1", skill="pre_sales"))
    clock.advance(7)
    core.drain()
    server.floor.publish_metrics(clock.now)
    whole = _latest(core, "metrics.floor")
    server.floor.stats._times_at = float("-inf")  # recompute the medians in the sliced run too
    steps = sum(1 for _ in server.floor.metrics_slices(clock.now))
    assert steps >= 3  # the agents alone take two slices
    assert _latest(core, "metrics.floor") == whole
    assert whole.agents_online == 3 + 2 * AGENTS_PER_SLICE
    assert whole.longest_wait == {"pre_sales": ("q1", 7.0)}


def test_a_running_broker_reports_its_loop_turns_in_the_metrics(broker):
    client, mirror = broker.follow("sup")
    wait_until(lambda: broker.server.service.latest_metrics is not None
               and broker.server.service.latest_metrics.loop_max_turn_ms > 0, 10,
               message="no metrics with the loop's longest turn")
    metrics = broker.server.service.latest_metrics
    assert metrics.loop_max_turn_cpu_ms <= metrics.loop_max_turn_ms + 1.0
    assert 0 < metrics.loop_max_periodic_cpu_ms <= metrics.loop_max_turn_cpu_ms, "periodic work is part of a turn"
