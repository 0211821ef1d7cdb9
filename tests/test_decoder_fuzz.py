"""Decoder fuzzing of every message type.

Strategies are derived from the protocol structs themselves (via
``msgspec.inspect``), so a message type or field added to ``protocol.py`` is
fuzzed without touching this file. For every command type: valid instances
round-trip exactly; mutated frames (a field dropped, a value of the wrong
type, an extra field, a wrong version, flipped/truncated bytes, random bytes)
either decode to a command or fail with ``DecodeFailure`` carrying a known
error code; nothing else may escape. Replies, event frames and broker
heartbeats round-trip, and garbage fed to their decoders only ever raises
``msgspec.MsgspecError`` (what ``BrokerClient`` catches). Finally, valid but
hostile commands go through a live ``Service`` and core: they may be refused,
never answered with ``internal``, and never break the arbiter's invariants or
its timers.
"""
from __future__ import annotations

import functools
import math
import typing

import msgspec
import msgspec.inspect as mi
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from broker.wire import protocol as p
from broker.arbiter.core import Arbiter, CoreConfig
from broker.wire.protocol import ErrorCode
from broker.service.dispatch import Service

from helpers import FakeClock

COMMAND_TYPES = typing.get_args(p.AnyCommand)
REPLY_TYPES = typing.get_args(p.AnyReply)
DECODE_CODES = {ErrorCode.BAD_REQUEST, ErrorCode.UNSUPPORTED_VERSION, ErrorCode.TOO_LARGE}
#: names the hostile-command fuzz reuses so commands hit existing state
NAMES = ("s1", "s2", "g1", "a1", "a2", "a3", "q1", "q2", "q3", "pre_sales", "zh")

FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


# --------------------------------------------------------------------------- strategies from types

def strategy(t: mi.Type, names: bool = False) -> st.SearchStrategy:
    """Values of msgspec type ``t`` (as inspected).

    ``names`` makes them hostile rather than merely valid: strings biased to
    NAMES so commands hit existing state, and NaN allowed for floats (MessagePack
    and TOML both carry it; it only breaks the equality of round trips).
    """
    if isinstance(t, mi.IntType):
        return st.integers(-(2 ** 63), 2 ** 63 - 1) | st.integers(-3, 1000)
    if isinstance(t, mi.FloatType):
        special = (0.0, 1.0, 60.0, 1e9) + ((float("nan"), float("inf"), -1.0, 1e300) if names else ())
        return st.floats(allow_nan=names, width=64) | st.sampled_from(special)
    if isinstance(t, mi.StrType):
        text = st.text(max_size=12)
        return st.sampled_from(NAMES) | text if names else text
    if isinstance(t, mi.BoolType):
        return st.booleans()
    if isinstance(t, mi.NoneType):
        return st.none()
    if isinstance(t, mi.LiteralType):
        return st.sampled_from(t.values)
    if isinstance(t, mi.EnumType):
        return st.sampled_from(list(t.cls))
    if isinstance(t, mi.ListType):
        return st.lists(strategy(t.item_type, names), max_size=3)
    if isinstance(t, mi.DictType):
        return st.dictionaries(strategy(t.key_type, names), strategy(t.value_type, names), max_size=3)
    if isinstance(t, mi.TupleType):
        return st.tuples(*(strategy(i, names) for i in t.item_types))
    if isinstance(t, mi.VarTupleType):
        return st.lists(strategy(t.item_type, names), max_size=3).map(tuple)
    if isinstance(t, mi.UnionType):
        return st.one_of(*(strategy(i, names) for i in t.types))
    if isinstance(t, mi.StructType):
        return struct_strategy(t.cls, names)
    raise NotImplementedError(f"no strategy for {t!r}")  # a new kind of field: extend me


@functools.lru_cache(maxsize=None)
def struct_strategy(cls: type, names: bool = False) -> st.SearchStrategy:
    info = mi.type_info(cls)
    required, optional = {}, {}
    for f in info.fields:
        if f.name == "v":
            s = st.just(p.PROTOCOL_VERSION)
        else:
            s = strategy(f.type, names)
        (required if f.required else optional)[f.name] = s
    return st.fixed_dictionaries(required, optional=optional).map(lambda kw: cls(**kw))


def is_command_ok(cmd) -> bool:
    return isinstance(cmd, COMMAND_TYPES)


