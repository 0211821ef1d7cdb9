"""The broker's sentences, each under a stable key with named parameters.

A refusal, a lost or refused grab and an alert carry ``key`` and ``params``
beside the English sentence (``reason``/``text``), so a client renders the
sentence in its user's language from the key (docs/protocol.md, section 14)
and falls back to the English one for a key it does not know. This module is
the one list of keys: the broker formats its English sentence from it, and
the clients' translations are tested against it.
"""
from __future__ import annotations

#: key -> English template; parameters in ``{braces}``
REASONS: dict[str, str] = {
    # who and what does not exist
    "agent.unknown": "unknown agent {agent}",
    "group.unknown": "unknown group {group}",
    "shop.unknown": "unknown shop {shop}",
    "inquiry.not_open": "no open inquiry {inquiry}",
    "inquiry.closed": "inquiry {inquiry} is already {state}",
    "inquiry.exists": "inquiry {inquiry} already exists",
    "inquiry.not_held": "inquiry {inquiry} is not held by {agent}",
    "inquiry.in_pool": "inquiry {inquiry} is already in the pool",
    "inquiry.already_holds": "{agent} already holds {inquiry}",
    "inquiry.same_skill": "inquiry {inquiry} is already in the {skill} pool",
    "robot.not_held": "inquiry {inquiry} is not with robot {robot}",
    "robot.awaiting": "robot {robot} has answered inquiry {inquiry} already; it awaits the customer",
    "transcript.none": "no transcript of inquiry {inquiry}",
    "value.empty_text": "{field} must not be empty",
    # eligibility (the permission rules, by the attribute that failed)
    "rule.shop": "agent {agent} does not serve shop {shop}",
    "rule.skill": "agent {agent} lacks skill {skill}",
    "rule.language": "agent {agent} does not handle language {language}",
    "rule.channel": "agent {agent} does not handle channel {channel}",
    "grab.taken": "taken by {winner}",
    "grab.taken_closed": "taken by {winner} and already {state}",
    "grab.with_robot": "inquiry {inquiry} is with the robot first line, not in the pool",
    "grab.assign_mode": "shop {shop} assigns its inquiries; grabbing is off",
    "grab.not_visible": "tier {tier} sees new inquiries after {delay_s} s; visible in {in_s} s",
    "grab.id_reused": "grab id {grab_id} was already used for inquiry {inquiry}; use a new grab id for each attempt",
    "grab.rate": "more than {rate} grabs per second from {agent}; slow down",
    # availability and quotas
    "status.not_online": "agent {agent} is {status}, not online",
    "status.forced_break": "on a forced break after {hours} h of continuous service, until {until}",
    "status.break_until": "on a forced break until {until}",
    "quota.concurrent": "holds {held} of a concurrent cap of {cap}",
    "quota.daily": "took {taken} today, the daily quota is {quota}",
    "quota.hours": "{hours} h of continuous service reached; a break is due",
    # values out of range
    "value.quality": "quality must be 0 to 100",
    "value.satisfaction": "satisfaction must be 1 to 5",
    "value.range": "{field} must be between {low} and {high}, not {value}",
    "value.hybrid_after": "hybrid_after_s must be within (0, {max_s}]",
    "value.arrived_at": "arrived_at {value} is not a time within the last {days} days",
    "value.quota_target": "name exactly one of agent or group",
    "value.period": "until must be after since",
    "value.sla": "{field} of shop {shop} must be within (0, {max_s}] seconds, not {value}",
    "value.warn_pct": "{field} of shop {shop} must be within (0, 100]",
    "value.note": "a transfer note is at most {max_chars} characters",
    # who may send what
    "auth.role": "role {role} may not send {command}",
    "auth.not_enrolled": "{agent} is not an enrolled agent",
    "auth.own_status": "an agent may set only its own status",
    "auth.revoked": "this key has been revoked",
    "auth.key_mismatch": "this key is enrolled as {key_role} {key_who}, not {role} {who}",
    # features and failures
    "feature.no_grab_history": "this broker keeps no grab history",
    "feature.no_history": "this broker keeps no inquiry history",
    "feature.no_rosters": "this broker does not manage rosters",
    "feature.no_stats": "this broker keeps no statistics",
    "grabs.none": "no grabs recorded for inquiry {inquiry}",
    "alert.unknown": "no alert {alert}",
    "roster.refused": "roster refused, nothing changed: {problems}",
    "internal": "the broker failed on this command; it is logged",
    # frames that could not be read
    "frame.too_large": "command of {size} bytes exceeds the limit of {limit}",
    "frame.version": "protocol version {version} is not supported; this broker speaks {supported}",
    "frame.unknown_type": "unknown message type {type}",
    "frame.invalid": "invalid {command}: {problem}",
    "frame.envelope": "bad envelope: {problem}",
    "frame.unreadable": "not a valid MessagePack map: {problem}",
}

#: alert key -> English template (the alert's ``kind`` says what sort it is; the key
#: says which sentence, e.g. an SLA alert on an inquiry in the pool or held)
ALERTS: dict[str, str] = {
    "sla.warn.first_response.pool": "{inquiry}: first response SLA at risk (still in the pool)",
    "sla.warn.first_response.held": "{inquiry}: first response SLA at risk (held by {agent})",
    "sla.warn.resolution.pool": "{inquiry}: resolution SLA at risk (still in the pool)",
    "sla.warn.resolution.held": "{inquiry}: resolution SLA at risk (held by {agent})",
    "sla.breach.first_response.pool": "{inquiry}: first response SLA breached (still in the pool)",
    "sla.breach.first_response.held": "{inquiry}: first response SLA breached (held by {agent})",
    "sla.breach.resolution.pool": "{inquiry}: resolution SLA breached (still in the pool)",
    "sla.breach.resolution.held": "{inquiry}: resolution SLA breached (held by {agent})",
    "silent_grab": "{agent} took {inquiry} and stayed silent; it is back in the pool",
    "uneven_grabbing": "uneven grabbing in {group}: Gini {gini} over {threshold}",
    "coverage_gap": "{skill} at {hour}: {rostered} rostered, {required} required",
    "no_eligible_agent": "{queued} queued {skill} inquiries ({language}, {channel}) and no online agent may take them",
}

#: every alert kind the broker raises
ALERT_KINDS = ("sla.warn", "sla.breach", "silent_grab", "uneven_grabbing", "coverage_gap",
               "no_eligible_agent")


def number(value: float) -> str:
    """A parameter as the English sentence shows it (3, 2.5), so params and text agree."""
    return f"{value:g}" if isinstance(value, float) else str(value)


def sentence(key: str, params: dict, catalog: dict[str, str] = REASONS) -> str:
    """The English sentence for ``key`` with ``params`` filled in."""
    return catalog[key].format(**params)
