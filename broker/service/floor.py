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
  whenever the roster or quotas change; the loop only publishes the result.
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
from collections import deque
from operator import itemgetter
from typing import Iterator
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from broker.wire import protocol as p
from broker.staffing import reports
from broker.arbiter.core import Arbiter, Refusal
from broker.wire.protocol import ErrorCode
from broker.arbiter.rules import at_cap, gini

log = logging.getLogger(__name__)

METRICS_INTERVAL_S = 1.0
COVERAGE_INTERVAL_S = 60.0
#: most recent inquiries kept per figure for medians and p90s
SAMPLE_CAP = 5_000
#: the same alert for the same group/skill is not repeated sooner than this
ALERT_REPEAT_S = 600.0
#: coverage gaps are alerted for this many hours ahead
GAP_ALERT_HOURS = 4
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


class FloorViews:
    def __init__(self, server):
        self.server = server
        self.core: Arbiter = server.core
        self.config = server.config
        b = server.config.broker
        self.tz = ZoneInfo(b.day_tz)
        self.stats = FloorStats(server.core.today)
        self.roster = None
        self.profile = None
        self._coverage_out: queue.SimpleQueue = queue.SimpleQueue()
        self._coverage_wanted = threading.Event()
        self._stop = threading.Event()
        self._alerted: dict[str, float] = {}
        self._worker: threading.Thread | None = None
        core = self.core
        core.on_taken.append(self.stats.taken)
        core.on_closed.append(lambda inq, now: self.stats.closed(inq, now, core._sla(inq)))
        core.on_arrival.append(lambda inq, now: self.stats.arrived(now))
        server.service.after_success.append(self._after_command)
        self._latest_cells: list[p.CoverageCellRecord] = []

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
        self._coverage_wanted.set()

    def stop(self) -> None:
        self._stop.set()
        self._coverage_wanted.set()

    # ------------------------------------------------------------------ metrics

    def publish_metrics(self, now: float) -> None:
        """Compute the floor metrics and publish them, all at once."""
        for _ in self.metrics_slices(now):
            pass

    def metrics_slices(self, now: float) -> Iterator[None]:
        """The floor metrics as the broker's periodic job: each step is a bounded slice
        (``AGENTS_PER_SLICE`` agents, ``SORT_CHUNK`` samples), run one per loop turn,
        so the loop goes on reading commands between them."""
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
        counters = self.server.service.counters
        metrics = p.FloorMetrics(
            at=now, queue_by_skill=queue_by_skill, longest_wait=longest, held_total=held,
            agents_online=online, agents_at_cap=at_cap_n, gini_by_group=ginis,
            sla_attainment=self.stats.attainment(now), times_s=self.stats.times(now),
            abandoned_today=self.stats.today["abandoned"], resolved_today=self.stats.today["resolved"],
            arrivals_last_hour=self.stats.arrivals_last_hour(now),
            bad_requests=counters["bad_requests"], grabs_total=sum(
                counters[k] for k in ("grab.won", "grab.lost", "grab.refused")),
            loop_max_turn_ms=round(self.server.longest_turn_s * 1000.0, 3),
            loop_max_turn_cpu_ms=round(self.server.longest_turn_cpu_s * 1000.0, 3))
        self.server.longest_turn_s = self.server.longest_turn_cpu_s = 0.0
        self.server.service.latest_metrics = metrics
        core._emit("metrics.floor", metrics)
        yield
        self._drain_coverage(now)

    def _check_gini(self, ginis: dict[str, float], by_group: dict[str, list[int]], now: float) -> None:
        threshold = self.config.broker.gini_alert
        for group, value in ginis.items():
            grabs = by_group[group]
            if value <= threshold or sum(grabs) / len(grabs) < GINI_MIN_MEAN_GRABS:
                continue
            if self._once(f"gini:{group}", now):
                self.core.raise_alert("uneven_grabbing", "warning",
                                      f"uneven grabbing in {group}: Gini {value:.2f} over {threshold:.2f}",
                                      group=group)

    def _once(self, key: str, now: float) -> bool:
        last = self._alerted.get(key)
        if last is not None and now - last < ALERT_REPEAT_S:
            return False
        self._alerted[key] = now
        return True

    # ------------------------------------------------------------------ coverage

    def request_coverage(self) -> None:
        self._coverage_wanted.set()

    def _after_command(self, cmd: p.Command) -> None:
        # quotas and statuses change who is "at cap" and "online" now
        if isinstance(cmd, (p.SetQuotas, p.DefineAgents, p.DefineGroup)):
            self.request_coverage()

    def _coverage_loop(self) -> None:
        while not self._stop.is_set():
            self._coverage_wanted.wait(COVERAGE_INTERVAL_S)
            self._coverage_wanted.clear()
            if self._stop.is_set():
                return
            try:
                self._coverage_out.put(self._compute_coverage())
            except Exception:
                log.exception("coverage computation failed")

    def _compute_coverage(self) -> list[p.CoverageCellRecord]:
        from broker.staffing.coverage import coverage
        from broker.staffing.forecast import DemandProfile, forecast_arrivals

        roster = self.roster
        if roster is None:
            return []
        b = self.config.broker
        now_utc = datetime.fromtimestamp(self.server.clock(), timezone.utc)
        start = now_utc.replace(minute=0, second=0, microsecond=0)
        agent_skills = {a.id: set(a.skills) for a in list(self.core.agents.values())}
        skills = sorted({s for sk in agent_skills.values() for s in sk})
        profile = self.profile or DemandProfile(tz=b.day_tz, arrivals_per_hour={s: [0.0] * 24 for s in skills})
        history = reports.hourly_arrivals(self.server.store, (start - timedelta(days=7)).timestamp())
        forecast = forecast_arrivals(history, profile, start, hours=24, surge_factor=b.surge_factor)
        aht = {s: float(profile.aht_s.get(s, b.aht_s)) for s in skills}
        measured = reports.measured_aht(self.server.store, (start - timedelta(days=7)).timestamp())
        aht.update({s: v for s, v in measured.items() if s in aht})
        concurrency = {s: int(profile.concurrency.get(s, b.chat_concurrency)) for s in skills}
        cells = coverage(roster, agent_skills, forecast, aht, b.service_target_pct, b.service_within_s,
                         concurrency, start, hours=24)
        return [p.CoverageCellRecord(c.hour_start_utc.timestamp(), c.skill, c.rostered, c.required, c.gap)
                for c in cells]

    def _drain_coverage(self, now: float) -> None:
        fresh = None
        while True:
            try:
                fresh = self._coverage_out.get_nowait()
            except queue.Empty:
                break
        if fresh is None and self.server.service.latest_coverage is not None \
                and now - self.server.service.latest_coverage.at < COVERAGE_INTERVAL_S:
            return
        if fresh is not None:
            self._latest_cells = fresh
        if self.roster is None:
            return
        record = p.CoverageRecord(at=now, cells=self._latest_cells, now=self._coverage_now(now))
        self.server.service.latest_coverage = record
        self.core._emit("coverage.updated", record)
        if fresh is not None:
            for cell in fresh:
                if cell.gap < 0 and cell.hour_start < now + GAP_ALERT_HOURS * HOUR_S \
                        and self._once(f"gap:{cell.skill}:{int(cell.hour_start)}", now):
                    hour = datetime.fromtimestamp(cell.hour_start, self.tz).strftime("%H:%M")
                    self.core.raise_alert(
                        "coverage_gap", "warning",
                        f"{cell.skill} at {hour}: {cell.rostered} rostered, {cell.required} required",
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
            raise Refusal(ErrorCode.BAD_REQUEST, f"roster refused, nothing changed: {problems}{more}",
                          problems=len(exc.problems)) from None
        self.roster = roster
        self.server.store.save_roster(fmt, text)
        self.request_coverage()
        return f"roster accepted: {len(roster.shifts)} shifts for {len(roster.agents)} agents"

    def query_stats(self, since: float, until: float) -> list[p.AgentSkillStats]:
        return reports.agent_skill_stats(self.server.store, since, until)


def attach(server) -> FloorViews:
    views = FloorViews(server)
    server.floor = views
    server.service.on_roster = views.replace_roster
    server.service.stats_query = views.query_stats
    server.on_loaded.append(views.loaded)
    server.periodic.append([METRICS_INTERVAL_S, views.metrics_slices])
    server.on_stop.append(views.stop)
    return views
