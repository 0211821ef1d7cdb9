"""`grabdesk staffing` through the real dispatcher (grabdesk.cli.main)."""
from __future__ import annotations

import json

import pytest

from grabdesk.cli import main


def _json_run(capsys, *extra: str) -> dict:
    code = main(["staffing", *extra, "--json"])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert err == ""
    lines = out.strip().splitlines()
    assert len(lines) == 1, "--json prints exactly one JSON object"
    return json.loads(lines[0])


def test_json_worked_example_with_defaults(capsys):
    # Call Centre Helper worked example: 200/h, AHT 180 s, defaults 80 % in 20 s
    data = _json_run(capsys, "--arrivals-per-hour", "200", "--aht-s", "180")
    assert data["agents"] == 14
    assert data["service_level"] == pytest.approx(0.8884, abs=1e-4)
    assert data["prob_wait"] == pytest.approx(0.1741, abs=1e-4)
    assert data["occupancy"] == pytest.approx(10 / 14)
    assert data["traffic_erlangs"] == pytest.approx(10.0)
    # the inputs are echoed, defaults included, so a saved result explains itself
    assert data["arrivals_per_hour"] == 200
    assert data["aht_s"] == 180
    assert data["target_pct"] == 80
    assert data["within_s"] == 20
    assert data["concurrency"] == 1


def test_json_concurrency_and_options(capsys):
    data = _json_run(
        capsys,
        "--arrivals-per-hour", "200", "--aht-s", "180",
        "--target-pct", "90", "--within-s", "30", "--concurrency", "3",
    )
    # 90 % in 30 s needs 14 slots at 10 E (13 slots give 82.7 %) -> 5 agents x 3
    assert data["agents"] == 5
    assert data["servers"] == 15
    assert data["concurrency"] == 3
    assert data["target_pct"] == 90
    assert data["within_s"] == 30


def test_json_zero_arrivals(capsys):
    data = _json_run(capsys, "--arrivals-per-hour", "0", "--aht-s", "180")
    assert data["agents"] == 0
    assert data["service_level"] == 1.0
    assert data["prob_wait"] == 0.0


def test_table_output(capsys):
    code = main(["staffing", "--arrivals-per-hour", "200", "--aht-s", "180"])
    out, err = capsys.readouterr()
    assert code == 0
    assert err == ""
    lines = {line.split("  ")[0]: line for line in out.splitlines()}
    assert "agents required" in lines and lines["agents required"].split()[-1] == "14"
    assert "88.8 % within 20 s" in lines["service level"]
    assert "71.4 %" in lines["occupancy"]
    assert "10.00 Erlangs" in lines["traffic"]
    with pytest.raises(json.JSONDecodeError):
        json.loads(out)


@pytest.mark.parametrize(
    ("argv", "fragment"),
    [
        (["--arrivals-per-hour", "-5", "--aht-s", "180"], "--arrivals-per-hour must be at least 0"),
        (["--arrivals-per-hour", "200", "--aht-s", "0"], "--aht-s must be greater than 0"),
        (["--arrivals-per-hour", "200", "--aht-s", "180", "--target-pct", "100"], "--target-pct must be between 0 and 100"),
        (["--arrivals-per-hour", "200", "--aht-s", "180", "--concurrency", "0"], "--concurrency must be at least 1"),
        (["--arrivals-per-hour", "nan", "--aht-s", "180"], "--arrivals-per-hour must be a finite number"),
    ],
)
def test_bad_values_exit_2_with_one_clear_line(capsys, argv, fragment):
    code = main(["staffing", *argv, "--json"])
    out, err = capsys.readouterr()
    assert code == 2
    assert out == ""
    assert fragment in err
    assert "Traceback" not in err
    assert err.startswith("grabdesk staffing: error: ")


@pytest.mark.parametrize(
    "argv",
    [
        ["--arrivals-per-hour", "many", "--aht-s", "180"],
        ["--aht-s", "180"],  # missing required option
        ["--arrivals-per-hour", "200", "--aht-s", "180", "--concurrency", "1.5"],
    ],
)
def test_unparseable_arguments_exit_2_without_traceback(capsys, argv):
    with pytest.raises(SystemExit) as excinfo:
        main(["staffing", *argv])
    out, err = capsys.readouterr()
    assert excinfo.value.code == 2
    assert out == ""
    assert "error:" in err
    assert "Traceback" not in err
