"""The command surface without sockets: bytes in, replies out.

``broker.service.dispatch.Service`` holds the policy the transport must not: who may
send what, how every kind of bad input becomes an error reply with its code,
what is counted and what is audited. Each reply is put through the real
encoder and ``decode_reply`` so what is checked is what a client would read.
"""
from __future__ import annotations

import logging

import msgspec
import pytest

from broker.wire import protocol as p
from broker.arbiter.core import Arbiter, CoreConfig
from broker.wire.protocol import ErrorCode
from broker.service.dispatch import Peer, Service
from broker.service.store import SqliteStore

from helpers import FakeClock


class Harness:
    """A service on a real store; every call commits its batch like the server loop."""

    def __init__(self, tmp_path, **service_kw):
        self.clock = FakeClock()
        self.core = Arbiter(CoreConfig(), clock=self.clock)
        self.store = SqliteStore(tmp_path / "service.db", synchronous="OFF", checkpoint_thread=False)
        self.shutdowns: list[str] = []
        self.service = Service(self.core, self.store, on_shutdown=self.shutdowns.append, **service_kw)
        self._ids = 0

    def raw(self, data: bytes, peer: Peer | None = None) -> list:
        replies = self.service.handle(data, peer)
        assert replies, "every frame gets at least one reply"
        changes = self.core.drain()
        if changes:
            self.store.write(changes)
        return [p.decode_reply(p.encode(r)) for r in replies]

    def cmd(self, cls, role: str, who: str, **fields) -> p.Command:
        self._ids += 1
        return cls(v=p.PROTOCOL_VERSION, id=f"m{self._ids}", role=role, who=who, **fields)

    def send(self, cls, role: str, who: str, peer: Peer | None = None, **fields):
        command = self.cmd(cls, role, who, **fields)
        replies = self.raw(p.encode(command), peer)
        assert all(r.re == command.id for r in replies), "every reply names the command it answers"
        return replies[-1] if len(replies) == 1 else replies

    def audit(self, **filters) -> list[p.AuditEntry]:
        page = self.send(p.QueryAudit, "supervisor", "auditor", **filters)
        assert isinstance(page, p.AuditPage)
        return page.entries


@pytest.fixture
def h(tmp_path):
    harness = Harness(tmp_path)
    harness.send(p.DefineShop, "admin", "root", shop=p.ShopRecord(id="s1"))
    harness.send(p.DefineGroup, "admin", "root", group=p.GroupRecord(id="day"))
    harness.send(p.DefineAgents, "admin", "root", agents=[
        p.AgentSpec(id=a, group="day", skills={"pre_sales": 3}, quality=95) for a in ("a1", "a2", "a3")])
    for a in ("a1", "a2", "a3"):
        harness.send(p.SetStatus, "agent", a, status="online")
    yield harness
    harness.store.close()


def _submit(h, *ids):
    reply = h.send(p.Submit, "intake", "gw", inquiries=[p.NewInquiry(id=i, shop="s1", skill="pre_sales")
                                                         for i in ids])
    assert reply.accepted == len(ids)


def _error(reply, code: ErrorCode) -> p.Error:
    assert isinstance(reply, p.Error), reply
    assert reply.code == code, reply
    assert reply.reason, "every refusal carries a human sentence"
    return reply


# --------------------------------------------------------------------------- the happy path

def test_hello_welcomes_with_the_brokers_terms(h):
    welcome = h.send(p.Hello, "agent", "a1", client="window")
    assert isinstance(welcome, p.Welcome)
    assert welcome.epoch == h.service.epoch and welcome.now == h.clock.now
    assert welcome.max_command_bytes == h.service.max_command_bytes
    assert welcome.agent is not None and welcome.agent.id == "a1" and welcome.agent.status == "online"
    # an agent must be heard from within this: the welcome says it (docs/protocol.md 12.2)
    assert welcome.agent_timeout_s == h.core.config.agent_timeout_s
    assert h.send(p.Hello, "supervisor", "boss").agent is None


