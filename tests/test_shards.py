"""Shards: the directory, its mistakes, and two shards followed as one floor.

The two shards run as operators run them (``grabdesk broker`` processes on
PostgreSQL, one schema each); a ``ShardSet`` follows both, and grabs happen
on each. Needs the local PostgreSQL (it fails, saying so, without it).
"""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from broker.wire import protocol as p
from broker.wire.client import BrokerClient
from broker.wire.directory import DirectoryError, load_directory, parse_directory
from broker.wire.shards import ShardSet

from helpers import wait_until
from pair_helpers import define_floor

ROOT = Path(__file__).resolve().parent.parent

TWO_SHARDS = """
[shards.east]
command = ["tcp://east-a:5570", "tcp://east-b:5570"]
events = ["tcp://east-a:5571", "tcp://east-b:5571"]
shops = ["tmall-flagship", "jd-outlet"]

[shards.west]
command = "tcp://west-a:5570"
events = "tcp://west-a:5571"
shops = ["pdd-store"]
"""


# --------------------------------------------------------------------------- the directory

def test_a_directory_maps_each_shop_to_its_shard_and_its_brokers():
    directory = parse_directory(TWO_SHARDS, "shards.toml")
    east = directory.shard_of("jd-outlet")
    assert east.name == "east"
    assert east.endpoints == (("tcp://east-a:5570", "tcp://east-a:5571"), ("tcp://east-b:5570", "tcp://east-b:5571"))
    assert directory.shard("west").command_endpoints == ["tcp://west-a:5570"]


@pytest.mark.parametrize("text, message", [
    (TWO_SHARDS.replace('shops = ["pdd-store"]', 'shops = ["pdd-store", "jd-outlet"]'),
     "shop 'jd-outlet' is named in shard 'east' and in shard 'west'; a shop belongs to one shard"),
    (TWO_SHARDS.replace('shops = ["pdd-store"]', 'shops = ["pdd-store", "pdd-store"]'),
     "shop 'pdd-store' is named twice in shard 'west'"),
    (TWO_SHARDS.replace('events = "tcp://west-a:5571"', 'events = ""'),
     "shard 'west': give one events endpoint per command endpoint (1 command, 0 events)"),
    ("[shards]\n", "no [shards.NAME] tables"),
    ("[shards.east]\ncommand = 'tcp://a:1'\n", "Object missing required field `events`"),
    ("shards = [", "not valid TOML"),
])
def test_directory_mistakes_are_one_clear_sentence(text, message):
    with pytest.raises(DirectoryError) as info:
        parse_directory(text, "shards.toml")
    assert str(info.value).startswith("shards.toml: ") and message in str(info.value)


def test_looking_up_an_unknown_shard_or_shop_says_which():
    directory = parse_directory(TWO_SHARDS, "shards.toml")
    with pytest.raises(DirectoryError, match="unknown shard 'north' \\(it has east, west\\)"):
        directory.shard("north")
    with pytest.raises(DirectoryError, match="shop 'taobao-x' is in no shard"):
        directory.shard_of("taobao-x")
    with pytest.raises(DirectoryError, match="cannot read the shard directory"):
        load_directory("/nonexistent/shards.toml")


def _grabdesk(*args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""),
               QT_QPA_PLATFORM="offscreen")
    return subprocess.run([sys.executable, "-m", "grabdesk", *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=60)


@pytest.mark.parametrize("argv, message", [
    (["broker", "--shard", "north", "--check-config"],
     "grabdesk broker: command line: broker.directory: DIR: unknown shard 'north' (it has east, west)"),
    (["simulate", "--shard", "north"], "grabdesk simulate: DIR: unknown shard 'north'"),
    (["simulate"], "grabdesk simulate: --directory needs --shard NAME"),
    (["agent", "--agent", "a1"], "grabdesk agent: --directory needs --shop ID"),
    (["agent", "--agent", "a1", "--shop", "taobao-x"], "grabdesk agent: DIR: shop 'taobao-x' is in no shard"),
])
def test_command_line_mistakes_with_a_directory_exit_2_with_one_sentence(tmp_path, argv, message):
    directory = tmp_path / "shards.toml"
    directory.write_text(TWO_SHARDS)
    done = _grabdesk(*argv, "--directory", str(directory))
    assert done.returncode == 2, done.stderr
    assert message.replace("DIR", str(directory)) in done.stderr and "Traceback" not in done.stderr


def test_a_broker_refuses_to_seed_another_shards_shop(tmp_path):
    directory = tmp_path / "shards.toml"
    directory.write_text(TWO_SHARDS)
    config = tmp_path / "east.toml"
    config.write_text(f'[broker]\nshard = "east"\ndirectory = "{directory}"\n\n[[shops]]\nid = "pdd-store"\n')
    done = _grabdesk("broker", "--config", str(config), "--check-config")
    assert done.returncode == 2
    assert "shop 'pdd-store' belongs to shard 'west', not to this broker's shard 'east'" in done.stderr


# --------------------------------------------------------------------------- two shards, one floor

def test_two_shards_followed_as_one_floor_with_grabs_in_each(pair):
    east, west = pair("east"), pair("west")
    brokers = {"east": east.start(), "west": west.start()}
    for shard, broker in (("east", east), ("west", west)):
        broker.wait_active(brokers[shard])
    text = "".join(f'[shards.{name}]\ncommand = "{b["command"]}"\nevents = "{b["events"]}"\nshops = ["{name}-shop"]\n'
                   for name, b in brokers.items())
    directory = parse_directory(text, "two shards")
    for name, shard in (("east", east), ("west", west)):
        admin = shard.client("admin", "root")
        define_floor(admin, shop=f"{name}-shop", agents=[f"{name}-agent"])
        shard.client("intake", "gw").call(p.Submit, inquiries=[
            p.NewInquiry(id=f"{name}-q{i}", shop=f"{name}-shop", skill="pre_sales") for i in range(3)])

    floor = ShardSet(directory, "supervisor", "lead").start()
    try:
        assert floor.wait_live(20), [h for h in floor.health()]
        assert {i: s for i, (s, _r) in floor.inquiries().items()} == {
            f"{name}-q{i}": name for name in ("east", "west") for i in range(3)}
        # each agent grabs on its shop's shard
        for name in ("east", "west"):
            agent = BrokerClient(directory.shard(name).command_endpoints, directory.shard(name).events_endpoints,
                                 "agent", f"{name}-agent").start()
            try:
                assert agent.call(p.Grab, grab_id="g1", inquiry=f"{name}-q0").outcome == "won"
                # an inquiry of the other shard does not exist here: grabs never cross shards
                other = "west" if name == "east" else "east"
                crossed = agent.call(p.Grab, grab_id="g2", inquiry=f"{other}-q1")
                assert (crossed.outcome, crossed.code) == ("refused", p.ErrorCode.NOT_FOUND)
            finally:
                agent.stop()
        wait_until(lambda: {i: r.owner for i, (_s, r) in floor.inquiries().items() if r.owner} ==
                   {"east-q0": "east-agent", "west-q0": "west-agent"}, timeout_s=10,
                   message="the merged floor does not show both shards' grabs")
        health = {h.shard: h for h in floor.health()}
        assert {s: (h.state, h.open_inquiries, h.agents_online) for s, h in health.items()} == \
            {"east": ("live", 3, 1), "west": ("live", 3, 1)}
        assert health["east"].endpoint == brokers["east"]["command"] and health["east"].active_since
        assert floor.client_for_shop("west-shop") is floor.members["west"].client
    finally:
        floor.stop()