def check_decode(data: bytes, max_bytes: int = p.MAX_COMMAND_BYTES):
    """decode_command's contract: a valid command, or DecodeFailure with a decode code."""
    try:
        cmd = p.decode_command(data, max_bytes)
    except p.DecodeFailure as failure:
        assert isinstance(failure.code, ErrorCode) and failure.code in DECODE_CODES, failure.code
        assert isinstance(failure.reason, str) and failure.reason
        assert isinstance(failure.msg_id, str) and isinstance(failure.detail, dict)
        # the refusal itself must be encodable as a reply
        reply = p.Error(re=failure.msg_id, code=failure.code, reason=failure.reason, detail=failure.detail)
        assert p.decode_reply(p.encode(reply)) == reply
        return failure
    assert is_command_ok(cmd), type(cmd)
    assert cmd.v == p.PROTOCOL_VERSION, f"accepted a command of protocol version {cmd.v!r}"
    return cmd


# --------------------------------------------------------------------------- commands: valid

@pytest.mark.parametrize("cls", COMMAND_TYPES, ids=lambda c: c.__struct_config__.tag)
@FUZZ
@given(data=st.data())
def test_valid_commands_round_trip(cls, data):
    cmd = data.draw(struct_strategy(cls))
    decoded = p.decode_command(p.encode(cmd))
    assert type(decoded) is cls and decoded == cmd


@pytest.mark.parametrize("cls", COMMAND_TYPES, ids=lambda c: c.__struct_config__.tag)
def test_every_command_type_is_reachable_by_its_tag(cls):
    tag = cls.__struct_config__.tag
    minimal = data_of(cls)
    assert minimal["type"] == tag
    assert type(p.decode_command(msgspec.msgpack.encode(minimal))) is cls


def data_of(cls) -> dict:
    """A minimal valid command of ``cls`` as a plain map (example values for required fields)."""
    example = {mi.IntType: 1, mi.FloatType: 1.0, mi.StrType: "x", mi.BoolType: True}

    def value(t):
        if type(t) in example:
            return example[type(t)]
        if isinstance(t, mi.LiteralType):
            return t.values[0]
        if isinstance(t, mi.ListType):
            return []
        if isinstance(t, mi.DictType):
            return {}
        if isinstance(t, mi.UnionType):
            return value(t.types[0])
        if isinstance(t, mi.StructType):
            return {f.name: value(f.type) for f in mi.type_info(t.cls).fields if f.required}
        raise NotImplementedError(t)

    out = {f.name: value(f.type) for f in mi.type_info(cls).fields if f.required}
    out.update(v=p.PROTOCOL_VERSION, type=cls.__struct_config__.tag)
    return out


# --------------------------------------------------------------------------- commands: mutated

ANY_COMMAND = st.one_of(*(struct_strategy(cls) for cls in COMMAND_TYPES))
WRONG_VALUES = st.sampled_from((123, -1, 2 ** 64 - 1, "str", "", 1.5, float("nan"), None, True, [1, "a"],
                                {"k": 1}, {1: 2}, b"\x00bytes", [[[]]]))


def _paths(obj, prefix=()):
    """Every (container, key) inside a decoded message, for nested mutations."""
    if isinstance(obj, dict):
        for key, val in obj.items():
            yield prefix + (key,)
            yield from _paths(val, prefix + (key,))
    elif isinstance(obj, list):
        for i, val in enumerate(obj):
            yield prefix + (i,)
            yield from _paths(val, prefix + (i,))


def _parent(obj, path):
    for key in path[:-1]:
        obj = obj[key]
    return obj


@st.composite
def mutated_command(draw):
    cmd = draw(ANY_COMMAND)
    doc = msgspec.to_builtins(cmd)
    paths = list(_paths(doc))
    kind = draw(st.sampled_from(("drop", "wrong", "extra", "nested", "version", "type", "bytes")))
    if kind == "drop" and paths:
        path = draw(st.sampled_from(paths))
        parent = _parent(doc, path)
        del parent[path[-1]]
    elif kind in ("wrong", "nested") and paths:
        top = [pth for pth in paths if len(pth) == 1]
        path = draw(st.sampled_from(top if kind == "wrong" else paths))
        _parent(doc, path)[path[-1]] = draw(WRONG_VALUES)
    elif kind == "extra":
        dicts = [()] + [pth for pth in paths if isinstance(_get(doc, pth), dict)]
        where = _get(doc, draw(st.sampled_from(dicts)))
        where[draw(st.text(min_size=1, max_size=8))] = draw(WRONG_VALUES)
    elif kind == "version":
        doc["v"] = draw(st.integers(-(2 ** 63), 2 ** 63 - 1).filter(lambda v: v != p.PROTOCOL_VERSION))
    elif kind == "type":
        doc["type"] = draw(st.sampled_from([c.__struct_config__.tag for c in COMMAND_TYPES]) | st.text(max_size=10))
    data = msgspec.msgpack.encode(doc)
    if kind == "bytes":
        how = draw(st.sampled_from(("truncate", "flip", "insert")))
        if how == "truncate":
            data = data[:draw(st.integers(0, max(0, len(data) - 1)))]
        elif how == "flip" and data:
            i = draw(st.integers(0, len(data) - 1))
            data = data[:i] + bytes([data[i] ^ draw(st.integers(1, 255))]) + data[i + 1:]
        else:
            i = draw(st.integers(0, len(data)))
            data = data[:i] + draw(st.binary(min_size=1, max_size=4)) + data[i:]
    return kind, doc, data