def test_grab_race_verdicts_and_history(h):
    _submit(h, "q1")
    won = h.send(p.Grab, "agent", "a2", grab_id="g-a2", inquiry="q1")
    lost = h.send(p.Grab, "agent", "a1", grab_id="g-a1", inquiry="q1")
    assert isinstance(won, p.Verdict) and (won.outcome, won.winner, won.grab_id) == ("won", "a2", "g-a2")
    assert (lost.outcome, lost.code, lost.winner, lost.won_at) == ("lost", ErrorCode.ALREADY_TAKEN, "a2",
                                                                   won.won_at)
    history = h.send(p.QueryGrabs, "supervisor", "boss", inquiry="q1")
    assert isinstance(history, p.GrabHistory) and history.winner == "a2"
    assert [(a.agent, a.outcome) for a in history.attempts] == [("a2", "won"), ("a1", "lost")]
    _error(h.send(p.QueryGrabs, "supervisor", "boss", inquiry="never"), ErrorCode.NOT_FOUND)


def test_submit_reports_each_rejected_inquiry_by_index(h):
    reply = h.send(p.Submit, "intake", "gw", inquiries=[
        p.NewInquiry(id="ok1", shop="s1", skill="pre_sales"),
        p.NewInquiry(id="bad", shop="nowhere", skill="pre_sales"),
        p.NewInquiry(id="ok1", shop="s1", skill="pre_sales"),
        p.NewInquiry(id="ok2", shop="s1", skill="pre_sales"),
    ])
    assert isinstance(reply, p.Submitted) and reply.accepted == 2
    assert [(r.index, r.code) for r in reply.rejected] == [(1, ErrorCode.NOT_FOUND), (2, ErrorCode.BAD_REQUEST)]
    assert set(h.core.inquiries) == {"ok1", "ok2"}


def test_snapshot_is_split_in_parts_and_ends_with_its_seq(h):
    _submit(h, *[f"q{i}" for i in range(p.SNAPSHOT_PART_RECORDS + 10)])
    replies = h.send(p.Snapshot, "supervisor", "boss")
    *parts, end = replies
    assert all(isinstance(r, p.SnapshotPart) for r in parts) and len(parts) == 2
    assert isinstance(end, p.SnapshotEnd)
    records = [r for part in parts for r in part.records]
    assert end.records == len(records) and end.seq == h.core.seq and end.epoch == h.service.epoch
    assert {r.id for r in records if isinstance(r, p.InquiryRecord)} == set(h.core.inquiries)
    assert {r.id for r in records if isinstance(r, p.AgentRecord)} == set(h.core.agents)
    only_agents = h.send(p.Snapshot, "agent", "a1", streams=["agent"])
    assert isinstance(only_agents, list)
    assert {type(r) for part in only_agents[:-1] for r in part.records} == {p.AgentRecord}


def test_shutdown_is_an_admin_command(h):
    _error(h.send(p.Shutdown, "supervisor", "boss", reason="home time"), ErrorCode.FORBIDDEN)
    assert h.shutdowns == []
    assert isinstance(h.send(p.Shutdown, "admin", "root", reason="maintenance"), p.Ok)
    assert h.shutdowns == ["maintenance"]


# --------------------------------------------------------------------------- roles

@pytest.mark.parametrize("cls, fields", [
    (p.SetQuotas, dict(agent="a1", quotas=p.Quotas(concurrent_cap=50), reason="me")),
    (p.Reassign, dict(inquiry="q1", to_agent="a1")),
    (p.SetMode, dict(shop="s1", mode="assign")),
    (p.SetQuality, dict(agent="a1", quality=100.0)),
    (p.DefineAgents, dict(agents=[p.AgentSpec(id="a1", skills={"complaint": 5})])),
    (p.Submit, dict(inquiries=[p.NewInquiry(id="fake", shop="s1", skill="pre_sales")])),
    (p.Abandon, dict(inquiry="q1")),
    (p.QueryAudit, {}),
    (p.Shutdown, {}),
])
def test_agent_cannot_send_other_roles_commands_and_the_attempt_is_audited(h, cls, fields):
    _submit(h, "q1")
    before = msgspec.to_builtins(h.core.snapshot_records())
    reply = h.send(cls, "agent", "a1", **fields)
    error = _error(reply, ErrorCode.FORBIDDEN)
    assert "agent" in error.reason
    assert msgspec.to_builtins(h.core.snapshot_records()) == before, "a forbidden command changed state"
    kind = cls.__struct_config__.tag
    [entry] = [e for e in h.audit(actor="a1") if e.kind == kind]
    assert (entry.role, entry.ok) == ("agent", False)
    assert h.service.counters["refused.forbidden"] == 1


