"""The broker's sentences in the user's language.

The broker sends a refusal, a grab verdict or an alert with a stable ``key``
and ``params`` beside its English sentence (broker/wire/reasons.py). Here each
key has its template under ``tr()``, whose source text is the broker's English
template itself (a test keeps the two equal), so English users read exactly
what the broker wrote and others read the translation. A key this client does
not know yet falls back to the sentence for its error code, then to the
broker's English sentence: a newer broker never leaves a blank.
"""
from __future__ import annotations

import logging

from PySide6.QtCore import QObject

log = logging.getLogger(__name__)


#: parameters whose values are floor words (``words()``), translated before they fill a sentence
_WORD_PARAMS = frozenset({"status", "state", "tier", "mode"})


class _Keep(dict):
    """Formatting parameters: a missing one stays visible as ``{name}`` instead of raising."""

    def __missing__(self, name: str) -> str:
        return "{" + name + "}"


class BrokerText(QObject):
    """Renders broker reasons, alerts, error codes and floor words (status, tier) in the UI language."""

    def reasons(self) -> dict[str, str]:
        """key -> translated template (the English source is the broker's template)."""
        return {
            "agent.unknown": self.tr("unknown agent {agent}"),
            "group.unknown": self.tr("unknown group {group}"),
            "shop.unknown": self.tr("unknown shop {shop}"),
            "inquiry.not_open": self.tr("no open inquiry {inquiry}"),
            "inquiry.closed": self.tr("inquiry {inquiry} is already {state}"),
            "inquiry.exists": self.tr("inquiry {inquiry} already exists"),
            "inquiry.not_held": self.tr("inquiry {inquiry} is not held by {agent}"),
            "inquiry.in_pool": self.tr("inquiry {inquiry} is already in the pool"),
            "inquiry.already_holds": self.tr("{agent} already holds {inquiry}"),
            "inquiry.same_skill": self.tr("inquiry {inquiry} is already in the {skill} pool"),
            "robot.not_held": self.tr("inquiry {inquiry} is not with robot {robot}"),
            "robot.awaiting": self.tr("robot {robot} has answered inquiry {inquiry} already; it awaits the customer"),
            "transcript.none": self.tr("no transcript of inquiry {inquiry}"),
            "value.empty_text": self.tr("{field} must not be empty"),
            "rule.shop": self.tr("agent {agent} does not serve shop {shop}"),
            "rule.skill": self.tr("agent {agent} lacks skill {skill}"),
            "rule.language": self.tr("agent {agent} does not handle language {language}"),
            "rule.channel": self.tr("agent {agent} does not handle channel {channel}"),
            "grab.taken": self.tr("taken by {winner}"),
            "grab.taken_closed": self.tr("taken by {winner} and already {state}"),
            "grab.with_robot": self.tr("inquiry {inquiry} is with the robot first line, not in the pool"),
            "grab.assign_mode": self.tr("shop {shop} assigns its inquiries; grabbing is off"),
            "grab.not_visible": self.tr("tier {tier} sees new inquiries after {delay_s} s; visible in {in_s} s"),
            "grab.id_reused": self.tr("grab id {grab_id} was already used for inquiry {inquiry}; "
                                 "use a new grab id for each attempt"),
            "grab.rate": self.tr("more than {rate} grabs per second from {agent}; slow down"),
            "status.not_online": self.tr("agent {agent} is {status}, not online"),
            "status.forced_break": self.tr("on a forced break after {hours} h of continuous service, until {until}"),
            "status.break_until": self.tr("on a forced break until {until}"),
            "quota.concurrent": self.tr("holds {held} of a concurrent cap of {cap}"),
            "quota.daily": self.tr("took {taken} today, the daily quota is {quota}"),
            "quota.hours": self.tr("{hours} h of continuous service reached; a break is due"),
            "value.quality": self.tr("quality must be 0 to 100"),
            "value.satisfaction": self.tr("satisfaction must be 1 to 5"),
            "value.range": self.tr("{field} must be between {low} and {high}, not {value}"),
            "value.hybrid_after": self.tr("hybrid_after_s must be within (0, {max_s}]"),
            "value.arrived_at": self.tr("arrived_at {value} is not a time within the last {days} days"),
            "value.quota_target": self.tr("name exactly one of agent or group"),
            "value.period": self.tr("until must be after since"),
            "value.sla": self.tr("{field} of shop {shop} must be within (0, {max_s}] seconds, not {value}"),
            "value.warn_pct": self.tr("{field} of shop {shop} must be within (0, 100]"),
            "value.note": self.tr("a transfer note is at most {max_chars} characters"),
            "auth.role": self.tr("role {role} may not send {command}"),
            "auth.not_enrolled": self.tr("{agent} is not an enrolled agent"),
            "auth.own_status": self.tr("an agent may set only its own status"),
            "auth.revoked": self.tr("this key has been revoked"),
            "auth.key_mismatch": self.tr("this key is enrolled as {key_role} {key_who}, not {role} {who}"),
            "feature.no_grab_history": self.tr("this broker keeps no grab history"),
            "feature.no_history": self.tr("this broker keeps no inquiry history"),
            "feature.no_rosters": self.tr("this broker does not manage rosters"),
            "feature.no_stats": self.tr("this broker keeps no statistics"),
            "grabs.none": self.tr("no grabs recorded for inquiry {inquiry}"),
            "alert.unknown": self.tr("no alert {alert}"),
            "roster.refused": self.tr("roster refused, nothing changed: {problems}"),
            "internal": self.tr("the broker failed on this command; it is logged"),
            "frame.too_large": self.tr("command of {size} bytes exceeds the limit of {limit}"),
            "frame.version": self.tr("protocol version {version} is not supported; this broker speaks {supported}"),
            "frame.unknown_type": self.tr("unknown message type {type}"),
            "frame.invalid": self.tr("invalid {command}: {problem}"),
            "frame.envelope": self.tr("bad envelope: {problem}"),
            "frame.unreadable": self.tr("not a valid MessagePack map: {problem}"),
        }

    def alerts(self) -> dict[str, str]:
        """alert key -> translated template."""
        return {
            "sla.warn.first_response.pool": self.tr("{inquiry}: first response SLA at risk (still in the pool)"),
            "sla.warn.first_response.held": self.tr("{inquiry}: first response SLA at risk (held by {agent})"),
            "sla.warn.resolution.pool": self.tr("{inquiry}: resolution SLA at risk (still in the pool)"),
            "sla.warn.resolution.held": self.tr("{inquiry}: resolution SLA at risk (held by {agent})"),
            "sla.breach.first_response.pool": self.tr("{inquiry}: first response SLA breached (still in the pool)"),
            "sla.breach.first_response.held": self.tr("{inquiry}: first response SLA breached (held by {agent})"),
            "sla.breach.resolution.pool": self.tr("{inquiry}: resolution SLA breached (still in the pool)"),
            "sla.breach.resolution.held": self.tr("{inquiry}: resolution SLA breached (held by {agent})"),
            "silent_grab": self.tr("{agent} took {inquiry} and stayed silent; it is back in the pool"),
            "uneven_grabbing": self.tr("uneven grabbing in {group}: Gini {gini} over {threshold}"),
            "coverage_gap": self.tr("{skill} at {hour}: {rostered} rostered, {required} required"),
            "no_eligible_agent": self.tr("{queued} queued {skill} inquiries ({language}, {channel}) "
                                    "and no online agent may take them"),
        }

    def codes(self) -> dict[str, str]:
        """error code -> a sentence for when the key is unknown."""
        return {
            "not-found": self.tr("not found"),
            "already-taken": self.tr("someone else has it"),
            "not-eligible": self.tr("not eligible"),
            "quota-concurrent": self.tr("the concurrent cap is reached"),
            "quota-daily": self.tr("the daily quota is used up"),
            "quota-hours": self.tr("the continuous-service limit is reached; a break is due"),
            "forbidden": self.tr("not allowed"),
            "bad-request": self.tr("the request is not valid"),
            "unsupported-version": self.tr("this broker speaks another protocol version"),
            "too-large": self.tr("the request is too large"),
            "invalid-state": self.tr("not possible in the current state"),
            "rate-limited": self.tr("too many requests; slow down"),
            "too-many-pending": self.tr("too many requests waiting for an answer"),
            "unauthenticated": self.tr("the key does not match this identity"),
            "internal": self.tr("the broker failed on this command; it is logged"),
            "not-active": self.tr("this broker is a standby; the active one answers"),
        }

    def words(self) -> dict[str, str]:
        """Values that appear inside sentences: statuses, inquiry states, tiers, shop modes."""
        return {
            "online": self.tr("online"), "away": self.tr("away"), "break": self.tr("break"),
            "offline": self.tr("offline"), "resolved": self.tr("resolved"), "abandoned": self.tr("abandoned"),
            "queued": self.tr("queued"), "held": self.tr("held"), "robot": self.tr("with the robot"),
            "gold": self.tr("gold"),
            "silver": self.tr("silver"), "bronze": self.tr("bronze"), "probation": self.tr("probation"),
            "won": self.tr("won"), "lost": self.tr("lost"), "refused": self.tr("refused"),
            "grab": self.tr("grab"), "assign": self.tr("push"), "hybrid": self.tr("hybrid"),
        }

    # ------------------------------------------------------------------ rendering

    def word(self, value: str) -> str:
        """A status, state, tier or mode name in the UI language (unknown names as they are)."""
        return self.words().get(value, value)

    def reason(self, key: str, params: dict | None, fallback: str, code: str | None = None) -> str:
        """A refusal or verdict reason: the key's template, else the code's sentence, else ``fallback``."""
        template = self.reasons().get(key) if key else None
        if template is not None:
            return self._fill(template, params, fallback)
        generic = self.codes().get(str(getattr(code, "value", code))) if code else None
        if generic and self._translated():  # the code's sentence is readable; the English one follows
            return f"{generic} ({fallback})" if fallback else generic
        return fallback

    def refusal(self, error) -> str:
        """The reason of a ``BrokerRefused`` (or an ``Error`` reply)."""
        code = getattr(error, "code", None)
        return self.reason(getattr(error, "key", ""), getattr(error, "params", {}), error.reason, code)

    def alert(self, alert) -> str:
        """An alert's sentence in the UI language."""
        template = self.alerts().get(alert.key) if alert.key else None
        return self._fill(template, alert.params, alert.text) if template else alert.text

    def _translated(self) -> bool:
        """Whether a translation is in force (in English the broker's own sentence says more)."""
        return self.tr("not found") != "not found"

    def _fill(self, template: str, params: dict | None, fallback: str) -> str:
        values = _Keep({name: self.word(value) if name in _WORD_PARAMS and isinstance(value, str)
                        else _number(value) for name, value in (params or {}).items()})
        try:
            return template.format_map(values)
        except (ValueError, IndexError, AttributeError):  # a translation with a stray brace
            log.warning("cannot fill %r; showing the broker's sentence", template)
            return fallback


def _number(value) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


_text: BrokerText | None = None


def broker_text() -> BrokerText:
    """The shared renderer (one QObject, so its translations follow language changes)."""
    global _text
    if _text is None:
        _text = BrokerText()
    return _text
