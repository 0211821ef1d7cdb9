"""Policies the lab compares: how the floor is configured, nothing else.

A policy is a handful of settings applied on top of the trace's floor: the
shops' mode and hybrid delay, the groups' fair share and quotas, the quality
tiers, and the assist's own settings. Everything else (people, arrivals,
roster) stays the same, so the policies differ only in what the broker
decides. Policies come from built-in names (``grab``, ``push``, ``hybrid``,
...), from ``--policy NAME:key=value,key=value`` options, or from a TOML file
with one table per policy::

    [hybrid-20]
    mode = "hybrid"
    hybrid_after_s = 20
    fair_share = true

A key the lab does not know, a value of the wrong type or out of range: one
:class:`PolicyError` sentence.
"""
from __future__ import annotations

import math
import tomllib
from dataclasses import dataclass, fields, replace
from pathlib import Path

__all__ = ["BUILT_IN", "DEFAULT_POLICIES", "Policy", "PolicyError", "load_policy_file", "parse_policy_option"]

#: what a shop's mode is called in the lab (push is the broker's "assign")
MODES = {"grab": "grab", "push": "assign", "assign": "assign", "hybrid": "hybrid"}


class PolicyError(ValueError):
    """A policy the lab cannot run; the message is one sentence."""


@dataclass(frozen=True)
class Policy:
    """One configuration of the floor. ``None`` leaves the trace's own setting."""

    name: str
    #: grab, push (assign) or hybrid, for every shop
    mode: str | None = None
    #: hybrid: an inquiry unclaimed this long is assigned (floor seconds)
    hybrid_after_s: float | None = None
    #: fair-share damping in every group, on or off
    fair_share: bool | None = None
    fair_share_factor: float | None = None
    fair_share_delay_s: float | None = None
    #: "default": the broker's quality tiers (visibility delays, caps); "flat": none
    tiers: str | None = None
    #: group quotas for every group
    concurrent_cap: int | None = None
    daily_grabs: int | None = None
    #: the assist's settings (broker.arbiter.assist.AssistConfig); None: the shipped defaults
    assist_order: str | None = None
    assist_shrink: bool | None = None
    assist_pool_scale: float | None = None
    assist_fairness_weight: float | None = None
    assist_proficiency_weight: float | None = None
    recent_half_life_s: float | None = None
    #: the robot first line on in every shop (customers write from the robot's phrasing families)
    robot: bool | None = None

    def describe(self) -> str:
        """The settings this policy changes, for the table's footnote."""
        changed = [f"{f.name}={getattr(self, f.name)}" for f in fields(self)
                   if f.name != "name" and getattr(self, f.name) is not None]
        return ", ".join(changed) or "the trace's own configuration"


#: built-in policies by name
BUILT_IN: dict[str, Policy] = {
    "grab": Policy("grab", mode="grab"),
    "push": Policy("push", mode="assign"),
    "hybrid": Policy("hybrid", mode="hybrid"),
    "hybrid-fifo": Policy("hybrid-fifo", mode="hybrid", assist_order="fifo", assist_shrink=False),
    "grab-fair": Policy("grab-fair", mode="grab", fair_share=True),
    "grab-nofair": Policy("grab-nofair", mode="grab", fair_share=False),
    "hybrid-flat": Policy("hybrid-flat", mode="hybrid", tiers="flat"),
    "hybrid-robot": Policy("hybrid-robot", mode="hybrid", robot=True),
    "grab-robot": Policy("grab-robot", mode="grab", robot=True),
}
#: what ``grabdesk lab`` compares when no policy is named
DEFAULT_POLICIES = ("grab", "push", "hybrid")

_FLOAT_KEYS = {"hybrid_after_s": (0.0, 7 * 86400.0), "fair_share_factor": (1.0, 100.0),
               "fair_share_delay_s": (0.0, 3600.0), "assist_pool_scale": (0.1, 10_000.0),
               "assist_fairness_weight": (0.0, 100.0), "assist_proficiency_weight": (0.0, 100.0),
               "recent_half_life_s": (60.0, 86400.0)}
