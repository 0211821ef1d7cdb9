"""The console's What if… dialog: the lab runs off the GUI thread, the change goes to the broker audited."""
from __future__ import annotations

from broker.wire import protocol as p
from supervisor.common.link import BrokerLink
from supervisor.console.settings import ConsoleSettings
from supervisor.console.whatif import ROWS, Change, lab_arguments
from supervisor.console.window import MainWindow
from tools.lab.trace import DEMO_PROFILE, DEMO_ROSTER

from console_helpers import DEADLINE_MS

#: a small trace (an hour of the demo profile on the demo roster) keeps the lab quick
SMALL = ("--profile", str(DEMO_PROFILE), "--roster", str(DEMO_ROSTER), "--hours", "1",
         "--start", "2026-11-11T20:00")
LAB_DEADLINE_MS = 240_000


def test_the_lab_arguments_compare_the_floor_as_is_with_the_change():
    args = lab_arguments(Change(mode="hybrid", hybrid_after_s=20.0, concurrent_cap=3), "/x/broker.db",
                         "2026-11-11T19:00:00", "2026-11-12T00:00:00")
    assert args[:4] == ["-m", "grabdesk", "lab", "--json"]
    assert "as-is:" in args and "changed:mode=hybrid,hybrid_after_s=20.0,concurrent_cap=3" in args
    assert args[-6:] == ["--from-store", "/x/broker.db", "--since", "2026-11-11T19:00:00", "--until",
                         "2026-11-12T00:00:00"]


def test_what_if_runs_the_lab_then_applies_the_change_with_audited_commands(start_broker, qtbot,
                                                                            isolated_settings):
    broker = start_broker()
    broker.define(shops=("s1", "s2"), groups=["g1"])
    settings = ConsoleSettings(command_endpoint=broker.server.command_endpoint,
                               events_endpoint=broker.server.events_endpoint, who="boss")
    link = BrokerLink(settings.link_settings(), "supervisor", "boss", name="test-console")
    window = MainWindow(link, settings, restore_layout=False)
    qtbot.addWidget(window)
    try:
        link.start()
        window.show()
        qtbot.waitUntil(lambda: link.live and not window.stale, timeout=DEADLINE_MS)
        dialog = window.open_what_if()
        dialog.extra_lab_args = SMALL
        dialog.mode_box.setCurrentIndex(dialog.mode_box.findData("hybrid"))
        dialog.hybrid_spin.setValue(20)
        dialog.cap_spin.setValue(3)
        dialog.run_lab()
        assert dialog.process is not None  # running in its own process; the window stays live
        qtbot.waitUntil(lambda: dialog.result is not None, timeout=LAB_DEADLINE_MS)
        assert set(dialog.result["policies"]) == {"as-is", "changed"}
        assert all(dialog.table.item(row, col) is not None for row in range(len(ROWS)) for col in (0, 1))
        assert dialog.apply_button.isEnabled()
        sent = dialog.apply()
        assert sent == ["set_mode s1 hybrid", "set_mode s2 hybrid", "set_quotas g1 concurrent_cap=3"]
        qtbot.waitUntil(lambda: all(s.mode == "hybrid" and s.hybrid_after_s == 20.0
                                    for s in broker.core.shops.values()), timeout=DEADLINE_MS)
        qtbot.waitUntil(lambda: broker.core.groups["g1"].quotas.concurrent_cap == 3, timeout=DEADLINE_MS)
        audit = broker.admin.call(p.QueryAudit, limit=50)
        assert sum("what-if" in e.reason for e in audit.entries) >= 3
        dialog.close()
    finally:
        window.close()
        link.stop()
