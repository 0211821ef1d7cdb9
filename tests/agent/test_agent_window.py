"""The agent window against a real broker on loopback (offscreen)."""
from __future__ import annotations

import pytest
from PySide6.QtCore import QSettings, Qt
from PySide6.QtTest import QTest

from broker.wire import protocol as p

from helpers import FakeClock, agent_spec
from agent_helpers import DEADLINE_MS, submit

pytestmark = pytest.mark.usefixtures("isolated_settings")


def press_grab(window) -> None:
    QTest.keyClick(window.pool_panel.view, Qt.Key.Key_Space)


def grabs_of(broker, inquiry_id: str) -> list[p.GrabAttempt]:
    return broker.admin.call(p.QueryGrabs, inquiry=inquiry_id).attempts


def floor(broker, *agents: p.AgentSpec) -> None:
    broker.define(agents=list(agents))
    broker.online(*(a.id for a in agents))


def test_two_windows_race_one_wins_the_other_is_told_who(broker, open_window, qtbot):
    floor(broker, agent_spec("a1", name="Alice"), agent_spec("a2", name="Bob"))
    w1, w2 = open_window(broker, "a1"), open_window(broker, "a2")
    submit(broker, "q1")
    qtbot.waitUntil(lambda: "q1" in w1.desk.pool and "q1" in w2.desk.pool, timeout=DEADLINE_MS)
    shown = []
    w1.verdict_shown.connect(lambda v: shown.append(("a1", v)))
    w2.verdict_shown.connect(lambda v: shown.append(("a2", v)))
    press_grab(w1)
    press_grab(w2)
    qtbot.waitUntil(lambda: len(shown) == 2, timeout=DEADLINE_MS)
    outcomes = {who: v.outcome for who, v in shown}
    assert sorted(outcomes.values()) == ["lost", "won"]
    winner_id = next(who for who, o in outcomes.items() if o == "won")
    winner, loser = (w1, w2) if winner_id == "a1" else (w2, w1)
    assert "Won" in winner.banner.text()
    winner_name = "Alice" if winner_id == "a1" else "Bob"
    assert "Lost" in loser.banner.text() and winner_name in loser.banner.text()
    assert loser.desk.verdict.winner == winner_id
    qtbot.waitUntil(lambda: winner.desk.mine.rows == ["q1"] and not loser.desk.pool.rows,
                    timeout=DEADLINE_MS)
    assert len(grabs_of(broker, "q1")) == 2


def _refused_by(window, qtbot, code: str):
    shown = []
    window.verdict_shown.connect(shown.append)
    press_grab(window)
    qtbot.waitUntil(lambda: bool(shown), timeout=DEADLINE_MS)
    verdict = shown[-1]
    assert verdict.outcome == "refused" and verdict.code == code, verdict
    assert window.banner.text().startswith(window.banner.refusal_words(code))
    assert verdict.reason in window.banner.text()
    return verdict


def test_concurrent_cap_refusal_is_explained(broker, open_window, qtbot):
    floor(broker, agent_spec("a1"))
    broker.admin.call(p.SetQuotas, agent="a1", quotas=p.Quotas(concurrent_cap=1))
    w = open_window(broker, "a1")
    submit(broker, "q1", "q2")
    qtbot.waitUntil(lambda: w.desk.pool.rows == ["q1", "q2"], timeout=DEADLINE_MS)
    w.grab_oldest()
    qtbot.waitUntil(lambda: w.desk.mine.rows == ["q1"] and w.desk.me.held == 1, timeout=DEADLINE_MS)
    assert w.me_panel.held_label.text() == "Held 1 / 1"
    _refused_by(w, qtbot, "quota-concurrent")
    assert "concurrent cap" in w.banner.text()


def test_daily_quota_refusal_is_explained(broker, open_window, qtbot):
    floor(broker, agent_spec("a1"))
    broker.admin.call(p.SetQuotas, agent="a1", quotas=p.Quotas(daily_grabs=1))
    w = open_window(broker, "a1")
    submit(broker, "q1", "q2")
    qtbot.waitUntil(lambda: len(w.desk.pool) == 2, timeout=DEADLINE_MS)
    w.grab_oldest()
    qtbot.waitUntil(lambda: w.desk.me.grabs_today == 1 and len(w.desk.pool) == 1, timeout=DEADLINE_MS)
    assert w.me_panel.grabs_label.text() == "Today 1 / 1"
    _refused_by(w, qtbot, "quota-daily")


