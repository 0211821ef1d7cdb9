"""The robot first line in the policy lab: the real robot decides through the arbiter's
robot calls; it contains part of the arrivals, hands the rest over, and the figures say so."""
from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from tools.lab.engine import LabRun
from tools.lab.figures import figures
from tools.lab.policy import BUILT_IN, parse_policy_option
from tools.lab.trace import DEMO_PROFILE, DEMO_ROSTER, Trace, from_profile


@pytest.fixture(scope="module")
def evening() -> Trace:
    """An hour of a Double-11 evening at 3x on the demo floor."""
    return from_profile(DEMO_PROFILE, DEMO_ROSTER, seed=5, surge=3.0,
                        start=datetime(2026, 11, 11, 20, tzinfo=ZoneInfo("Asia/Shanghai")), hours=1)


def test_the_robot_contains_part_of_the_arrivals_and_hands_over_the_rest(evening):
    run = LabRun(evening, BUILT_IN["hybrid-robot"], 5)
    outcome = run.run()
    out = figures(outcome)
    assert 20.0 < out["robot_contained_pct"] < 80.0
    assert out["robot_contained_pct"] + out["robot_escalated_pct"] <= 100.0
    assert outcome.robot["answered"] > 0 and outcome.robot["escalated"] > 0 and outcome.robot["follow_ups"] > 0
    contained = [row for row in outcome.inquiries.values() if row[4] == "robot"]
    assert all(state == "resolved" and first is not None for _a, first, _c, state, _h in contained)
    # nobody is left with the robot when the floor has drained
    assert not [i for i in run.core.inquiries.values() if i.state == "robot"]
    without = figures(LabRun(evening, BUILT_IN["hybrid"], 5).run())
    assert without["robot_contained_pct"] is None
    assert out["arrivals"] == without["arrivals"]


def test_the_robot_is_a_policy_key():
    assert parse_policy_option("bot:base=grab,robot=on").robot is True
    assert BUILT_IN["grab-robot"].robot and not BUILT_IN["grab"].robot
