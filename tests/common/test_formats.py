"""One way to print a duration, a limit and a stretch of service, in both windows."""
from __future__ import annotations

import pytest

from supervisor.common.formats import format_duration, format_limit, format_service


@pytest.mark.parametrize("seconds, text", [
    (0, "0:00"), (52, "0:52"), (65, "1:05"), (59 * 60 + 59, "59:59"),
    (3600, "1:00:00"), (3725, "1:02:05"), (26 * 3600, "26:00:00"),
    (-5, "-0:05"), (-3725, "-1:02:05"),
    (-0.4, "0:00"),  # less than a second overdue is not "-0:00"
    (None, "–"),
])
def test_durations_read_m_ss_under_an_hour_and_h_mm_ss_above(seconds, text):
    assert format_duration(seconds) == text


def test_limits_print_as_set():
    assert format_limit(None) == "∞"
    assert format_limit(5) == "5"
    assert format_limit(2.5) == "2.5"
    assert format_limit(4.0) == "4"


def test_service_and_its_limit_share_one_form():
    assert format_service(52, 4.0) == "0:52 / 4:00:00"
    assert format_service(8 * 60, 4.0) == "8:00 / 4:00:00", "eight minutes, not eight hours"
    assert format_service(3 * 3600 + 60, 0.5) == "3:01:00 / 30:00"
    assert format_service(None, 4.0) == "– / 4:00:00"
    assert format_service(90, None) == "1:30 / ∞"