def test_continuous_hours_refusal_and_forced_break(start_broker, open_window, qtbot):
    clock = FakeClock()
    # agents are never timed out here: the fake clock jumps hours at once
    broker = start_broker(clock=clock, agent_timeout_s=10 * 86400.0)
    broker.define()
    floor(broker, agent_spec("a1", quotas=p.Quotas(continuous_hours=1.0, break_minutes=15.0)))
    w = open_window(broker, "a1")
    qtbot.waitUntil(lambda: w.desk.me.service_since is not None, timeout=DEADLINE_MS)
    assert w.me_panel.service_label.text().endswith("/ 1:00:00")
    clock.advance(3600.0 + 1)
    qtbot.waitUntil(lambda: w.desk.me.forced_break, timeout=DEADLINE_MS)
    assert w.me_panel.break_label.isVisible() and "Forced break until" in w.me_panel.break_label.text()
    assert w.me_panel.status_combo.currentData() == "break"
    submit(broker, "q1")
    qtbot.waitUntil(lambda: "q1" in w.desk.pool, timeout=DEADLINE_MS)
    verdict = _refused_by(w, qtbot, "quota-hours")
    assert "forced break" in verdict.reason


def test_an_inquiry_i_may_not_take_never_enters_my_pool(broker, open_window, qtbot):
    floor(broker, agent_spec("a1", skills=("pre_sales",), languages=("zh",)))
    w = open_window(broker, "a1")
    ever_seen: set[str] = set()

    def record_rows(_parent, first, last):
        ever_seen.update(w.pool_panel.model.inquiry_at(r).id for r in range(first, last + 1))

    w.pool_panel.model.rowsInserted.connect(record_rows)
    submit(broker, "other-skill", skill="after_sales")
    submit(broker, "other-language", language="en")
    submit(broker, "fits")
    qtbot.waitUntil(lambda: "fits" in w.desk.pool, timeout=DEADLINE_MS)
    assert {"other-skill", "other-language"} <= set(w.link.mirror.inquiries)
    assert ever_seen == {"fits"}
    assert w.desk.pool.rows == ["fits"]


def test_a_double_press_sends_one_grab(broker, open_window, qtbot):
    floor(broker, agent_spec("a1"))
    w = open_window(broker, "a1")
    submit(broker, "q1", "q2")
    qtbot.waitUntil(lambda: len(w.desk.pool) == 2, timeout=DEADLINE_MS)
    shown = []
    w.verdict_shown.connect(shown.append)
    press_grab(w)
    assert not w.pool_panel.grab_button.isEnabled(), "grabbing stays disabled while a grab is in flight"
    press_grab(w)
    QTest.keyClick(w, Qt.Key.Key_G, Qt.KeyboardModifier.ControlModifier)
    w.pool_panel.grab_button.click()
    qtbot.waitUntil(lambda: bool(shown), timeout=DEADLINE_MS)
    assert [v.outcome for v in shown] == ["won"]
    assert len(grabs_of(broker, "q1")) == 1
    assert broker.admin.call(p.QueryGrabs, inquiry="q1").winner == "a1"
    assert w.desk.pool.rows == ["q2"]
    assert broker.server.service.counters["grab.won"] == 1
    assert sum(v for k, v in broker.server.service.counters.items() if k.startswith("grab.")) == 1


def test_release_puts_it_back_in_the_other_pool_with_its_original_wait(broker, open_window, qtbot):
    floor(broker, agent_spec("a1"), agent_spec("a2"))
    w1, w2 = open_window(broker, "a1"), open_window(broker, "a2")
    arrived = broker.core.clock() - 125.0  # the customer has waited two minutes already
    submit(broker, "q1", arrived_at=arrived)
    qtbot.waitUntil(lambda: "q1" in w1.desk.pool and "q1" in w2.desk.pool, timeout=DEADLINE_MS)
    w1.grab_inquiry("q1")
    qtbot.waitUntil(lambda: w1.desk.mine.rows == ["q1"] and not w2.desk.pool.rows, timeout=DEADLINE_MS)
    w1.mine_panel.view.selectRow(0)
    assert w1.mine_panel.release_button.isEnabled()
    w1.mine_panel.release_button.click()
    qtbot.waitUntil(lambda: "q1" in w2.desk.pool, timeout=DEADLINE_MS)
    back = w2.desk.pool.records.get("q1")
    assert back.arrived_at == arrived
    assert back.queued_at > arrived
    wait_text = w2.pool_panel.model.data(w2.pool_panel.model.index(0, w2.pool_panel.model.column_of("waiting")))
    minutes, seconds = wait_text.split(":")
    assert int(minutes) * 60 + int(seconds) >= 125
    assert not w1.desk.mine.rows


