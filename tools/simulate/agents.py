"""One simulated agent on a live broker: shift, grabs, work.

A ``SimAgent`` is driven entirely by its :class:`~tools.simulate.runner.Simulation`
on the simulation's one thread: the simulation tells it when its shift starts
and ends, when an inquiry enters the pool and when the broker says it holds
one; it answers by scheduling its own next steps on the simulation's timer
heap and sending commands through its own ``BrokerClient`` (``follow=False``:
commands and replies only, so the broker sees an agent speaking for itself,
exactly like an agent window). Nothing here blocks: replies come back as
callbacks on the simulation thread.

Life of one inquiry for an agent::

    notice (pool event) --reaction delay--> grab --won--> respond --handling--> resolve
                                                                              | release
                                                                              | transfer

It never decides a grab: it sends one and reads the verdict. What it sees
(the pool, its own record with its quotas and visibility delay) comes from
the simulation's mirror, which is the broker's published state.
"""
from __future__ import annotations

import logging
import random
import time
from concurrent.futures import Future
from dataclasses import dataclass
from typing import TYPE_CHECKING

from broker.wire import protocol as p
from broker.wire.client import BrokerClient, BrokerRefused, new_grab_id
from broker.arbiter.rules import ineligible_rule
from tools.simulate.personas import DEFAULT_AHT_S, Persona

if TYPE_CHECKING:
    from tools.simulate.runner import Simulation

log = logging.getLogger(__name__)

#: after a refused status change (e.g. a forced break), try again this much later (real s)
STATUS_RETRY_S = 5.0
#: a refusal code that means "this inquiry is gone or no longer yours": drop the job quietly
_GONE = frozenset({p.ErrorCode.FORBIDDEN, p.ErrorCode.INVALID_STATE, p.ErrorCode.NOT_FOUND})


@dataclass
class Job:
    """An inquiry the agent holds, and how it will end."""

    inquiry: str
    skill: str
    #: "resolve", "release" or "transfer", decided when the agent takes it
    ending: str
    responded: bool = False
    cancelled: bool = False


