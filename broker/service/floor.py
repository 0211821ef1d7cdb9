"""What supervisors see of the floor: metrics, coverage, rosters, statistics.

Attached to a running ``BrokerServer`` by ``attach``:

* **Floor metrics** (``metrics.floor`` events, every second): queue depth and
  longest waiter per skill (kept incrementally by the core), agents online
  and at cap, load Gini per group, SLA attainment over the last hour and
  today, time to grab / first response / resolution (median and p90 over the
  last hour, from at most ``SAMPLE_CAP`` recent inquiries), abandons.
* **Coverage** (``coverage.updated`` events): for the next 24 hours per hour
  and skill, agents rostered versus required by Erlang C, and right now
  rostered / online / at cap. Computed on a worker thread (it reads arrival
  history from the store and runs Erlang C), every ``COVERAGE_INTERVAL_S`` and
  whenever the roster or quotas change. The worker never reads the arbiter:
  the loop hands it a request carrying a snapshot of what it needs (the
  agents' skills, the roster, the floor's time) and publishes the result.
* **Rosters**: loaded at start (config ``roster``, or the last one accepted),
  replaced live by ``replace_roster`` (all or nothing, with line numbers).
* **Statistics** (``query_stats`` and ``grabdesk report``): per agent and
  skill, resolved count, first-response and resolution medians, satisfaction.
* **Alerts**: uneven grabbing (Gini above ``gini_alert``) and coverage gaps in
  the next hours, at most once per ``ALERT_REPEAT_S`` per group or skill.
"""
from __future__ import annotations

import logging
import queue
import threading
import time
from collections import deque
from operator import itemgetter
from datetime import datetime, timedelta, timezone
from typing import Callable, Iterator, NamedTuple
from zoneinfo import ZoneInfo

from broker.service.robotstats import RobotStats
from broker.wire import protocol as p
from broker.staffing import reports
from broker.arbiter.core import Arbiter, Refusal
from broker.wire.protocol import ErrorCode
from broker.arbiter.rules import at_cap, gini, ineligible_rule
from broker.service.config import FileConfig
from broker.service.dispatch import Service

log = logging.getLogger(__name__)

METRICS_INTERVAL_S = 1.0
COVERAGE_INTERVAL_S = 60.0
#: most recent inquiries kept per figure for medians and p90s
SAMPLE_CAP = 5_000
#: the same alert for the same group/skill is not repeated sooner than this
ALERT_REPEAT_S = 600.0
#: coverage gaps are alerted for this many hours ahead
GAP_ALERT_HOURS = 4
#: metrics ticks of queue history kept: four hours at one a second
QUEUE_HISTORY_SAMPLES = 4 * 3600
#: coverage's "now" column follows who is online or at cap at most this often (real seconds)
COVERAGE_NOW_EVERY_S = 2.0
#: queued work nobody online may take is alerted once it has been so this long (long enough for
#: a shift's agents to log in after a restart; far sooner than any first-response SLA)
UNCOVERED_ALERT_AFTER_S = 30.0
#: how often the pool's kinds of need are checked against who is online
UNCOVERED_CHECK_EVERY_S = 5.0
#: a group needs this many grabs per online agent today before its Gini means anything
GINI_MIN_MEAN_GRABS = 5.0
HOUR_S = 3600.0


#: medians and p90s are recomputed at most this often (sorting is the costly part)
TIMES_EVERY_S = 5.0
#: samples sorted per slice of the loop's turn (about 0.06 ms for 1,000)
SORT_CHUNK = 1_000
#: agents counted per slice of the loop's turn for the metrics
AGENTS_PER_SLICE = 500
_sample_value = itemgetter(1)