def test_first_response_resolve_and_transfer(broker, open_window, qtbot):
    floor(broker, agent_spec("a1"), agent_spec("a2", name="Bob"))
    w1, w2 = open_window(broker, "a1"), open_window(broker, "a2")
    submit(broker, "q1", "q2")
    qtbot.waitUntil(lambda: len(w1.desk.pool) == 2, timeout=DEADLINE_MS)
    for inquiry in ("q1", "q2"):
        w1.grab_inquiry(inquiry)
        qtbot.waitUntil(lambda i=inquiry: i in w1.desk.mine and w1.desk.grab is None, timeout=DEADLINE_MS)
    w1.mine_panel.view.selectRow(w1.desk.mine.position("q1"))
    w1.respond_selected()
    qtbot.waitUntil(lambda: w1.desk.mine.records.get("q1").first_response_at is not None, timeout=DEADLINE_MS)
    row = w1.desk.mine.position("q1")
    assert w1.mine_panel.model.data(w1.mine_panel.model.index(row, w1.mine_panel.model.column_of("first_response"))) == "✓ replied"
    assert [a.id for a in w1.desk.colleagues("q2")] == ["a2"]
    w1.transfer("q2", "a2")
    qtbot.waitUntil(lambda: w2.desk.mine.rows == ["q2"] and "q2" not in w1.desk.mine, timeout=DEADLINE_MS)
    w1.mine_panel.view.selectRow(w1.desk.mine.position("q1"))
    w1.mine_panel.satisfaction_combo.setCurrentIndex(w1.mine_panel.satisfaction_combo.findData(4))
    w1.resolve_selected()
    qtbot.waitUntil(lambda: not w1.desk.mine.rows, timeout=DEADLINE_MS)
    assert "Resolved q1" in w1.statusBar().currentMessage()


def test_the_transfer_menu_offers_whom_the_broker_would_hand_it_to(broker, open_window, qtbot):
    floor(broker, agent_spec("a1"), agent_spec("a2", name="Bob", quotas=p.Quotas(concurrent_cap=1)))
    w1, w2 = open_window(broker, "a1"), open_window(broker, "a2")
    submit(broker, "q1", "q2")
    qtbot.waitUntil(lambda: len(w1.desk.pool) == 2, timeout=DEADLINE_MS)
    w1.grab_inquiry("q1")
    qtbot.waitUntil(lambda: w1.desk.mine.rows == ["q1"] and w1.desk.grab is None, timeout=DEADLINE_MS)
    w1.mine_panel.view.selectRow(0)

    def offered() -> list[str]:
        menu = w1.mine_panel.transfer_menu
        menu.aboutToShow.emit()
        actions = [a for a in menu.actions() if a.isEnabled() and not a.isSeparator()]
        assert actions[-1].text() == "To another skill's pool…", "a pool is always a way out"
        return [a.text() for a in actions[:-1]]
    assert offered() == ["Bob  (0/1)"]
    w2.grab_inquiry("q2")  # Bob reaches his cap: the broker flags him, the menu follows the flag
    qtbot.waitUntil(lambda: w1.desk.mirror.agents["a2"].unavailable == p.ErrorCode.QUOTA_CONCURRENT,
                    timeout=DEADLINE_MS)
    assert offered() == []
    w2.release("q2")
    qtbot.waitUntil(lambda: not w1.desk.mirror.agents["a2"].unavailable, timeout=DEADLINE_MS)
    assert offered() == ["Bob  (0/1)"]


def test_a_refused_identity_is_shown(broker, open_window, qtbot):
    w = open_window(broker, "ghost", live=False)
    with qtbot.waitSignal(w.identity_refused, timeout=DEADLINE_MS) as blocker:
        pass
    assert "ghost" in blocker.args[0]
    assert "does not accept agent ghost" in w.banner.text()
    assert not w.pool_panel.grab_button.isEnabled()


