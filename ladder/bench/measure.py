"""What every benchmark shares: percentiles, the growth table, the machine line, generated jobs."""

from __future__ import annotations

import json
import os
import platform
from collections.abc import Callable, Sequence
from pathlib import Path


def percentile(values: Sequence[float], q: float) -> float:
    """Linear-interpolated percentile (``q`` in 0..1), as PostgreSQL's percentile_cont."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    position = q * (len(ordered) - 1)
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def machine() -> dict:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {"cpu": cpu, "cores": os.cpu_count(), "python": platform.python_version(),
            "load_average": [round(x, 2) for x in os.getloadavg()]}


def growth(runs: Sequence[dict], seconds_key: str, count_key: str = "jobs") -> list[dict]:
    """Per scale: time per unit of work relative to the smallest run (1.0 = linear growth)."""
    base = runs[0][seconds_key] / runs[0][count_key]
    return [{"scale": r["scale"], count_key: r[count_key], "seconds": round(r[seconds_key], 3),
             "per_unit_vs_1x": round((r[seconds_key] / r[count_key]) / base, 2)} for r in runs]


def scaled_runs(base: int, scales: Sequence[int], run: Callable[[int], dict]) -> list[dict]:
    return [{"scale": scale, **run(base * scale)} for scale in scales]


def bench_prompt(number: int) -> str:
    # Varied text, so that the instant provider's prompt hash spreads jobs over both tiers.
    return f"Job {number}: write one short sentence about the number {number * 7919 % 10007} for a product page."


def write_jobs_file(path: Path, count: int, start: int = 0) -> Path:
    """A Ladder JSONL batch file of ``count`` generated jobs."""
    with Path(path).open("w", encoding="utf-8") as out:
        for number in range(start, start + count):
            out.write(json.dumps({"custom_id": f"j{number}", "prompt": bench_prompt(number), "max_tokens": 16}) + "\n")
    return Path(path)


def print_growth(echo, title: str, table: list[dict], unit: str = "jobs") -> None:
    echo(f"  {title}: " + "  ".join(f"{row['scale']}x {row[unit]} {unit} {row['seconds']:.2f}s "
                                   f"({row['per_unit_vs_1x']:.2f}x per {unit[:-1]})" for row in table))