class FloorStats:
    """Rolling statistics fed by the core's take/close observers. Pure: no I/O.

    Everything here runs on the broker's loop, so each observer call is O(1)
    and a metrics tick costs what expired since the last one, not the hour.
    """

    def __init__(self, today):
        #: fn(now) -> the quota day's name (the core's, which caches midnight)
        self._today = today
        self.day = ""
        #: (closed_at, frt_met, res_met) of inquiries closed in the last hour
        self.hour: deque[tuple[float, bool | None, bool | None]] = deque()
        #: running sums over ``hour``: [frt met, frt n, res met, res n]
        self._hour_sums = [0, 0, 0, 0]
        self._times: dict[str, tuple[float, float]] = {}
        self._times_at = float("-inf")
        self.today = {"frt_met": 0, "frt_n": 0, "res_met": 0, "res_n": 0, "abandoned": 0, "resolved": 0}
        self.time_to_grab: deque[tuple[float, float]] = deque(maxlen=SAMPLE_CAP)
        self.first_response: deque[tuple[float, float]] = deque(maxlen=SAMPLE_CAP)
        self.resolution: deque[tuple[float, float]] = deque(maxlen=SAMPLE_CAP)
        self.arrivals: deque[float] = deque()

    def _roll(self, now: float) -> None:
        day = self._today(now)
        if day != self.day:
            self.day = day
            for key in self.today:
                self.today[key] = 0

    def taken(self, inq: p.InquiryRecord, now: float) -> None:
        if inq.taken_by in ("grab", "assign"):
            self.time_to_grab.append((now, now - inq.queued_at))

    def closed(self, inq: p.InquiryRecord, now: float, sla: p.SlaPolicy) -> None:
        self._roll(now)
        frt_met = res_met = None
        if inq.state == "abandoned":
            self.today["abandoned"] += 1
            if inq.first_response_at is None:
                frt_met = now - inq.arrived_at <= sla.first_response_s
        else:
            self.today["resolved"] += 1
            frt_s = (inq.first_response_at or now) - inq.arrived_at
            res_s = now - inq.arrived_at
            frt_met = frt_s <= sla.first_response_s
            res_met = res_s <= sla.resolution_s
            self.first_response.append((now, frt_s))
            self.resolution.append((now, res_s))
        sums = self._hour_sums
        if frt_met is not None:
            self.today["frt_n"] += 1
            self.today["frt_met"] += frt_met
            sums[0] += frt_met
            sums[1] += 1
        if res_met is not None:
            self.today["res_n"] += 1
            self.today["res_met"] += res_met
            sums[2] += res_met
            sums[3] += 1
        self.hour.append((now, frt_met, res_met))

    def arrived(self, now: float) -> None:
        self.arrivals.append(now)

    def attainment(self, now: float) -> dict[str, float]:
        self._roll(now)
        sums = self._hour_sums
        while self.hour and self.hour[0][0] < now - HOUR_S:
            _, frt_met, res_met = self.hour.popleft()
            if frt_met is not None:
                sums[0] -= frt_met
                sums[1] -= 1
            if res_met is not None:
                sums[2] -= res_met
                sums[3] -= 1
        out: dict[str, float] = {}
        if sums[1]:
            out["first_response.hour"] = sums[0] / sums[1]
        if sums[3]:
            out["resolution.hour"] = sums[2] / sums[3]
        t = self.today
        if t["frt_n"]:
            out["first_response.today"] = t["frt_met"] / t["frt_n"]
        if t["res_n"]:
            out["resolution.today"] = t["res_met"] / t["res_n"]
        return out

    def times(self, now: float) -> dict[str, tuple[float, float]]:
        """Median and p90 of each figure over the last hour (recomputed every ``TIMES_EVERY_S``)."""
        for _ in self.times_slices(now):
            pass
        return self._times

    def times_slices(self, now: float) -> Iterator[None]:
        """``times`` in slices of at most ``SORT_CHUNK`` samples sorted, for the broker's loop:
        sorting 5,000 samples at once held it about 0.4 ms per figure."""
        if now - self._times_at < TIMES_EVERY_S:
            return
        self._times_at = now
        out = {}
        cutoff = now - HOUR_S
        for name, samples in (("time_to_grab", self.time_to_grab), ("first_response", self.first_response),
                              ("resolution", self.resolution)):
            while samples and samples[0][0] < cutoff:
                samples.popleft()
            values = list(map(_sample_value, samples))
            for start in range(0, len(values), SORT_CHUNK):
                values[start:start + SORT_CHUNK] = sorted(values[start:start + SORT_CHUNK])
                yield
            values.sort()  # merges the sorted runs: linear, not another full sort
            if values:
                out[name] = (reports.quantile(values, 0.5), reports.quantile(values, 0.9))
        self._times = out

    def arrivals_last_hour(self, now: float) -> int:
        while self.arrivals and self.arrivals[0] < now - HOUR_S:
            self.arrivals.popleft()
        return len(self.arrivals)


