"""Words as the console shows them: clock times and translated names.

Durations and limits are ``supervisor.common.formats``, shared with the agent
window.

``Words`` holds the translatable names several views share (agent status,
inquiry state, SLA flags, alert kinds, eligibility hints), so each is
translated once, in one context.
"""
from __future__ import annotations

import time

from PySide6.QtCore import QObject

from broker.wire import protocol as p
from supervisor.common.formats import format_limit


def fmt_clock(ts: float) -> str:
    return time.strftime("%H:%M:%S", time.localtime(ts))


class Words(QObject):
    """Translated words shared by the models (status names, SLA flags, alert kinds)."""

    def status(self, status: str) -> str:
        return {"online": self.tr("online"), "away": self.tr("away"), "break": self.tr("break"),
                "offline": self.tr("offline")}.get(status, status)

    def state(self, state: str) -> str:
        return {"queued": self.tr("queued"), "held": self.tr("held"),
                "robot": self.tr("with the robot")}.get(state, state)

    def sla_flag(self, flag: str) -> str:
        return {
            "first_response.warn": self.tr("first response at risk"),
            "first_response.breach": self.tr("first response breached"),
            "resolution.warn": self.tr("resolution at risk"),
            "resolution.breach": self.tr("resolution breached"),
        }.get(flag, flag)

    def severity(self, severity: str) -> str:
        return {"info": self.tr("info"), "warning": self.tr("warning"),
                "critical": self.tr("critical")}.get(severity, severity)

    def alert_kind(self, kind: str) -> str:
        return {
            "sla.warn": self.tr("SLA at risk"), "sla.breach": self.tr("SLA breached"),
            "silent_grab": self.tr("silent after grab"), "uneven_grabbing": self.tr("uneven grabbing"),
            "coverage_gap": self.tr("coverage gap"), "no_eligible_agent": self.tr("nobody can take it"),
        }.get(kind, kind)

    def hint(self, rule: str, sentence: str, agent: p.AgentRecord, inquiry: p.InquiryRecord) -> str:
        """A ``target_hints`` reason in the user's language (its English sentence as fallback)."""
        texts = {
            "shop": self.tr("%1 does not serve shop %2").replace("%2", inquiry.shop),
            "skill": self.tr("%1 lacks skill %2").replace("%2", inquiry.skill),
            "language": self.tr("%1 does not handle language %2").replace("%2", inquiry.language),
            "channel": self.tr("%1 does not handle channel %2").replace("%2", inquiry.channel),
            "owner": self.tr("%1 already holds %2").replace("%2", inquiry.id),
            # the agent's ``unavailable`` code, put on its record by the broker
            "not-eligible": self.tr("%1 is %2, not online").replace("%2", self.status(agent.status)),
            "quota-concurrent": self.tr("%1 is at the concurrent cap (%2)").replace(
                "%2", format_limit(agent.effective.concurrent_cap)),
            "quota-hours": self.tr("%1 is on a forced break until %2").replace("%2", fmt_clock(agent.break_until))
            if agent.forced_break and agent.break_until else self.tr("%1 has reached the continuous-service limit"),
        }
        text = texts.get(rule)
        return text.replace("%1", agent.id) if text else sentence


_words: Words | None = None


def words() -> Words:
    global _words
    if _words is None:
        _words = Words()
    return _words