def test_a_refused_command_cannot_grow_the_audit_journal_by_its_record_size(h):
    # record ids have no length limit of their own; the audit entry's subject has
    reply = h.send(p.DefineShop, "agent", "a1", shop=p.ShopRecord(id="x" * 100_000))
    _error(reply, ErrorCode.FORBIDDEN)
    [entry] = [e for e in h.audit(actor="a1") if e.kind == "define_shop"]
    assert entry.subject == "x" * p.MAX_ID_CHARS


def test_intake_cannot_grab_and_supervisor_cannot_grab_or_define(h):
    _submit(h, "q1")
    _error(h.send(p.Grab, "intake", "gw", grab_id="g", inquiry="q1"), ErrorCode.FORBIDDEN)
    _error(h.send(p.Grab, "supervisor", "boss", grab_id="g", inquiry="q1"), ErrorCode.FORBIDDEN)
    _error(h.send(p.DefineShop, "supervisor", "boss", shop=p.ShopRecord(id="s9")), ErrorCode.FORBIDDEN)
    _error(h.send(p.Reassign, "intake", "gw", inquiry="q1", to_agent="a1"), ErrorCode.FORBIDDEN)
    assert h.core.inquiries["q1"].state == "queued" and "s9" not in h.core.shops


def test_agent_acts_only_for_itself(h):
    error = _error(h.send(p.SetStatus, "agent", "a1", status="away", agent="a2"), ErrorCode.FORBIDDEN)
    assert "own" in error.reason
    assert h.core.agents["a2"].status == "online"
    assert isinstance(h.send(p.SetStatus, "agent", "a1", status="away", agent="a1"), p.Ok)
    # a supervisor may set anyone's status
    assert isinstance(h.send(p.SetStatus, "supervisor", "boss", status="break", agent="a2"), p.Ok)
    assert h.core.agents["a2"].status == "break"
    # an agent cannot work another agent's inquiry either
    _submit(h, "q1")
    h.send(p.Grab, "agent", "a3", grab_id="g", inquiry="q1")
    _error(h.send(p.Resolve, "agent", "a1", inquiry="q1"), ErrorCode.FORBIDDEN)
    _error(h.send(p.Release, "agent", "a1", inquiry="q1"), ErrorCode.FORBIDDEN)
    assert h.core.inquiries["q1"].owner == "a3"


def test_an_authenticated_key_cannot_speak_for_someone_else(h):
    _submit(h, "q1")
    peer = Peer(authenticated=("agent", "a1"))
    error = _error(h.send(p.Grab, "agent", "a2", peer=peer, grab_id="g", inquiry="q1"), ErrorCode.UNAUTHENTICATED)
    assert "a1" in error.reason
    assert h.core.inquiries["q1"].state == "queued"
    assert h.send(p.Grab, "agent", "a1", peer=peer, grab_id="g", inquiry="q1").outcome == "won"


def test_unknown_agent(h):
    _submit(h, "q1")
    error = _error(h.send(p.Grab, "agent", "ghost", grab_id="g", inquiry="q1"), ErrorCode.FORBIDDEN)
    assert "ghost" in error.reason
    _error(h.send(p.Reassign, "supervisor", "boss", inquiry="q1", to_agent="ghost"), ErrorCode.NOT_FOUND)
    _error(h.send(p.SetQuotas, "supervisor", "boss", agent="ghost", quotas=p.Quotas(daily_grabs=3)),
           ErrorCode.NOT_FOUND)
    _error(h.send(p.Reassign, "supervisor", "boss", inquiry="nope", to_agent="a1"), ErrorCode.NOT_FOUND)
    assert h.core.inquiries["q1"].state == "queued"


def test_admin_may_send_every_command(h):
    _submit(h, "q1")
    assert isinstance(h.send(p.SetQuotas, "admin", "root", group="day", quotas=p.Quotas(daily_grabs=9)), p.Ok)
    assert isinstance(h.send(p.Reassign, "admin", "root", inquiry="q1", to_agent="a1"), p.Ok)
    assert isinstance(h.send(p.Abandon, "admin", "root", inquiry="q1"), p.Ok)
    assert isinstance(h.send(p.QueryAudit, "admin", "root"), p.AuditPage)


# --------------------------------------------------------------------------- audit