def test_status_selector_sets_my_status(broker, open_window, qtbot):
    floor(broker, agent_spec("a1"))
    w = open_window(broker, "a1")
    w.me_panel.status_combo.setCurrentIndex(w.me_panel.status_combo.findData("away"))
    w.me_panel.status_combo.activated.emit(w.me_panel.status_combo.currentIndex())
    qtbot.waitUntil(lambda: w.desk.me.status == "away", timeout=DEADLINE_MS)
    assert w.pool_panel.hint.isVisible()


def test_the_window_goes_online_when_opened(broker, open_window, qtbot):
    broker.define(agents=[agent_spec("a1")])
    w = open_window(broker, "a1")
    qtbot.waitUntil(lambda: w.desk.me.status == "online", timeout=DEADLINE_MS)
    assert w.focusWidget() is w.pool_panel.view, "Space must reach the pool without a click"


def test_arrivals_in_the_background_raise_attention_unless_muted(broker, open_window, qtbot, monkeypatch):
    from supervisor.agentwin import attention

    beeps = []
    monkeypatch.setattr(attention.QApplication, "beep", staticmethod(lambda: beeps.append(1)))
    monkeypatch.setattr(attention, "MIN_INTERVAL_S", 0.0)
    floor(broker, agent_spec("a1"))
    w = open_window(broker, "a1", show=False)  # never shown: never the active window
    with qtbot.waitSignal(w.attention_raised, timeout=DEADLINE_MS) as blocker:
        submit(broker, "q1")
    assert blocker.args[0] == ["q1"]
    assert w.attention.count == 1 and len(beeps) == (0 if w.attention._sound else 1)
    w.mute_action.setChecked(True)
    with qtbot.waitSignal(w.attention_raised, timeout=DEADLINE_MS):
        submit(broker, "q2")
    assert w.attention.count == 2 and len(beeps) <= 1


def test_place_and_toggles_are_remembered(broker, open_window, qtbot):
    floor(broker, agent_spec("a1"))
    w = open_window(broker, "a1")
    w.resize(500, 700)
    w.on_top_action.setChecked(True)
    assert w.windowFlags() & Qt.WindowType.WindowStaysOnTopHint
    w.mute_action.setChecked(True)
    w.close()
    assert QSettings().value("agent/stay_on_top", type=bool)
    again = open_window(broker, "a1")
    assert again.size().width() == 500 and again.size().height() == 700
    assert again.mute_action.isChecked() and again.attention.muted
    assert again.windowFlags() & Qt.WindowType.WindowStaysOnTopHint


def test_the_language_menu_switches_to_chinese_and_back(broker, open_window, qtbot):
    floor(broker, agent_spec("a1"))
    w = open_window(broker, "a1")
    submit(broker, "q1", customer="王女士")
    qtbot.waitUntil(lambda: "q1" in w.desk.pool, timeout=DEADLINE_MS)
    try:
        w.language_actions["zh_CN"].trigger()
        qtbot.waitUntil(lambda: w.pool_panel.grab_button.text() == "抢单（空格）", timeout=DEADLINE_MS)
        header = w.pool_panel.model.headerData(w.pool_panel.model.column_of("skill"), Qt.Orientation.Horizontal)
        assert header == "技能"
        tooltip = w.pool_panel.model.data(w.pool_panel.model.index(0, 0), Qt.ItemDataRole.ToolTipRole)
        assert "咨询 q1" in tooltip and "客户：王女士" in tooltip
        assert w.me_panel.held_label.text().startswith("接待中")
        assert QSettings().value("ui/language") == "zh_CN"
    finally:
        w.language_actions["en"].trigger()
    qtbot.waitUntil(lambda: w.pool_panel.grab_button.text() == "Grab (Space)", timeout=DEADLINE_MS)