class SimAgent:
    """A simulated agent: follows its roster, grabs with its habits, works inquiries."""

    def __init__(self, sim: "Simulation", persona: Persona, rng: random.Random):
        self.sim = sim
        self.id = persona.agent_id
        self.persona = persona
        self.rng = rng
        self.client: BrokerClient | None = None
        #: "off" (no client), "joining" (asked to be online), "on", "leaving" (wrapping up)
        self.state = "off"
        #: inquiry id -> queued_at of the pool entry already looked at (each entry once)
        self.noticed: dict[str, float] = {}
        #: noticed and wanted, but the agent was full at the time: inquiry id -> queued_at
        self.backlog: dict[str, float] = {}
        self.jobs: dict[str, Job] = {}
        self.grabs_in_flight = 0
        self._status_retry_at = 0.0
        self._status_in_flight = False

    # ------------------------------------------------------------------ views

    @property
    def record(self) -> p.AgentRecord | None:
        """The broker's record of this agent, as last published."""
        return self.sim.mirror.agents.get(self.id)

    @property
    def grabbing(self) -> bool:
        record = self.record
        return self.state == "on" and record is not None and record.status == "online"

    def _free_slots(self) -> int:
        record = self.record
        if record is None:
            return 0
        limit = self.persona.slots(record.effective.concurrent_cap)
        busy = max(record.held, len(self.jobs)) + self.grabs_in_flight
        daily = record.effective.daily_grabs
        if daily is not None and record.grabs_today + self.grabs_in_flight >= daily:
            return 0
        return limit - busy

    # ------------------------------------------------------------------ shift

    def start_shift(self) -> None:
        """The roster says this agent works now: connect and go online."""
        if self.client is None:
            self.client = BrokerClient(self.sim.command_endpoint, self.sim.events_endpoint, "agent",
                                       self.id, follow=False, name=f"sim-{self.id}",
                                       curve=self.sim.curve).start()
        self.state = "joining"
        self._request_status("online")

    def end_shift(self) -> None:
        """The shift is over: stop grabbing, finish what is held, then sign off."""
        self.state = "leaving"
        self.backlog.clear()
        self._request_status("away")
        self._maybe_sign_off()

    def keep_status(self, now: float) -> None:
        """Called every roster check: repair a status the broker changed under us.

        The broker marks a silent agent offline (a hiccup); a rostered agent
        comes back. A forced break or a supervisor's "away" is respected.
        """
        record = self.record
        if self.state == "joining" and not self._status_in_flight and now >= self._status_retry_at:
            self._request_status("online")
        elif self.state == "on" and record is not None and record.status == "offline" \
                and not self._status_in_flight and now >= self._status_retry_at:
            self.state = "joining"
            self._request_status("online")

    def _request_status(self, status: str) -> None:
        self._status_in_flight = True
        self.sim.send(self.client, self._status_done(status), p.SetStatus, status=status)

    def _status_done(self, status: str):
        def done(future: Future) -> None:
            self._status_in_flight = False
            try:
                future.result()
            except BrokerRefused as refusal:
                # e.g. quota-hours: a forced break is running; try again later
                log.info("%s: status %s refused: %s", self.id, status, refusal.reason)
                self._status_retry_at = time.monotonic() + STATUS_RETRY_S
                return
            except (TimeoutError, ConnectionError) as exc:
                self.sim.stats.errors += 1
                log.info("%s: status %s not confirmed: %s", self.id, status, exc)
                self._status_retry_at = time.monotonic() + STATUS_RETRY_S
                return
            if status == "online" and self.state == "joining":
                self.state = "on"
                self.sim.show_pool(self)
            elif status == "offline" and self.state == "off":
                self._disconnect()
        return done

    def _maybe_sign_off(self) -> None:
        if self.state == "leaving" and not self.jobs and not self.grabs_in_flight:
            self.state = "off"
            self._request_status("offline")

    def _disconnect(self) -> None:
        if self.client is not None and self.state == "off":
            client, self.client = self.client, None
            client.stop(timeout_s=1.0)

    def close(self) -> list[Future]:
        """Simulation over: say offline. Returns the pending request; the caller disconnects."""
        self.state = "off"
        if self.client is None:
            return []
        return [self.client.request(p.SetStatus, status="offline")]

    # ------------------------------------------------------------------ grabbing

    def notice(self, inq: p.InquiryRecord) -> None:
        """An inquiry entered the pool (or the agent just came online and looks)."""
        if not self.grabbing or self.noticed.get(inq.id) == inq.queued_at:
            return
        record = self.record
        if record is None or ineligible_rule(record, inq) is not None:
            return
        self.noticed[inq.id] = inq.queued_at
        reaction_s = self.persona.reaction_s(self.rng, inq.skill, inq.priority)
        if reaction_s is None:
            return  # a picky agent passes it over
        # The broker shows it to this agent only after its tier/fair-share delay,
        # counted on the broker's clock from when it entered the pool.
        visible_in_s = self.sim.broker_real_s(max(0.0, inq.queued_at + record.visibility_delay_s
                                                  - self.sim.floor_now()))
        queued_at = inq.queued_at
        self.sim.after(visible_in_s + self.sim.clock.real_s(reaction_s),
                       lambda: self._consider(inq.id, queued_at))

    def _still_queued(self, inquiry_id: str, queued_at: float) -> p.InquiryRecord | None:
        inq = self.sim.mirror.inquiries.get(inquiry_id)
        if inq is None or inq.state != "queued" or inq.queued_at != queued_at:
            return None
        return inq

    def _consider(self, inquiry_id: str, queued_at: float) -> None:
        if not self.grabbing or self._still_queued(inquiry_id, queued_at) is None:
            return
        if self._free_slots() <= 0:
            self.backlog[inquiry_id] = queued_at
            return
        self._grab(inquiry_id)

    def pull_backlog(self) -> None:
        """A slot came free: take the most urgent, longest-waiting inquiry noticed meanwhile."""
        if not self.grabbing:
            return
        while self.backlog and self._free_slots() > 0:
            live = []
            for inquiry_id, queued_at in list(self.backlog.items()):
                inq = self._still_queued(inquiry_id, queued_at)
                if inq is None:
                    del self.backlog[inquiry_id]
                else:
                    live.append(inq)
            if not live:
                return
            best = self.persona.most_urgent(live)
            del self.backlog[best.id]
            self._grab(best.id)

    def _grab(self, inquiry_id: str) -> None:
        self.grabs_in_flight += 1
        self.sim.send(self.client, lambda f: self._verdict(inquiry_id, f), p.Grab,
                      grab_id=new_grab_id(), inquiry=inquiry_id)

    def _verdict(self, inquiry_id: str, future: Future) -> None:
        self.grabs_in_flight -= 1
        stats = self.sim.stats
        try:
            verdict: p.Verdict = future.result()
        except (BrokerRefused, TimeoutError, ConnectionError) as exc:
            stats.errors += 1
            log.info("%s: grab of %s failed: %s", self.id, inquiry_id, exc)
            return
        if verdict.outcome == "won":
            stats.grabs_won += 1
            inq = self.sim.mirror.inquiries.get(inquiry_id)
            if inq is not None:
                self.holds(inq)
        elif verdict.outcome == "lost":
            stats.grabs_lost += 1
        else:
            stats.grabs_refused += 1
            stats.refusals[verdict.code.value if verdict.code else "?"] += 1
        self.pull_backlog()
        self._maybe_sign_off()

    # ------------------------------------------------------------------ work

    def holds(self, inq: p.InquiryRecord) -> None:
        """The broker gave this agent ``inq`` (a won grab, an assignment or a transfer)."""
        if inq.id in self.jobs or self.client is None:
            return
        self.backlog.pop(inq.id, None)
        job = Job(inq.id, inq.skill, self.persona.outcome(self.rng))
        self.jobs[inq.id] = job
        if inq.first_response_at is not None:
            # a transferred inquiry was answered already: straight to handling
            job.responded = True
            self._schedule_finish(job)
        else:
            delay_s = self.persona.response_s(self.rng)
            if inq.taken_by == "assign":  # pushed: first the person has to notice it
                delay_s += self.persona.accept_s(self.rng, inq.priority)
            self.sim.after(self.sim.clock.real_s(delay_s), lambda: self._respond(job))

    def lost_hold(self, inquiry_id: str) -> None:
        """The inquiry left this agent (closed, reclaimed, reassigned by a supervisor)."""
        job = self.jobs.pop(inquiry_id, None)
        if job is not None:
            job.cancelled = True
            self.pull_backlog()
            self._maybe_sign_off()

    def _respond(self, job: Job) -> None:
        if job.cancelled:
            return
        self.sim.send(self.client, lambda f: self._responded(job, f), p.FirstResponse,
                      inquiry=job.inquiry)

    def _responded(self, job: Job, future: Future) -> None:
        if not self._job_reply_ok(job, future):
            return
        self.sim.stats.responded += 1
        job.responded = True
        self._schedule_finish(job)

    def _schedule_finish(self, job: Job) -> None:
        record = self.record
        proficiency = record.skills.get(job.skill, 3) if record is not None else 3
        aht_s = self.sim.aht_s.get(job.skill, DEFAULT_AHT_S)
        handling_s = self.persona.handling_s(self.rng, aht_s, proficiency) * \
            self.persona.overload_factor(len(self.jobs))
        self.sim.after(self.sim.clock.real_s(handling_s), lambda: self._finish(job))

    def _finish(self, job: Job) -> None:
        if job.cancelled:
            return
        if job.ending == "transfer":
            target = self.sim.transfer_target(self, job.inquiry)
            if target is not None:
                self.sim.send(self.client, lambda f: self._transferred(job, f), p.Transfer,
                              inquiry=job.inquiry, to_agent=target)
                return
            job.ending = "resolve"  # nobody free to take it: finish it yourself
        if job.ending == "release":
            self.sim.send(self.client, lambda f: self._closed(job, f, "released"), p.Release,
                          inquiry=job.inquiry)
            return
        self.sim.send(self.client, lambda f: self._closed(job, f, "resolved"), p.Resolve,
                      inquiry=job.inquiry, satisfaction=self.persona.satisfaction(self.rng))

    def _transferred(self, job: Job, future: Future) -> None:
        refusal = future.exception()
        if isinstance(refusal, BrokerRefused) and refusal.code not in _GONE:
            # the colleague filled up or went away meanwhile: resolve it after all
            job.ending = "resolve"
            self._finish(job)
            return
        # Any other failure (no answer, lost connection) must still drop the job,
        # or a leaving agent would wait for it forever and never sign off.
        self._closed(job, future, "transferred")

    def _closed(self, job: Job, future: Future, counter: str) -> None:
        if not self._job_reply_ok(job, future):
            return
        setattr(self.sim.stats, counter, getattr(self.sim.stats, counter) + 1)
        self.jobs.pop(job.inquiry, None)
        self.pull_backlog()
        self._maybe_sign_off()

    def _job_reply_ok(self, job: Job, future: Future) -> bool:
        """True if the command went through; otherwise the job is dropped."""
        try:
            future.result()
            return True
        except BrokerRefused as refusal:
            if refusal.code not in _GONE:
                self.sim.stats.errors += 1
                log.warning("%s: %s on %s refused: %s", self.id, job.ending, job.inquiry, refusal.reason)
        except (TimeoutError, ConnectionError) as exc:
            self.sim.stats.errors += 1
            log.info("%s: no answer about %s: %s", self.id, job.inquiry, exc)
        if self.jobs.get(job.inquiry) is job:
            del self.jobs[job.inquiry]
        job.cancelled = True
        self.pull_backlog()
        self._maybe_sign_off()
        return False