def _get(obj, path):
    for key in path:
        obj = obj[key]
    return obj


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated_command())
def test_mutated_commands_decode_or_fail_with_a_known_code(case):
    kind, doc, data = case
    result = check_decode(data)
    if kind == "version":
        assert isinstance(result, p.DecodeFailure), f"accepted protocol version {doc['v']}"
        assert result.code == ErrorCode.UNSUPPORTED_VERSION
        assert result.msg_id == doc["id"]
    if kind == "extra" and isinstance(result, p.DecodeFailure):
        assert result.code == ErrorCode.BAD_REQUEST


@settings(max_examples=500, deadline=None)
@given(st.binary(max_size=256))
def test_random_bytes_never_escape_as_other_exceptions(data):
    check_decode(data)


@settings(max_examples=300, deadline=None)
@given(st.recursive(st.none() | st.booleans() | st.integers(-(2 ** 63), 2 ** 64 - 1) | st.floats() | st.text(max_size=5) |
                    st.binary(max_size=5),
                    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner,
                                                                                 max_size=4),
                    max_leaves=20))
def test_arbitrary_msgpack_values_never_escape(value):
    check_decode(msgspec.msgpack.encode(value))


def test_deeply_nested_input_is_refused_not_crashing():
    nested = b"\x91" * 100_000 + b"\xc0"  # a list in a list ... 100k deep
    check_decode(nested)
    doc = data_of(p.Submit)
    doc["inquiries"] = [[[[[[[[[[[]]]]]]]]]]]
    assert check_decode(msgspec.msgpack.encode(doc)).code == ErrorCode.BAD_REQUEST


@FUZZ
@given(data=st.data())
def test_too_large_is_checked_before_decoding(data):
    cmd = data.draw(ANY_COMMAND)
    raw = p.encode(cmd)
    failure = check_decode(raw, max_bytes=len(raw) - 1)
    assert failure.code == ErrorCode.TOO_LARGE and failure.detail["size"] == len(raw)
    assert check_decode(raw, max_bytes=len(raw)) == cmd


# --------------------------------------------------------------------------- replies, frames, heartbeats

@pytest.mark.parametrize("cls", REPLY_TYPES, ids=lambda c: c.__struct_config__.tag)
@FUZZ
@given(data=st.data())
def test_replies_round_trip(cls, data):
    reply = data.draw(struct_strategy(cls))
    decoded = p.decode_reply(p.encode(reply))
    assert type(decoded) is cls and decoded == reply


@FUZZ
@given(struct_strategy(p.EventFrame))
def test_event_frames_round_trip(frame):
    assert p.decode_event_frame(p.encode(frame)) == frame
    # what the broker actually sends: events pre-encoded once, framed later
    fields = {f: getattr(frame, f) for f in frame.__struct_fields__ if f != "events"}
    out = p.EventFrameOut(**fields, events=[msgspec.Raw(p.encode(e)) for e in frame.events])
    assert p.decode_event_frame(p.encode(out)) == frame
    header = p.decode_frame_header(p.encode(out))
    assert {f: getattr(header, f) for f in header.__struct_fields__} == \
        {f: getattr(frame, f) for f in header.__struct_fields__}


@FUZZ
@given(struct_strategy(p.SnapshotPart))
def test_snapshot_parts_sent_pre_encoded_decode_as_snapshot_parts(part):
    out = p.SnapshotPartOut(re=part.re, records=[msgspec.Raw(p.encode(r)) for r in part.records])
    assert p.decode_reply(p.encode(out)) == part


@FUZZ
@given(struct_strategy(p.BrokerHeartbeat))
def test_heartbeats_round_trip(hb):
    assert p.decode_heartbeat(p.encode(hb)) == hb


