"""The lab's outputs: a table for people, one JSON object, CSV files and PNG charts."""
from __future__ import annotations

import csv
import json
from pathlib import Path

from tools.lab.figures import KEYS

#: table columns: (key, heading, format)
COLUMNS = (
    ("first_response_10min_pct", "FR<=10min %", "{:.1f}"),
    ("resolved_20min_pct", "res<=20min %", "{:.1f}"),
    ("abandoned_pct", "abandoned %", "{:.1f}"),
    ("p50_first_response_s", "p50 FR s", "{:.0f}"),
    ("p90_first_response_s", "p90 FR s", "{:.0f}"),
    ("utilisation_pct", "util %", "{:.0f}"),
    ("gini", "gini", "{:.3f}"),
    ("assisted_pct", "assisted %", "{:.1f}"),
    ("sim_wall_s", "wall s", "{:.1f}"),
)


def result_object(trace_name: str, seed: int, arrivals: int, wall_s: float, results: dict[str, dict]) -> dict:
    """The ``--json`` object: arrivals, wall_s and policies mapping each name to its figures."""
    return {"trace": trace_name, "seed": seed, "arrivals": arrivals, "wall_s": round(wall_s, 2),
            "policies": results}


def table(result: dict, descriptions: dict[str, str]) -> str:
    """The side-by-side table printed on stdout."""
    names = list(result["policies"])
    width = max([len("policy"), *map(len, names)])
    head = "policy".ljust(width) + "".join(f"  {h:>12}" for _, h, _ in COLUMNS)
    lines = [f"{result['trace']}: {result['arrivals']} arrivals, {result['wall_s']:.1f} s", head,
             "-" * len(head)]
    for name in names:
        figures = result["policies"][name]
        cells = []
        for key, _, fmt in COLUMNS:
            value = figures.get(key)
            cells.append(f"  {'-' if value is None else fmt.format(value):>12}")
        lines.append(name.ljust(width) + "".join(cells))
    lines.append("")
    lines += [f"  {name}: {descriptions.get(name, '')}" for name in names]
    return "\n".join(lines)


def write_report(directory: Path, result: dict) -> list[Path]:
    """summary.csv, hourly.csv, lab.json and the two per-hour charts; returns the files written."""
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    summary = directory / "summary.csv"
    with summary.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        extra = ["grabs_won", "grabs_lost", "grabs_refused", "sim_wall_s"]
        writer.writerow(["policy", *KEYS, *extra])
        for name, figures in result["policies"].items():
            writer.writerow([name, *(figures.get(k) for k in KEYS), *(figures.get(k) for k in extra)])
    written.append(summary)
    hourly = directory / "hourly.csv"
    with hourly.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["policy", "hour", "arrivals", "first_response_10min_pct", "p90_first_response_s",
                         "queue_mean"])
        for name, figures in result["policies"].items():
            for row in figures["hourly"]:
                writer.writerow([name, row["hour"], row["arrivals"], row["first_response_10min_pct"],
                                 row["p90_first_response_s"], row["queue_mean"]])
    written.append(hourly)
    as_json = directory / "lab.json"
    as_json.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    written.append(as_json)
    from tools.lab.charts import per_hour_chart

    curves = {name: [row["queue_mean"] for row in figures["hourly"]] for name, figures in result["policies"].items()}
    written.append(per_hour_chart(directory / "queue_per_hour.png", "Inquiries waiting in the pool (mean)",
                                  "waiting", curves))
    curves = {name: [(row["p90_first_response_s"] or 0.0) / 60.0 for row in figures["hourly"]]
              for name, figures in result["policies"].items()}
    written.append(per_hour_chart(directory / "first_response_per_hour.png",
                                  "Time to first response, p90 (minutes)", "minutes", curves))
    return written