class _Need(NamedTuple):
    """A kind of queued work, shaped like an inquiry for the eligibility rule."""

    shop: str
    skill: str
    language: str
    channel: str


class CoverageRequest(NamedTuple):
    """What the coverage worker needs, taken on the loop: it never reads live state."""

    now: float
    roster: object  # broker.staffing.roster.Roster
    profile: object | None  # broker.staffing.forecast.DemandProfile
    agent_skills: dict[str, frozenset[str]]


class FloorViews:
    """The floor's views of one broker. Every method runs on the broker's loop,
    except ``_coverage_loop`` (the worker), which sees only ``CoverageRequest``s."""

    def __init__(self, core: Arbiter, service: Service, store, config: FileConfig):
        self.core = core
        self.service = service
        self.store = store
        self.config = config
        self.tz = ZoneInfo(config.broker.day_tz)
        self.stats = FloorStats(core.today)
        self.roster = None
        self.profile = None
        self._coverage_in: queue.SimpleQueue[CoverageRequest | None] = queue.SimpleQueue()
        self._coverage_out: queue.SimpleQueue[list[p.CoverageCellRecord]] = queue.SimpleQueue()
        #: a recomputation was asked for (roster, quotas changed) since the last request
        self._coverage_due = False
        #: monotonic time of the last request: the interval is real time, whatever the floor clock
        self._coverage_asked_at = float("-inf")
        self._alerted: dict[str, float] = {}
        self._worker: threading.Thread | None = None
        core.on_taken.append(self.stats.taken)
        core.on_closed.append(lambda inq, now: self.stats.closed(inq, now, core.sla_for(inq)))
        core.on_arrival.append(lambda inq, now: self.stats.arrived(now))
        self.robot_stats = RobotStats(core.today)
        core.on_closed.append(self.robot_stats.closed)
        core.on_escalated.append(self.robot_stats.escalated)
        service.after_success.append(self._after_command)
        self._latest_cells: list[p.CoverageCellRecord] = []
        self._latest_cells_at: float | None = None
        #: the queue per skill at each metrics tick, for windows opened later (query_queue_history)
        self._queue_samples: deque[p.QueueSample] = deque(maxlen=QUEUE_HISTORY_SAMPLES)
        #: (agents online, at cap) when coverage was last published, and when (monotonic)
        self._staffed = (0, 0)
        self._now_published_at = float("-inf")
        #: (shop, skill, language, channel) -> since when nobody online may take it
        self._uncovered_since: dict[tuple[str, str, str, str], float] = {}
        self._uncovered_checked = float("-inf")
        #: () -> the loop's longest turn since the last call, (wall s, CPU s, periodic work's
        #: CPU s); the server's
        self.longest_turn: Callable[[], tuple[float, float, float]] = lambda: (0.0, 0.0, 0.0)

    # ------------------------------------------------------------------ start

    def loaded(self, server, saved) -> None:
        """After the store is loaded: roster (the last one accepted, else the configured
        one) and profile, then the coverage worker."""
        from broker.staffing.forecast import ProfileError, load_profile
        from broker.staffing.roster import RosterError, load_roster, parse_roster

        b = self.config.broker
        try:
            if saved.roster is not None:
                fmt, text = saved.roster
                self.roster = parse_roster(text, fmt, "last accepted roster")
            elif b.roster:
                self.roster = load_roster(b.roster)
        except (RosterError, OSError) as exc:
            log.error("roster not loaded: %s", exc)
        if b.profile:
            try:
                self.profile = load_profile(b.profile)
            except (ProfileError, OSError) as exc:
                log.error("demand profile not loaded: %s", exc)
        self._worker = threading.Thread(target=self._coverage_loop, name="coverage", daemon=True)
        self._worker.start()
        self.request_coverage()

    def stop(self) -> None:
        self._coverage_in.put(None)

    # ------------------------------------------------------------------ metrics

    def publish_metrics(self, now: float) -> None:
        """Compute the floor metrics and publish them, all at once."""
        for _ in self.metrics_slices(now):
            pass

    def metrics_slices(self, now: float) -> Iterator[None]:
        """The floor metrics as the broker's periodic job: each step is a bounded slice
        (``AGENTS_PER_SLICE`` agents, ``SORT_CHUNK`` samples, one check), run one per
        loop turn, so the loop goes on reading commands between them."""
        core = self.core
        queue_by_skill = {skill: n for skill, n in core.queue_count.items() if n}
        longest = {}
        for skill in queue_by_skill:
            inq = core.longest_waiting(skill)
            if inq is not None:
                longest[skill] = (inq.id, round(now - inq.arrived_at, 1))
        online = at_cap_n = held = 0
        by_group: dict[str, list[int]] = {}
        agents = list(core.agents.values())
        for start in range(0, len(agents), AGENTS_PER_SLICE):
            yield
            for agent in agents[start:start + AGENTS_PER_SLICE]:
                held += agent.held
                if agent.status != "online":
                    continue
                online += 1
                if at_cap(agent):
                    at_cap_n += 1
                by_group.setdefault(agent.group or "-", []).append(agent.grabs_today)
        yield from self.stats.times_slices(now)
        ginis = {g: round(gini(v), 3) for g, v in by_group.items()}
        self._check_gini(ginis, by_group, now)
        yield from self._uncovered_slices(now)
        counters = self.service.counters
        turn_s, turn_cpu_s, periodic_cpu_s = self.longest_turn()
        metrics = p.FloorMetrics(
            at=now, queue_by_skill=queue_by_skill, longest_wait=longest, held_total=held,
            agents_online=online, agents_at_cap=at_cap_n, gini_by_group=ginis,
            sla_attainment=self.stats.attainment(now), times_s=self.stats.times(now),
            abandoned_today=self.stats.today["abandoned"], resolved_today=self.stats.today["resolved"],
            arrivals_last_hour=self.stats.arrivals_last_hour(now),
            bad_requests=counters["bad_requests"], grabs_total=sum(
                counters[k] for k in ("grab.won", "grab.lost", "grab.refused")),
            loop_max_turn_ms=round(turn_s * 1000.0, 3), loop_max_turn_cpu_ms=round(turn_cpu_s * 1000.0, 3),
            loop_max_periodic_cpu_ms=round(periodic_cpu_s * 1000.0, 3),
            **self.robot_stats.figures(now, sum(r.holding for r in core.robots.values())))
        self.service.latest_metrics = metrics
        core.publish("metrics.floor", metrics)
        self._queue_samples.append(p.QueueSample(now, queue_by_skill, {s: w for s, (_i, w) in longest.items()}))
        yield
        self._ask_coverage(now)
        yield
        self._drain_coverage(now, (online, at_cap_n))

    def _check_gini(self, ginis: dict[str, float], by_group: dict[str, list[int]], now: float) -> None:
        threshold = self.config.broker.gini_alert
        for group, value in ginis.items():
            grabs = by_group[group]
            if value <= threshold or sum(grabs) / len(grabs) < GINI_MIN_MEAN_GRABS:
                continue
            if self._once(f"gini:{group}", now):
                self.core.raise_alert("uneven_grabbing", "warning", "uneven_grabbing",
                                      {"group": group, "gini": f"{value:.2f}", "threshold": f"{threshold:.2f}"},
                                      group=group)

    def _uncovered_slices(self, now: float) -> Iterator[None]:
        """Alert when queued work has no eligible agent online (a skill, language, channel or
        shop nobody on shift covers), well before its SLA would say so. A need nobody covers
        is checked against every agent online, so the needs are spread over slices of
        about ``AGENTS_PER_SLICE`` checks."""
        if now - self._uncovered_checked < UNCOVERED_CHECK_EVERY_S:
            return
        self._uncovered_checked = now
        yield
        online = [a for a in self.core.agents.values() if a.status == "online"]
        uncovered = {}
        checked = 0
        for need, queued in list(self.core.queued_needs.items()):
            wanted = _Need(*need)
            if not any(ineligible_rule(agent, wanted) is None for agent in online):
                uncovered[need] = queued
                checked += len(online)
                if checked >= AGENTS_PER_SLICE:
                    checked = 0
                    yield
        # still queued now, after the slices (a need may have been taken meanwhile)
        self._uncovered_since = {need: self._uncovered_since.get(need, now) for need in uncovered
                                 if need in self.core.queued_needs}
        for need, since in self._uncovered_since.items():
            shop, skill, language, channel = need
            if now - since >= UNCOVERED_ALERT_AFTER_S and self._once(f"uncovered:{':'.join(need)}", now):
                self.core.raise_alert("no_eligible_agent", "critical", "no_eligible_agent",
                                      {"queued": uncovered[need], "skill": skill, "language": language,
                                       "channel": channel, "shop": shop}, skill=skill)

    def _once(self, key: str, now: float) -> bool:
        last = self._alerted.get(key)
        if last is not None and now - last < ALERT_REPEAT_S:
            return False
        self._alerted[key] = now
        return True

    # ------------------------------------------------------------------ coverage

    def request_coverage(self) -> None:
        """Recompute coverage soon (the next metrics tick): the roster or quotas changed."""
        self._coverage_due = True

    def _after_command(self, cmd: p.Command) -> None:
        # quotas and statuses change who is "at cap" and "online" now
        if isinstance(cmd, (p.SetQuotas, p.DefineAgents, p.DefineGroup)):
            self.request_coverage()

    def _ask_coverage(self, now: float) -> None:
        """On the loop: hand the worker a snapshot when coverage is due."""
        asked = time.monotonic()
        if self._worker is None or self.roster is None or not (
                self._coverage_due or asked - self._coverage_asked_at >= COVERAGE_INTERVAL_S):
            return
        self._coverage_due = False
        self._coverage_asked_at = asked
        self._coverage_in.put(CoverageRequest(now, self.roster, self.profile, self.core.agent_skills()))

    def _coverage_loop(self) -> None:
        while True:
            request = self._coverage_in.get()
            try:  # a request that waited behind a slow computation is stale: the latest wins
                while request is not None:
                    request = self._coverage_in.get_nowait()
            except queue.Empty:
                pass
            if request is None:
                return
            try:
                self._coverage_out.put((request.now, self._compute_coverage(request)))
            except Exception:
                log.exception("coverage computation failed")

    def _compute_coverage(self, request: CoverageRequest) -> list[p.CoverageCellRecord]:
        from broker.staffing.coverage import coverage
        from broker.staffing.forecast import DemandProfile, forecast_arrivals

        b = self.config.broker
        now_utc = datetime.fromtimestamp(request.now, timezone.utc)
        start = now_utc.replace(minute=0, second=0, microsecond=0)
        agent_skills = request.agent_skills
        skills = sorted({s for sk in agent_skills.values() for s in sk})
        profile = request.profile or DemandProfile(tz=b.day_tz, arrivals_per_hour={s: [0.0] * 24 for s in skills})
        history = reports.hourly_arrivals(self.store, (start - timedelta(days=7)).timestamp())
        forecast = forecast_arrivals(history, profile, start, hours=24, surge_factor=b.surge_factor)
        aht = {s: float(profile.aht_s.get(s, b.aht_s)) for s in skills}
        measured = reports.measured_aht(self.store, (start - timedelta(days=7)).timestamp())
        aht.update({s: v for s, v in measured.items() if s in aht})
        concurrency = {s: int(profile.concurrency.get(s, b.chat_concurrency)) for s in skills}
        cells = coverage(request.roster, agent_skills, forecast, aht, b.service_target_pct, b.service_within_s,
                         concurrency, start, hours=24)
        return [p.CoverageCellRecord(c.hour_start_utc.timestamp(), c.skill, c.rostered, c.required, c.gap)
                for c in cells]

    def _drain_coverage(self, now: float, staffed: tuple[int, int] = (0, 0)) -> None:
        """Publish coverage when the worker has new cells, when it is due, or when who is online
        or at cap changed (the "now" column must agree with the header's online count)."""
        fresh = None
        while True:
            try:
                fresh = self._coverage_out.get_nowait()
            except queue.Empty:
                break
        tick = time.monotonic()
        staffing_moved = staffed != self._staffed and tick - self._now_published_at >= COVERAGE_NOW_EVERY_S
        if fresh is None and not staffing_moved and self.service.latest_coverage is not None \
                and now - self.service.latest_coverage.at < COVERAGE_INTERVAL_S:
            return
        self._staffed = staffed
        self._now_published_at = tick
        if fresh is not None:
            self._latest_cells_at, fresh = fresh
            self._latest_cells = fresh
        if self.roster is None:
            return
        record = p.CoverageRecord(at=now, cells=self._latest_cells, now=self._coverage_now(now),
                                  cells_at=self._latest_cells_at)
        self.service.latest_coverage = record
        self.core.publish("coverage.updated", record)
        if fresh is not None:
            for cell in fresh:
                if cell.gap < 0 and cell.hour_start < now + GAP_ALERT_HOURS * HOUR_S \
                        and self._once(f"gap:{cell.skill}:{int(cell.hour_start)}", now):
                    hour = datetime.fromtimestamp(cell.hour_start, self.tz).strftime("%H:%M")
                    self.core.raise_alert(
                        "coverage_gap", "warning", "coverage_gap",
                        {"skill": cell.skill, "hour": hour, "rostered": cell.rostered, "required": cell.required},
                        skill=cell.skill)

    def _coverage_now(self, now: float) -> list[p.NowCoverage]:
        from broker.staffing.coverage import coverage_now

        agents = self.core.agents.values()
        agent_skills = {a.id: set(a.skills) for a in agents}
        online = {a.id for a in agents if a.status == "online"}
        at_cap_ids = {a.id for a in agents if a.status == "online" and at_cap(a)}
        cells = coverage_now(self.roster, agent_skills, online, at_cap_ids,
                             datetime.fromtimestamp(now, timezone.utc))
        return [p.NowCoverage(skill, c.rostered, c.online, c.at_cap) for skill, c in sorted(cells.items())]

    # ------------------------------------------------------------------ commands

    def replace_roster(self, fmt: str, text: str, who: str, reason: str) -> str:
        from broker.staffing.roster import RosterError, parse_roster

        try:
            roster = parse_roster(text, fmt, f"roster from {who}")
        except RosterError as exc:
            problems = "; ".join(f"line {line}: {why}" for line, why in exc.problems[:20])
            more = f" (and {len(exc.problems) - 20} more)" if len(exc.problems) > 20 else ""
            raise Refusal.because(ErrorCode.BAD_REQUEST, "roster.refused", {"problems": problems + more},
                                  problems=len(exc.problems)) from None
        self.roster = roster
        self.store.save_roster(fmt, text)
        self.request_coverage()
        return f"roster accepted: {len(roster.shifts)} shifts for {len(roster.agents)} agents"

    def queue_history(self, since: float) -> list[p.QueueSample]:
        """The samples after ``since``, oldest first, evenly thinned to at most MAX_QUEUE_SAMPLES."""
        samples = [s for s in self._queue_samples if s.at > since]
        step = -(-len(samples) // p.MAX_QUEUE_SAMPLES)  # ceiling division
        return samples[::step] if step > 1 else samples

    def query_stats(self, since: float, until: float) -> list[p.AgentSkillStats]:
        return reports.agent_skill_stats(self.store, since, until)


def attach(server) -> FloorViews:
    """Build the floor views of ``server`` and hook them to its loop, store and service."""
    views = FloorViews(server.core, server.service, server.store, server.config)
    server.floor = views
    server.service.on_roster = views.replace_roster
    server.service.stats_query = views.query_stats
    server.service.queue_history = views.queue_history
    server.on_loaded.append(views.loaded)
    views.longest_turn = server.take_longest_turn
    server.periodic.append([METRICS_INTERVAL_S, views.metrics_slices])
    server.on_stop.append(views.stop)
    return views
