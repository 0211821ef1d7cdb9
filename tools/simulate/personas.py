"""Simulated agents' habits: how fast they grab, what they skip, how they work.

Pure and seeded like the plan: each agent's persona is drawn from its own
generator (``Random(f"{seed}:persona:{agent_id}")``), so adding or excluding
an agent never changes anybody else's habits. The per-inquiry decisions
(:meth:`Persona.reaction_s` and the rest) take the caller's generator; the
runner keeps one per agent so a run repeats for a seed as far as the
broker's verdicts let it (who wins a race depends on real timing).

All durations are **simulated seconds**; the runner divides them by the time
scale. The live simulator (``tools.simulate.agents``) and the policy lab
(``tools.lab``) both drive their people with these methods, so a live run and
a virtual one share one behaviour model: what a person notices, how fast,
how many inquiries they are comfortable holding, which waiting inquiry they
pick when a slot frees, and how much slower they work when overloaded.

Styles, and why they exist on a real floor (seed 000 and 004):

* ``sprinter`` grabs within seconds and works fast, a little carelessly:
  the 强者恒强 agents fairness damping is for;
* ``steady`` is the typical agent;
* ``careful`` is slow to grab and slow to close, and customers love them;
* ``picky`` passes over skills they dislike and low-priority work, so some
  inquiries wait for someone else;
* ``newbie`` is slow, releases and transfers more, and scores lower.
"""
from __future__ import annotations

import math
import random
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

__all__ = ["DEFAULT_AHT_S", "STYLES", "Persona", "make_persona", "make_personas"]

#: handling time for a skill the profile gives no ``aht_s`` for, simulated seconds
DEFAULT_AHT_S = 300.0
#: a high-priority inquiry is noticed this much sooner (multiplier on the reaction delay)
URGENT_REACTION_FACTOR = 0.6
#: a disliked inquiry a picky agent does take is taken this much later
DISLIKED_REACTION_FACTOR = 3.0
#: proficiency 1..5 -> multiplier on handling time (3 is the profile's average)
PROFICIENCY_FACTOR = {1: 1.3, 2: 1.15, 3: 1.0, 4: 0.9, 5: 0.8}
#: persona parameters vary this much (+/- fraction) around their style's value
JITTER = 0.2
#: handling-time shapes: the personas' log-normal, or exponential (queueing-theory checks)
HANDLING_SHAPES = ("lognormal", "exponential")


@dataclass(frozen=True)
class _Style:
    weight: float
    reaction_median_s: float
    response_median_s: float
    handling_factor: float
    release_prob: float
    transfer_prob: float
    #: weights of satisfaction scores 1..5
    satisfaction: tuple[float, float, float, float, float]
    #: how many inquiries the agent is comfortable holding at once
    comfort_load: int
    skip_disliked_prob: float = 0.0
    skip_low_priority_prob: float = 0.0


#: style name -> parameters; ``weight`` is how common the style is on the floor
STYLES: Mapping[str, _Style] = {
    "sprinter": _Style(0.20, 4.0, 15.0, 0.85, 0.02, 0.02, (0.04, 0.06, 0.15, 0.40, 0.35), 5),
    "steady": _Style(0.40, 12.0, 30.0, 1.00, 0.03, 0.03, (0.02, 0.04, 0.14, 0.40, 0.40), 3),
    "careful": _Style(0.15, 30.0, 45.0, 1.25, 0.01, 0.02, (0.01, 0.02, 0.07, 0.30, 0.60), 2),
    "picky": _Style(0.15, 8.0, 25.0, 1.00, 0.04, 0.05, (0.03, 0.05, 0.14, 0.38, 0.40), 3,
                    skip_disliked_prob=0.85, skip_low_priority_prob=0.30),
    "newbie": _Style(0.10, 25.0, 60.0, 1.40, 0.08, 0.10, (0.08, 0.12, 0.25, 0.35, 0.20), 2),
}

#: spread (sigma of the logarithm) of reaction, response and handling times
REACTION_SIGMA = 0.6
RESPONSE_SIGMA = 0.5
HANDLING_SIGMA = 0.5


