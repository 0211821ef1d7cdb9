"""``grabdesk bench`` options: what a mistyped count gets."""
from __future__ import annotations

import pytest

from grabdesk.cli import main


@pytest.mark.parametrize("argv", [
    ["claim-peers", "--agents", "0"], ["claim-peers", "--processes", "0"], ["console", "--agents", "0"],
    ["fanout", "--processes", "0"], ["fuzz", "--fuzzers", "0"], ["fuzz", "--frames", "0"],
    ["agent", "--presses", "0"], ["agent", "--load-processes", "0"], ["arbitration", "--in-flight", "0"],
])
def test_a_count_of_zero_is_a_usage_error_not_a_hang_or_a_traceback(argv, capsys):
    # before, fanout --processes 0 waited forever and console --agents 0 died in a queue
    with pytest.raises(SystemExit) as stopped:
        main(["bench", *argv])
    assert stopped.value.code == 2
    assert "must be at least 1" in capsys.readouterr().err
