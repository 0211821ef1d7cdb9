"""The policy lab: deterministic, the core's own decisions, queueing theory, replay, bad input."""
from __future__ import annotations

import json
import math
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from broker.arbiter import rules
from broker.staffing.erlang import average_speed_of_answer_s, erlang_c, traffic_erlangs
from broker.wire import protocol as p
from tools.lab.engine import LabRun
from tools.lab.figures import figures
from tools.lab.policy import BUILT_IN, Policy, PolicyError, load_policy_file, parse_policy_option
from tools.lab.trace import DEMO_PROFILE, DEMO_ROSTER, Trace, TraceError, from_profile, from_store
from tools.simulate.personas import Persona
from tools.simulate.plan import Arrival

from helpers import agent_spec, wait_until

ROOT = Path(__file__).resolve().parent.parent
SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.fixture(scope="module")
def evening() -> Trace:
    """Three hours of a Double-11 evening at 3x on the demo floor: small, busy, quick."""
    return from_profile(DEMO_PROFILE, DEMO_ROSTER, seed=3, surge=3.0,
                        start=datetime(2026, 11, 11, 19, tzinfo=SHANGHAI), hours=3)


def run(trace: Trace, policy: Policy, seed: int = 3) -> dict:
    out = figures(LabRun(trace, policy, seed).run())
    out.pop("sim_wall_s")
    return out


def test_a_run_repeats_exactly_for_a_seed(evening):
    first = run(evening, BUILT_IN["hybrid"])
    assert first == run(evening, BUILT_IN["hybrid"])
    assert first["arrivals"] == len(evening.arrivals) > 500
    assert first["grabs_won"] > 100 and 0 < first["assisted_pct"] < 100
    assert run(evening, BUILT_IN["hybrid"], seed=4) != first  # other people, other day


def test_the_lab_decides_with_the_cores_own_rules(evening, monkeypatch):
    """Change a rule in the core and the lab's result changes: nothing in the lab restates it."""
    before = run(evening, BUILT_IN["grab"])
    assert before["grabs_won"] > 100
    monkeypatch.setattr(rules, "at_cap", lambda agent: True)  # the core now refuses every grab
    after = run(evening, BUILT_IN["grab"])
    assert after["grabs_won"] == 0 and after["grabs_refused"] > 0
    assert after["first_response_10min_pct"] == 0.0


def test_policies_reach_the_core(evening):
    push = run(evening, BUILT_IN["push"])
    grab = run(evening, BUILT_IN["grab"])
    assert push["assisted_pct"] == 100.0 and push["grabs_won"] == 0
    assert grab["assisted_pct"] == 0.0


def _erlang_floor(agents: int, arrivals_per_hour: float, aht_s: float, hours: float, seed: int) -> Trace:
    """Single skill, Poisson arrivals, exponential handling, nobody leaves, one inquiry per agent."""
    rng = random.Random(seed)
    start = datetime(2026, 11, 2, tzinfo=SHANGHAI).timestamp()
    arrivals, t, n = [], start, 0
    while True:
        t += rng.expovariate(arrivals_per_hour / 3600.0)
        if t >= start + hours * 3600.0:
            break
        n += 1
        arrivals.append(Arrival(seq=n, at=t, skill="x", shop="s", channel="chat", language="zh", priority=0,
                                customer="", patience_s=1e12))
    ids = [f"e{i:02d}" for i in range(agents)]
    personas = {i: Persona(i, "ideal", 0.0, 0.0, 1.0, 0.0, 0.0, (0, 0, 0, 0, 1), 1,
                           handling_shape="exponential") for i in ids}
    quotas = p.Quotas(concurrent_cap=1, daily_grabs=100_000, continuous_hours=24.0, break_minutes=1.0)
    return Trace("erlang", start, start + hours * 3600.0, "Asia/Shanghai", arrivals, [p.ShopRecord(id="s")],
                 [p.GroupRecord(id="g", quotas=quotas)],
                 [p.AgentSpec(id=i, group="g", skills={"x": 3}, quality=95.0) for i in ids], None,
                 aht_s={"x": aht_s}, personas=personas)


def test_waits_agree_with_erlang_c_where_queueing_theory_applies():
    agents, per_hour, aht_s = 6, 57.6, 300.0  # 4.8 erlangs on 6 servers: 80 % busy
    waits = []
    for seed in (1, 2):
        trace = _erlang_floor(agents, per_hour, aht_s, hours=150, seed=seed)
        outcome = LabRun(trace, BUILT_IN["push"], seed).run()
        waits += [first - arrived for arrived, first, *_ in outcome.inquiries.values() if first is not None]
    assert len(waits) > 15_000
    mean_wait = sum(waits) / len(waits)
    waited = sum(1 for w in waits if w > 1e-9) / len(waits)
    expected_wait = average_speed_of_answer_s(per_hour, aht_s, agents)
    expected_waited = erlang_c(traffic_erlangs(per_hour, aht_s), agents)
    # statistical tolerance: a few standard errors of 300 busy hours of an 80 %-busy queue
    assert abs(mean_wait - expected_wait) / expected_wait < 0.15, (mean_wait, expected_wait)
    assert abs(waited - expected_waited) < 0.04, (waited, expected_waited)