@dataclass(frozen=True)
class Persona:
    """One simulated agent's habits (simulated seconds throughout)."""

    agent_id: str
    style: str
    reaction_median_s: float
    response_median_s: float
    handling_factor: float
    release_prob: float
    transfer_prob: float
    satisfaction_weights: tuple[float, ...]
    comfort_load: int
    disliked_skills: frozenset[str] = frozenset()
    skip_disliked_prob: float = 0.0
    skip_low_priority_prob: float = 0.0
    #: "lognormal" (people) or "exponential" (the Erlang C check)
    handling_shape: str = "lognormal"

    def slots(self, cap: int | None) -> int:
        """How many inquiries this person holds at most: their comfort, within the broker's cap."""
        return self.comfort_load if cap is None else min(cap, self.comfort_load)

    def overload_factor(self, held: int) -> float:
        """Multiplier on handling time while holding ``held`` inquiries.

        Beyond their comfort a person does not get more done, they get slower:
        each of ``held`` inquiries takes ``held / comfort_load`` times as long,
        so no policy wins by piling work on people (a pushed inquiry ignores
        comfort; a grabbing person never exceeds it).
        """
        return max(1.0, held / self.comfort_load)

    @staticmethod
    def most_urgent(candidates: Iterable):
        """The waiting inquiry a person picks when a slot frees: highest priority, then longest wait."""
        return min(candidates, key=lambda i: (-i.priority, i.arrived_at), default=None)

    def reaction_s(self, rng: random.Random, skill: str, priority: int) -> float | None:
        """Seconds from seeing an inquiry to grabbing it, or None to pass it over."""
        factor = 1.0
        if skill in self.disliked_skills:
            if rng.random() < self.skip_disliked_prob:
                return None
            factor = DISLIKED_REACTION_FACTOR
        if priority <= 0 and rng.random() < self.skip_low_priority_prob:
            return None
        if priority > 0:
            factor *= URGENT_REACTION_FACTOR
        return factor * _lognormal(rng, self.reaction_median_s, REACTION_SIGMA)

    def accept_s(self, rng: random.Random, priority: int) -> float:
        """Seconds until a person notices an inquiry the broker pushed to them (no skipping it)."""
        factor = URGENT_REACTION_FACTOR if priority > 0 else 1.0
        return factor * _lognormal(rng, self.reaction_median_s, REACTION_SIGMA)

    def response_s(self, rng: random.Random) -> float:
        """Seconds from taking an inquiry to the first reply."""
        return _lognormal(rng, self.response_median_s, RESPONSE_SIGMA)

    def handling_s(self, rng: random.Random, aht_s: float, proficiency: int = 3) -> float:
        """Seconds from the first reply to closing, averaging ``aht_s`` for a level-3 agent.

        Log-normal with its *mean* (not median) at the target, because the
        profile's AHT is an average.
        """
        mean = aht_s * self.handling_factor * PROFICIENCY_FACTOR.get(proficiency, 1.0)
        if self.handling_shape == "exponential":
            return rng.expovariate(1.0 / mean)
        median = mean / math.exp(HANDLING_SIGMA ** 2 / 2.0)
        return _lognormal(rng, median, HANDLING_SIGMA)

    def outcome(self, rng: random.Random) -> str:
        """How the agent will finish an inquiry: "resolve", "release" or "transfer"."""
        roll = rng.random()
        if roll < self.release_prob:
            return "release"
        if roll < self.release_prob + self.transfer_prob:
            return "transfer"
        return "resolve"

    def satisfaction(self, rng: random.Random) -> int:
        """The customer's score 1..5 after this agent resolved the inquiry."""
        return rng.choices((1, 2, 3, 4, 5), weights=self.satisfaction_weights)[0]


def _lognormal(rng: random.Random, median: float, sigma: float) -> float:
    return median * math.exp(rng.gauss(0.0, sigma))


def _jitter(rng: random.Random, value: float) -> float:
    return value * (1.0 + rng.uniform(-JITTER, JITTER))


def make_persona(agent_id: str, seed: int, skills: Iterable[str] = ()) -> Persona:
    """The persona of one agent; ``skills`` are what a picky agent may dislike."""
    rng = random.Random(f"{seed}:persona:{agent_id}")
    names = list(STYLES)
    style_name = rng.choices(names, weights=[STYLES[n].weight for n in names])[0]
    style = STYLES[style_name]
    disliked: frozenset[str] = frozenset()
    own = sorted(skills)
    if style.skip_disliked_prob > 0 and len(own) > 1:
        # dislike one of several skills: the agent still works its main one
        disliked = frozenset(rng.sample(own, 1))
    return Persona(
        agent_id=agent_id,
        style=style_name,
        reaction_median_s=_jitter(rng, style.reaction_median_s),
        response_median_s=_jitter(rng, style.response_median_s),
        handling_factor=_jitter(rng, style.handling_factor),
        release_prob=style.release_prob,
        transfer_prob=style.transfer_prob,
        satisfaction_weights=style.satisfaction,
        comfort_load=style.comfort_load,
        disliked_skills=disliked,
        # a picky agent with a single skill is picky about priority only
        skip_disliked_prob=style.skip_disliked_prob if disliked else 0.0,
        skip_low_priority_prob=style.skip_low_priority_prob,
    )


def make_personas(skills_by_agent: Mapping[str, Iterable[str]], seed: int) -> dict[str, Persona]:
    """Personas for every agent id in ``skills_by_agent`` (agent id -> its skills)."""
    return {agent_id: make_persona(agent_id, seed, skills)
            for agent_id, skills in sorted(skills_by_agent.items())}
