"""``ladder report --plot``: the cascade's cost against the all-top-tier baseline.

Left panel: the mean cost of a finished job, stacked by the tier it finished
on (the Pᵢ·Cᵢ terms), next to the same jobs all on the top tier. Right panel,
when a threshold sweep is given: every (cost, quality) point of the sweep,
its Pareto front, and this report's cost and baseline as vertical lines.

A sweep file is a JSON list of ``{"cost": ..., "quality": ..., "threshold": ...}``
with ``cost`` the mean USD per job (the unit of Σ Pᵢ·Cᵢ) and ``quality`` in
whatever unit the sweep measured (higher is better). matplotlib is imported
only when a picture is drawn.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from ladder.errors import InputError
from ladder.ledger.report import Report, ratio


@dataclass(frozen=True)
class SweepPoint:
    cost: float
    quality: float
    threshold: float | None = None


def load_sweep(path: Path) -> list[SweepPoint]:
    try:
        raw = json.loads(Path(path).read_text())
        return [SweepPoint(float(p["cost"]), float(p["quality"]), p.get("threshold")) for p in raw]
    except OSError as exc:
        raise InputError(f"cannot read the sweep file {path}: {exc.strerror}") from None
    except (ValueError, TypeError, KeyError, AttributeError) as exc:
        raise InputError(f"{path}: expected a JSON list of {{cost, quality, threshold}} objects ({exc!r}); "
                         "`ladder tune` writes one") from None


def plot_front(report: Report, path: Path, sweep_path: Path | None = None) -> Path:
    import matplotlib

    matplotlib.use("Agg")  # files only: no display on a server
    import matplotlib.pyplot as plt

    sweep = load_sweep(sweep_path) if sweep_path else []
    figure, axes = plt.subplots(1, 2 if sweep else 1, figsize=(11 if sweep else 6, 4.5), squeeze=False)
    _cost_bars(axes[0][0], report)
    if sweep:
        _front(axes[0][1], report, sweep)
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    plt.close(figure)
    return path


def _cost_bars(ax, report: Report) -> None:
    bottom = 0.0
    for line in report.tiers:
        term = ratio(line.cost_usd, report.jobs_finished)
        if term:
            # Floats from here on: a picture needs no exact money.
            ax.bar("cascade", float(term), bottom=bottom, label=f"finished on tier {line.tier} {line.name or ''}")
            bottom += float(term)
    baseline = report.baseline_per_job_usd
    if baseline is not None:
        ax.bar(f"all on tier {report.top_tier}", float(baseline), color="grey")
        if report.saving_ratio is not None:
            ax.set_title(f"saving {float(report.saving_ratio):.1%} against the top tier alone")
    ax.set_ylabel("mean cost per finished job (USD)")
    if bottom:
        ax.legend(fontsize="small")


def _front(ax, report: Report, sweep: list[SweepPoint]) -> None:
    ax.scatter([p.cost for p in sweep], [p.quality for p in sweep], color="lightgrey", label="threshold sweep")
    from ladder.offline.metrics import pareto_front

    front = pareto_front(sweep)
    ax.plot([p.cost for p in front], [p.quality for p in front], marker="o", drawstyle="steps-post",
            label="Pareto front")
    for point in front:
        if point.threshold is not None:
            ax.annotate(f"{point.threshold:g}", (point.cost, point.quality), textcoords="offset points",
                        xytext=(4, -10), fontsize="x-small")
    for value, style, label in ((report.expected_cost_usd, "-", "this run: Σ Pᵢ·Cᵢ"),
                                (report.baseline_per_job_usd, "--", "all top tier")):
        if value is not None:
            ax.axvline(float(value), linestyle=style, color="black", linewidth=1, label=label)
    ax.set_xlabel("mean cost per job (USD)")
    ax.set_ylabel("quality")
    ax.legend(fontsize="small")