def test_replaying_a_recorded_store_gives_its_arrivals(start_broker):
    broker = start_broker()
    broker.define(shops=("s1", "s2"), agents=[agent_spec("a1", skills=("pre_sales", "complaint"))])
    now = time.time()
    sent = [p.NewInquiry(id=f"q{i}", shop=("s1", "s2")[i % 2], skill=("pre_sales", "complaint")[i % 3 == 0],
                         language=("zh", "en")[i % 2], channel=("chat", "phone", "email")[i % 3], priority=i % 3,
                         customer=f"c{i}", arrived_at=now - 600 + i * 7.5) for i in range(40)]
    assert broker.submit(*sent).accepted == 40
    broker.admin.call(p.Abandon, inquiry="q5")
    db = Path(broker.server.config.broker.db)
    broker.stop()
    trace = from_store(db)
    got = [(a.at, a.shop, a.skill, a.language, a.channel, a.priority, a.customer) for a in trace.arrivals]
    want = [(i.arrived_at, i.shop, i.skill, i.language, i.channel, i.priority, i.customer) for i in sent]
    assert got == want
    left = next(a for a in trace.arrivals if a.customer == "c5")
    assert 0 < left.patience_s < 3600  # the patience the customer showed: from arrival to leaving
    assert [a.id for a in trace.agents] == ["a1"] and {s.id for s in trace.shops} == {"s1", "s2"}
    # a period with nothing in it is refused
    with pytest.raises(TraceError, match="no arrivals"):
        from_store(db, since=now + 3600)


def test_a_file_that_is_not_a_store_is_refused(tmp_path):
    other = tmp_path / "other.db"
    sqlite3.connect(other).execute("CREATE TABLE t (x)").connection.commit()
    with pytest.raises(TraceError, match="not a grabdesk store"):
        from_store(other)
    text = tmp_path / "notes.txt"
    text.write_text("hello\n" * 100)
    with pytest.raises(TraceError, match="not a grabdesk store"):
        from_store(text)


def test_policy_options_and_files(tmp_path):
    assert parse_policy_option("grab") == BUILT_IN["grab"]
    h20 = parse_policy_option("h20:mode=hybrid,hybrid_after_s=20,fair_share=off")
    assert (h20.mode, h20.hybrid_after_s, h20.fair_share) == ("hybrid", 20.0, False)
    assert parse_policy_option("p:base=push,concurrent_cap=3").mode == "assign"
    for bad, why in (("nosuch", "not a built-in"), ("x:colour=red", "unknown policy key"),
                     ("x:hybrid_after_s=-1", "between"), ("x:mode=fast", "one of"), ("x:fair_share=maybe", "true")):
        with pytest.raises(PolicyError, match=why):
            parse_policy_option(bad)
    good = tmp_path / "p.toml"
    good.write_text('[h10]\nmode = "hybrid"\nhybrid_after_s = 10\n[fair]\nbase = "grab"\nfair_share = true\n')
    assert [q.name for q in load_policy_file(good)] == ["h10", "fair"]
    broken = tmp_path / "broken.toml"
    broken.write_text("[h10\nmode = ")
    with pytest.raises(PolicyError, match="not valid TOML"):
        load_policy_file(broken)


def lab(*args: str, **kwargs) -> subprocess.CompletedProcess:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    return subprocess.run([sys.executable, "-m", "grabdesk", "lab", *args], capture_output=True, text=True,
                          timeout=300, cwd=ROOT, env=env, **kwargs)


SMALL = ("--profile", str(DEMO_PROFILE), "--roster", str(DEMO_ROSTER), "--hours", "2", "--start",
         "2026-11-11T20:00", "--seed", "2")


def test_the_command_prints_one_json_object_and_writes_a_report(tmp_path):
    report = tmp_path / "out"
    proc = lab(*SMALL, "--policy", "grab", "--policy", "h15:mode=hybrid,hybrid_after_s=15", "--json",
               "--report", str(report))
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    assert result["arrivals"] > 0 and result["wall_s"] > 0
    assert list(result["policies"]) == ["grab", "h15"]
    for figures_ in result["policies"].values():
        for key in ("first_response_10min_pct", "resolved_20min_pct", "abandoned_pct", "gini",
                    "p90_first_response_s", "assisted_pct"):
            assert key in figures_
    assert sorted(f.name for f in report.iterdir()) == [
        "first_response_per_hour.png", "hourly.csv", "lab.json", "queue_per_hour.png", "summary.csv"]
    assert (report / "queue_per_hour.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize("args, why", [
    (("--policies", "MISSING"), "cannot read policy file"),
    (("--policy", "x:speed=3"), "unknown policy key"),
    (("--from-store", "NOTADB"), "not a grabdesk store"),
    (("--profile", str(DEMO_PROFILE)), "go together"),
    (("--since", "2026-11-11T19:00"), "--from-store"),
    (("--hours", "1e9"), "at most"),
])
def test_bad_input_is_one_sentence_exit_2_and_nothing_written(tmp_path, args, why):
    (tmp_path / "NOTADB").write_text("not a database")
    report = tmp_path / "out"
    args = tuple(str(tmp_path / a) if a in ("MISSING", "NOTADB") else a for a in args)
    proc = lab(*args, "--report", str(report))
    assert proc.returncode == 2, proc.stderr
    assert why in proc.stderr and proc.stderr.count("\n") == 1, proc.stderr
    assert not report.exists() and proc.stdout == ""


def test_ctrl_c_stops_every_run_and_says_how_far_it_got(tmp_path):
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    proc = subprocess.Popen([sys.executable, "-m", "grabdesk", "lab", "--report", str(tmp_path / "out")],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT, env=env,
                            # a suite started in the background (`cmd &`) ignores SIGINT, and a
                            # child inherits that: give the lab the Ctrl-C a terminal would
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    try:
        line = proc.stderr.readline()  # the run has started
        assert "arrivals" in line, line
        # the first progress line: the workers are under way, so the interrupt lands mid-run
        progress = proc.stderr.readline()
        assert " at " in progress, progress
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 130, err
    assert "interrupted" in err and "nothing written" in err and "grab" in err
    assert out == "" and not (tmp_path / "out").exists()