def test_supervisor_actions_are_audited_with_actor_and_reason(h):
    _submit(h, "q1")
    h.send(p.Grab, "agent", "a1", grab_id="g", inquiry="q1")
    h.clock.advance(5)
    h.send(p.SetQuotas, "supervisor", "boss", agent="a2", quotas=p.Quotas(concurrent_cap=1), reason="new hire")
    h.send(p.Reassign, "supervisor", "boss", inquiry="q1", to_agent="a2", reason="a1 at lunch")
    h.send(p.SetMode, "supervisor", "lead", shop="s1", mode="hybrid", reason="evening rush")
    h.send(p.SetQuality, "supervisor", "lead", agent="a3", quality=50.0, reason="complaints")
    refused = h.send(p.Reassign, "supervisor", "boss", inquiry="q1", to_agent="a2", reason="again")
    _error(refused, ErrorCode.INVALID_STATE)

    entries = h.audit()
    by_kind = {}
    for e in entries:
        by_kind.setdefault(e.kind, []).append(e)
    quota = by_kind["set_quotas"][0]
    assert (quota.actor, quota.role, quota.subject, quota.reason, quota.ok) == \
        ("boss", "supervisor", "a2", "new hire", True)
    reassigns = sorted(by_kind["reassign"], key=lambda e: e.seq)
    assert [(e.actor, e.subject, e.ok) for e in reassigns] == [("boss", "q1", True), ("boss", "q1", False)]
    assert reassigns[0].reason == "a1 at lunch"
    assert reassigns[1].reason == refused.reason  # a refusal is journaled with why
    assert (by_kind["set_mode"][0].actor, by_kind["set_mode"][0].reason) == ("lead", "evening rush")
    assert by_kind["set_quality"][0].subject == "a3"
    assert [e.seq for e in entries] == sorted((e.seq for e in entries), reverse=True), "newest first"
    assert all(e.at for e in entries)

    assert {e.actor for e in h.audit(actor="lead")} == {"lead"}
    assert {e.kind for e in h.audit(kind_prefix="set_q")} == {"set_quotas", "set_quality"}
    assert [e.kind for e in h.audit(only_refusals=True)] == ["reassign"]
    assert len(h.audit(limit=2)) == 2


# --------------------------------------------------------------------------- bad input

def _envelope(**fields) -> dict:
    base = {"v": p.PROTOCOL_VERSION, "id": "m-bad", "role": "agent", "who": "a1"}
    base.update(fields)
    return base


def _pack(obj) -> bytes:
    return msgspec.msgpack.encode(obj)


@pytest.mark.parametrize("data", [
    b"\xc1",                      # a byte MessagePack never uses
    b"\x85\xa1v",                 # a map cut short
    b"",                          # nothing at all
    _pack(_envelope(type="hello")) + b"\x00",  # trailing garbage
    _pack(_envelope(type="hello", who="ab")).replace(b"\xa2ab", b"\xa2\xc3\x28"),  # invalid UTF-8
    _pack(_envelope(type="hello")).replace(b"hello", b"h\xffllo"),  # invalid UTF-8 in the tag
], ids=["reserved-byte", "truncated", "empty", "trailing", "bad-utf8", "bad-utf8-tag"])
def test_malformed_msgpack_is_a_bad_request(h, data):
    [reply] = h.raw(data)
    _error(reply, ErrorCode.BAD_REQUEST)
    assert reply.re in ("", "m-bad")
    assert h.service.counters["bad_requests"] == 1


@pytest.mark.parametrize("obj", [[1, 2, 3], "hello", 42, None, {1: 2}], ids=["list", "str", "int", "nil", "intkeys"])
def test_not_a_map_is_a_bad_request(h, obj):
    [reply] = h.raw(_pack(obj))
    _error(reply, ErrorCode.BAD_REQUEST)


def test_unknown_type_is_a_bad_request_naming_the_type(h):
    [reply] = h.raw(_pack(_envelope(type="teleport")))
    error = _error(reply, ErrorCode.BAD_REQUEST)
    assert error.re == "m-bad" and "teleport" in error.reason and error.detail.get("field") == "type"


