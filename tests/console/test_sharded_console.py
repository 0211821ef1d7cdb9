"""A console following two shards: one floor, each shard's health, commands to the right shard.

Two shards run as ``grabdesk broker`` processes on PostgreSQL (one schema
each); the console's window is the real one, offscreen.
"""
from __future__ import annotations

from broker.wire import protocol as p
from broker.wire.directory import parse_directory
from supervisor.common.link import LinkSettings
from supervisor.console.settings import ConsoleSettings
from supervisor.console.sharded_link import ShardedLink, merge_metrics
from supervisor.console.window import MainWindow

from pair_helpers import define_floor


def test_metrics_of_several_shards_add_up_counts_and_keep_the_longest_wait():
    east = p.FloorMetrics(at=10.0, queue_by_skill={"pre_sales": 3}, longest_wait={"pre_sales": ("e1", 40.0)},
                          held_total=5, agents_online=4, grabs_total=100, loop_max_turn_ms=2.0,
                          sla_attainment={"first_response.today": 0.9})
    west = p.FloorMetrics(at=11.0, queue_by_skill={"pre_sales": 1, "after_sales": 2},
                          longest_wait={"pre_sales": ("w1", 70.0)}, held_total=1, agents_online=2,
                          grabs_total=50, loop_max_turn_ms=5.0)
    merged = merge_metrics([east, west])
    assert (merged.at, merged.queue_by_skill, merged.longest_wait) == \
        (11.0, {"pre_sales": 4, "after_sales": 2}, {"pre_sales": ("w1", 70.0)})
    assert (merged.held_total, merged.agents_online, merged.grabs_total, merged.loop_max_turn_ms) == (6, 6, 150, 5.0)
    assert merged.sla_attainment == {}, "a ratio of one shard was shown as the whole floor's"
    assert merge_metrics([east]) is east and merge_metrics([]) is None


def test_the_console_shows_two_shards_as_one_floor_with_each_shards_health(qtbot, isolated_settings, pair):
    east, west = pair("east"), pair("west")
    brokers = {"east": east.start(), "west": west.start()}
    for name, shard in (("east", east), ("west", west)):
        shard.wait_active(brokers[name])
        define_floor(shard.client("admin", "root"), shop=f"{name}-shop", agents=[f"{name}-agent"])
        shard.client("intake", "gw").call(p.Submit, inquiries=[
            p.NewInquiry(id=f"{name}-q{i}", shop=f"{name}-shop", skill="pre_sales") for i in range(2)])
    directory = parse_directory("".join(
        f'[shards.{n}]\ncommand = "{b["command"]}"\nevents = "{b["events"]}"\nshops = ["{n}-shop"]\n'
        for n, b in brokers.items()), "two shards")

    link = ShardedLink(directory, LinkSettings(), "supervisor", "boss", name="console")
    window = MainWindow(link, ConsoleSettings(who="boss"), restore_layout=False)
    qtbot.addWidget(window)
    link.health_changed.connect(window.active_broker.set_shards)
    link.start()
    try:
        qtbot.waitUntil(lambda: link.live and len(link.mirror.inquiries) == 4, timeout=20_000)
        assert set(link.mirror.inquiries) == {"east-q0", "east-q1", "west-q0", "west-q1"}
        assert set(link.mirror.agents) == {"east-agent", "west-agent"}
        qtbot.waitUntil(lambda: window.active_broker.text() == "east ● live · west ● live", timeout=10_000)
        assert "west: live, broker " + brokers["west"]["command"] in window.active_broker.toolTip()
        # a supervisor's command about a west inquiry goes to the west shard
        replies = []
        link.request(p.Reassign, replies.append, inquiry="west-q1", to_agent="west-agent", reason="VIP")
        qtbot.waitUntil(lambda: bool(replies), timeout=10_000)
        assert isinstance(replies[0], p.Ok), replies
        qtbot.waitUntil(lambda: link.mirror.inquiries["west-q1"].owner == "west-agent", timeout=10_000)
        assert link.shard_for({"shop": "east-shop"}) is link.links["east"]
    finally:
        link.stop()