CLIENT_SIDE_SOURCES = {
    p.decode_reply: st.one_of(*(struct_strategy(cls) for cls in REPLY_TYPES)),
    p.decode_event_frame: struct_strategy(p.EventFrame),
    p.decode_frame_header: struct_strategy(p.EventFrame),
    p.decode_heartbeat: struct_strategy(p.BrokerHeartbeat),
}


@pytest.mark.parametrize("decoder", [p.decode_reply, p.decode_event_frame, p.decode_frame_header,
                                     p.decode_heartbeat],
                         ids=["reply", "event_frame", "frame_header", "heartbeat"])
@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_client_side_decoders_only_raise_msgspec_errors(decoder, data):
    raw = p.encode(data.draw(CLIENT_SIDE_SOURCES[decoder]))
    how = data.draw(st.sampled_from(("truncate", "flip", "random", "other")))
    if how == "truncate":
        raw = raw[:data.draw(st.integers(0, len(raw) - 1))]
    elif how == "flip":
        i = data.draw(st.integers(0, len(raw) - 1))
        raw = raw[:i] + bytes([raw[i] ^ data.draw(st.integers(1, 255))]) + raw[i + 1:]
    elif how == "random":
        raw = data.draw(st.binary(max_size=200))
    else:  # a well-formed message of another kind
        raw = p.encode(data.draw(struct_strategy(p.Hello)))
    try:
        decoder(raw)
    except msgspec.MsgspecError:
        pass


# --------------------------------------------------------------------------- hostile but valid commands

def _floor() -> tuple[Arbiter, Service, FakeClock]:
    clock = FakeClock()
    core = Arbiter(CoreConfig(), clock=clock)
    service = Service(core)
    core.define_shop(p.ShopRecord(id="s1"))
    core.define_shop(p.ShopRecord(id="s2", mode="hybrid", hybrid_after_s=5))
    core.define_group(p.GroupRecord(id="g1", fair_share=p.FairShare(enabled=True)))
    for a in ("a1", "a2", "a3"):
        core.define_agent(p.AgentSpec(id=a, group="g1", skills={"pre_sales": 3}))
        core.set_status(a, "online", "test")
    for q, shop in (("q1", "s1"), ("q2", "s1"), ("q3", "s2")):
        core.submit(p.NewInquiry(id=q, shop=shop, skill="pre_sales"))
    core.grab("a1", "q2", "seed")
    core.drain()
    return core, service, clock


def _as(role: str, cls: type, **fields) -> st.SearchStrategy:
    """Commands of ``cls`` from a sender allowed to send them, so they reach the core."""
    return st.fixed_dictionaries(fields).map(
        lambda kw: cls(v=p.PROTOCOL_VERSION, id="h", role=role, who="fuzz", **kw))


HOSTILE = st.one_of(
    *(struct_strategy(cls, names=True) for cls in COMMAND_TYPES),
    # the ones that reach deepest, with the values most likely to hurt
    _as("intake", p.Submit, inquiries=st.lists(st.builds(
        p.NewInquiry, id=st.text(max_size=3), shop=st.sampled_from(("s1", "s2")),
        skill=st.sampled_from(("pre_sales", "other")),
        arrived_at=st.none() | strategy(mi.FloatType(), names=True)), min_size=1, max_size=3)),
    _as("admin", p.DefineShop, shop=struct_strategy(p.ShopRecord, names=True)),
    _as("admin", p.DefineAgents, agents=st.lists(struct_strategy(p.AgentSpec, names=True), max_size=2)),
    _as("admin", p.DefineGroup, group=struct_strategy(p.GroupRecord, names=True)),
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(HOSTILE, min_size=1, max_size=12),
       st.lists(st.sampled_from((0.5, 30.0, 700.0, 5000.0)), min_size=1, max_size=3))
def test_valid_but_hostile_commands_are_refused_not_crashing(commands, jumps):
    core, service, clock = _floor()
    for cmd in commands:
        if isinstance(cmd, p.Shutdown):
            continue
        replies = service.handle(p.encode(cmd))
        for reply in replies:
            wire = p.decode_reply(p.encode(reply))
            assert not (isinstance(wire, p.Error) and wire.code == ErrorCode.INTERNAL), \
                f"{type(cmd).__name__} caused an internal error: {cmd!r}"
        core.check_invariants()
    assert service.counters["internal_errors"] == 0
    for jump in jumps:
        clock.advance(jump)
        core.tick()  # the loop's timers must survive whatever was accepted
        core.check_invariants()
    # a NaN deadline breaks the heap's order: timers behind it would never fire
    assert not any(math.isnan(due) for due in core.timer_deadlines()), "a command armed a NaN deadline"
    core.drain()