@pytest.mark.parametrize("extra", [{}, {"bogus": 1}], ids=["well-formed", "also-malformed"])
@pytest.mark.parametrize("version", [p.PROTOCOL_VERSION + 1, 0])
def test_another_integer_version_is_unsupported_version(h, extra, version):
    [reply] = h.raw(_pack(_envelope(v=version, type="hello", **extra)))
    error = _error(reply, ErrorCode.UNSUPPORTED_VERSION)
    assert error.re == "m-bad" and error.detail.get("supported") == p.PROTOCOL_VERSION


@pytest.mark.parametrize("version", ["1", 1.0, True, None, "missing"])
def test_a_missing_or_non_integer_version_is_a_bad_request_naming_v(h, version):
    """docs/protocol.md 18.2: only an integer names a version."""
    envelope = _envelope(type="hello")
    if version == "missing":
        del envelope["v"]
    else:
        envelope["v"] = version
    [reply] = h.raw(_pack(envelope))
    error = _error(reply, ErrorCode.BAD_REQUEST)
    assert error.re == "m-bad" and error.detail.get("field") == "v"


@pytest.mark.parametrize("fields, name", [
    (dict(type="grab", inquiry="q1"), "grab_id"),                     # missing
    (dict(type="grab", grab_id="g", inquiry=5), "inquiry"),           # wrong type
    (dict(type="set_status", status="asleep"), "status"),             # not one of the values
    (dict(type="grab", grab_id="g", inquiry="q1", extra=True), "extra"),  # unknown field
    (dict(type="submit", inquiries=[{"id": "x", "skill": "pre_sales"}]), "shop"),  # nested
    (dict(type="hello", role="janitor"), "role"),
    (dict(type="hello", who=None), "who"),
], ids=["missing", "wrong-type", "bad-literal", "extra-field", "nested-missing", "bad-role", "null-who"])
def test_invalid_fields_are_bad_requests_echoing_the_id(h, fields, name):
    [reply] = h.raw(_pack(_envelope(**fields)))
    error = _error(reply, ErrorCode.BAD_REQUEST)
    assert error.re == "m-bad", "the id was readable: the client must be able to match the refusal"
    assert name in error.reason


@pytest.mark.parametrize("fields", [dict(v="1"), dict(type=7), dict(v=None)], ids=["v-str", "type-int", "v-nil"])
def test_wrongly_typed_envelope_field_still_echoes_a_readable_id(h, fields):
    [reply] = h.raw(_pack({**_envelope(type="hello"), **fields}))
    error = _error(reply, ErrorCode.BAD_REQUEST)
    assert error.re == "m-bad"


def test_unreadable_id_is_answered_with_an_empty_re(h):
    [reply] = h.raw(_pack(_envelope(type="hello", id=12)))
    assert _error(reply, ErrorCode.BAD_REQUEST).re == ""


def test_oversized_command_is_too_large(tmp_path):
    h = Harness(tmp_path, max_command_bytes=2048)
    try:
        h.send(p.DefineShop, "admin", "root", shop=p.ShopRecord(id="s1"))
        big = h.cmd(p.Submit, "intake", "gw", inquiries=[
            p.NewInquiry(id=f"q{i}", shop="s1", skill="pre_sales", customer="x" * 100) for i in range(30)])
        data = p.encode(big)
        assert len(data) > 2048
        [reply] = h.raw(data)
        error = _error(reply, ErrorCode.TOO_LARGE)
        assert error.detail == {"limit": 2048, "size": len(data)}
        assert h.core.inquiries == {}, "nothing of an oversized command may be applied"
        assert h.service.counters["refused.too-large"] == 1
    finally:
        h.store.close()


def test_bad_frames_are_counted_logged_sparingly_and_do_not_stop_service(h, caplog):
    caplog.set_level(logging.WARNING, logger="broker.service.dispatch")
    before = dict(h.service.counters)
    for i in range(200):
        h.raw(b"\xc1" if i % 2 else _pack(_envelope(type="teleport")))
    counters = h.service.counters
    assert counters["bad_requests"] - before.get("bad_requests", 0) == 200
    assert counters["refused.bad-request"] - before.get("refused.bad-request", 0) == 200
    assert counters["commands"] - before.get("commands", 0) == 200
    warnings = [r for r in caplog.records if r.name == "broker.service.dispatch"]
    assert 1 <= len(warnings) <= 4, f"{len(warnings)} log lines for 200 bad frames"
    # everyone else is still served
    _submit(h, "q1")
    assert h.send(p.Grab, "agent", "a1", grab_id="g", inquiry="q1").outcome == "won"