def test_an_inquiry_reclaimed_for_silence_is_announced(start_broker, open_window, qtbot):
    clock = FakeClock()
    broker = start_broker(clock=clock, agent_timeout_s=10 * 86400.0)
    broker.define()
    floor(broker, agent_spec("a1"))
    w = open_window(broker, "a1")
    submit(broker, "q1")
    qtbot.waitUntil(lambda: "q1" in w.desk.pool, timeout=DEADLINE_MS)
    w.grab_inquiry("q1")
    qtbot.waitUntil(lambda: w.desk.mine.rows == ["q1"], timeout=DEADLINE_MS)
    clock.advance(181.0)  # past the default silent_reclaim_s with no first response
    qtbot.waitUntil(lambda: "went back to the pool" in w.statusBar().currentMessage(), timeout=DEADLINE_MS)
    assert w.desk.my_alerts[-1].kind == "silent_grab"
    qtbot.waitUntil(lambda: w.desk.pool.rows == ["q1"], timeout=DEADLINE_MS)


def test_pool_sla_colour_follows_the_customers_wait(broker, open_window, qtbot):
    from supervisor.agentwin.models import SLA_COLOURS

    floor(broker, agent_spec("a1"))
    w = open_window(broker, "a1")
    now = broker.core.clock()
    submit(broker, "late", arrived_at=now - 700.0)   # past the 600 s first-response SLA
    submit(broker, "close", arrived_at=now - 500.0)  # past 80 % of it
    submit(broker, "fresh")
    qtbot.waitUntil(lambda: w.desk.pool.rows == ["late", "close", "fresh"], timeout=DEADLINE_MS)
    m = w.pool_panel.model

    def colours():
        return [m.data(m.index(r, m.column_of("sla")), Qt.ItemDataRole.BackgroundRole).color().name()
                for r in range(3)]
    # red past the broker's deadline; amber once the broker raised its warning
    qtbot.waitUntil(lambda: colours() == [SLA_COLOURS[level][0] for level in ("breach", "warn", "ok")],
                    timeout=DEADLINE_MS)
    assert m.data(m.index(0, m.column_of("sla"))).startswith("-")


def test_a_grab_whose_answer_is_lost_is_asked_again_with_the_same_grab_id(broker, open_window, qtbot,
                                                                          monkeypatch):
    from PySide6.QtCore import QTimer

    floor(broker, agent_spec("a1"))
    w = open_window(broker, "a1")
    submit(broker, "q1")
    qtbot.waitUntil(lambda: "q1" in w.desk.pool, timeout=DEADLINE_MS)
    sent: list[str] = []
    real_request = w.link.request

    def answer_lost_once(cls, on_reply=None, timeout_s=None, **fields):
        if cls is p.Grab:
            sent.append(fields["grab_id"])
            if len(sent) == 1:  # the grab reaches the broker, its verdict never reaches us
                real_request(cls, None, timeout_s, **fields)
                QTimer.singleShot(0, lambda: on_reply(TimeoutError("reply lost")))
                return None
        return real_request(cls, on_reply, timeout_s, **fields)

    monkeypatch.setattr(w.link, "request", answer_lost_once)
    with qtbot.waitSignal(w.verdict_shown, timeout=DEADLINE_MS) as blocker:
        press_grab(w)
    assert blocker.args[0].outcome == "won"
    assert len(sent) == 2 and sent[0] == sent[1]
    attempts = grabs_of(broker, "q1")
    assert [a.grab_id for a in attempts] == [sent[0]], "the retry must not count as a second grab"


def test_the_window_reconnects_and_resyncs_after_a_broker_restart(start_broker, open_window, qtbot, tmp_path):
    import socket

    from helpers import loopback_config

    def free_port() -> int:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            return s.getsockname()[1]

    config = loopback_config(tmp_path, command_endpoint=f"tcp://127.0.0.1:{free_port()}",
                             events_endpoint=f"tcp://127.0.0.1:{free_port()}")
    first = start_broker(config=config)
    first.define()
    floor(first, agent_spec("a1"))
    w = open_window(first, "a1")
    submit(first, "q1")
    qtbot.waitUntil(lambda: "q1" in w.desk.pool, timeout=DEADLINE_MS)
    first.stop()
    qtbot.waitUntil(lambda: w.badge.status.state in ("lost", "connecting"), timeout=10_000)
    assert not w.pool_panel.grab_button.isEnabled()
    second = start_broker(config=config)  # same ports, same store: a new epoch
    submit(second, "q2")
    qtbot.waitUntil(lambda: w.link.live and w.desk.pool.rows == ["q1", "q2"], timeout=20_000)
    assert w.badge.status.state == "live" and w.pool_panel.grab_button.isEnabled()