_INT_KEYS = {"concurrent_cap": (1, 1000), "daily_grabs": (1, 100_000)}
_BOOL_KEYS = ("fair_share", "assist_shrink", "robot")
_CHOICES = {"mode": tuple(MODES), "tiers": ("default", "flat"), "assist_order": ("urgent", "fifo")}
KEYS = ("base", *_CHOICES, *_FLOAT_KEYS, *_INT_KEYS, *_BOOL_KEYS)


def make_policy(name: str, settings: dict, where: str) -> Policy:
    """A policy from raw settings (strings from the command line or TOML values)."""
    if not name or not all(c.isalnum() or c in "-_+." for c in name):
        raise PolicyError(f"{where}: a policy name uses letters, digits and - _ + . only, not {name!r}")
    base = settings.get("base")
    policy = Policy(name)
    if base is not None:
        if base not in BUILT_IN:
            raise PolicyError(f"{where}: base {base!r} is not a built-in policy ({', '.join(BUILT_IN)})")
        policy = replace(BUILT_IN[base], name=name)
    values = {}
    for key, raw in settings.items():
        if key == "base":
            continue
        if key not in KEYS:
            raise PolicyError(f"{where}: unknown policy key {key!r} (known: {', '.join(KEYS)})")
        values[key] = _value(key, raw, where)
    if values.get("mode") is not None:
        values["mode"] = MODES[values["mode"]]
    return replace(policy, **values)


def _value(key: str, raw, where: str):
    if key in _CHOICES:
        if raw not in _CHOICES[key]:
            raise PolicyError(f"{where}: {key} must be one of {', '.join(_CHOICES[key])}, not {raw!r}")
        return raw
    if key in _BOOL_KEYS:
        if isinstance(raw, bool):
            return raw
        if isinstance(raw, str) and raw.lower() in ("true", "on", "yes", "false", "off", "no"):
            return raw.lower() in ("true", "on", "yes")
        raise PolicyError(f"{where}: {key} must be true or false, not {raw!r}")
    low, high = _FLOAT_KEYS.get(key) or _INT_KEYS[key]
    try:
        value = int(raw) if key in _INT_KEYS else float(raw)
    except (TypeError, ValueError):
        raise PolicyError(f"{where}: {key} must be a number, not {raw!r}") from None
    if isinstance(raw, bool) or not math.isfinite(value) or not low <= value <= high or \
            (key == "hybrid_after_s" and value == 0):
        raise PolicyError(f"{where}: {key} must be between {low:g} and {high:g}, not {raw!r}")
    return value


def parse_policy_option(text: str) -> Policy:
    """``NAME`` (a built-in) or ``NAME:key=value,key=value`` (on top of the trace's floor)."""
    name, sep, rest = text.partition(":")
    name = name.strip()
    if not sep:
        if name not in BUILT_IN:
            raise PolicyError(f"--policy {text!r}: not a built-in policy ({', '.join(BUILT_IN)}); "
                              "give settings as NAME:key=value,...")
        return BUILT_IN[name]
    settings = {}
    for item in filter(None, (i.strip() for i in rest.split(","))):
        key, eq, value = item.partition("=")
        if not eq:
            raise PolicyError(f"--policy {text!r}: {item!r} is not key=value")
        settings[key.strip()] = value.strip()
    return make_policy(name, settings, f"--policy {name}")


def load_policy_file(path: str | Path) -> list[Policy]:
    """Every policy of a TOML file (one table per policy), in file order."""
    path = Path(path)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise PolicyError(f"cannot read policy file {path}: {exc.strerror}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise PolicyError(f"{path}: not valid TOML: {exc}") from None
    if not raw:
        raise PolicyError(f"{path}: no policy in it (one [name] table per policy)")
    policies = []
    for name, settings in raw.items():
        if not isinstance(settings, dict):
            raise PolicyError(f"{path}: {name} must be a table of settings ([{name}]), not a value")
        policies.append(make_policy(name, settings, f"{path} [{name}]"))
    return policies