def test_a_grab_flood_from_one_agent_is_rate_limited_without_hurting_others(tmp_path):
    h = Harness(tmp_path, grab_rate_per_s=5.0)
    try:
        h.send(p.DefineShop, "admin", "root", shop=p.ShopRecord(id="s1"))
        h.send(p.DefineAgents, "admin", "root", agents=[
            p.AgentSpec(id=a, skills={"pre_sales": 3}, quality=95) for a in ("flood", "calm")])
        for a in ("flood", "calm"):
            h.send(p.SetStatus, "agent", a, status="online")
        _submit(h, "q1")
        replies = [h.send(p.Grab, "agent", "flood", grab_id=f"f{i}", inquiry="nope") for i in range(40)]
        limited = [r for r in replies if isinstance(r, p.Error)]
        assert limited and all(r.code == ErrorCode.RATE_LIMITED for r in limited)
        assert len(replies) - len(limited) <= 11  # a burst of twice the rate, plus refill
        assert h.send(p.Grab, "agent", "calm", grab_id="c1", inquiry="q1").outcome == "won"
    finally:
        h.store.close()


def test_counters_follow_what_happened(h):
    before = dict(h.service.counters)
    _submit(h, "q1", "q2")
    h.send(p.Grab, "agent", "a1", grab_id="g1", inquiry="q1")
    h.send(p.Grab, "agent", "a2", grab_id="g2", inquiry="q1")
    h.send(p.Grab, "agent", "a2", grab_id="g3", inquiry="nope")
    h.send(p.Reassign, "agent", "a2", inquiry="q1", to_agent="a2")
    h.send(p.Release, "agent", "a2", inquiry="q1")
    c = h.service.counters

    def delta(key):
        return c[key] - before.get(key, 0)

    assert delta("commands") == 6 and delta("submitted") == 2
    assert (delta("grab.won"), delta("grab.lost"), delta("grab.refused")) == (1, 1, 1)
    assert delta("refused.forbidden") == 2
    assert delta("bad_requests") == 0


def test_handler_exception_becomes_internal_error_and_service_goes_on(h, monkeypatch, caplog):
    _submit(h, "q1")

    def broken(cmd):
        raise RuntimeError("boom")

    monkeypatch.setitem(h.service._handlers, p.Grab, broken)
    with caplog.at_level(logging.ERROR, logger="broker.service.dispatch"):
        reply = h.send(p.Grab, "agent", "a1", grab_id="g1", inquiry="q1")
    error = _error(reply, ErrorCode.INTERNAL)
    assert "boom" not in error.reason  # internals stay in the log
    assert any("boom" in (r.exc_text or "") or (r.exc_info and "boom" in str(r.exc_info[1]))
               for r in caplog.records)
    assert h.service.counters["internal_errors"] == 1

    # the rest of the surface is unaffected, and so is the grab once the handler is fixed
    assert isinstance(h.send(p.Hello, "agent", "a2"), p.Welcome)
    monkeypatch.undo()
    assert h.send(p.Grab, "agent", "a1", grab_id="g2", inquiry="q1").outcome == "won"


def test_core_exception_becomes_internal_error(h, monkeypatch):
    _submit(h, "q1")
    monkeypatch.setattr(h.core, "respond", lambda *a: 1 / 0)
    h.send(p.Grab, "agent", "a1", grab_id="g1", inquiry="q1")
    _error(h.send(p.FirstResponse, "agent", "a1", inquiry="q1"), ErrorCode.INTERNAL)
    assert isinstance(h.send(p.Resolve, "agent", "a1", inquiry="q1", satisfaction=5), p.Ok)


def test_refusals_inside_handlers_carry_plain_detail(h):
    _submit(h, "q1")
    h.send(p.Grab, "agent", "a1", grab_id="g1", inquiry="q1")
    error = _error(h.send(p.FirstResponse, "agent", "a2", inquiry="q1"),
                   ErrorCode.FORBIDDEN)
    assert error.detail == {"owner": "a1"}
    error = _error(h.send(p.Resolve, "agent", "a1", inquiry="q1", satisfaction=9), ErrorCode.BAD_REQUEST)
    assert error.detail.get("field") == "satisfaction"
    _error(h.send(p.QueryStats, "supervisor", "boss", since=10.0, until=20.0), ErrorCode.NOT_FOUND)
