"""Threshold tuning: the thresholds that reach a quality target at the lowest cost.

The learned model (the cascade's answer scorer, or the prompt-only router) is
fitted on the train split and saved beside the thresholds file; the sweep
runs on the held-out split with the saved artifact re-loaded, so the written
thresholds are exactly what :func:`replay_thresholds` measures again.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import numpy as np

from ladder.config import Prices
from ladder.errors import InputError
from ladder.offline import metrics
from ladder.offline.outcomes import Outcomes
from ladder.offline.routers import fit_policy, router_values, scorer_values


@dataclass(frozen=True)
class Tuning:
    points: list[metrics.Point]
    front: list[metrics.Point]
    chosen: metrics.Point | None
    goal: float  # the quality the target asks for on the tuning split
    all_top_cost: Decimal
    settings: dict  # what the thresholds file holds


def _values(router: str, artifact: Path, outcomes: Outcomes) -> np.ndarray:
    if router == "cascade":
        from worker.score.learned import LearnedScorer

        return scorer_values(LearnedScorer.load(artifact), outcomes)
    from worker.route.learned import LearnedRouter

    return router_values(LearnedRouter.load(artifact), outcomes)


def _store_router_threshold(artifact: Path, threshold: float) -> None:
    """The live route task reads its threshold from the artifact: make it the tuned one."""
    from worker.route.learned import LearnedRouter

    router = LearnedRouter.load(artifact)
    router.threshold = threshold
    router.save(artifact)


def tune(outcomes: Outcomes, prices: Mapping[str, Prices], out: Path, *, router: str = "cascade",
         target: float = 0.95, train_fraction: float = 0.5, seed: int = 0) -> Tuning:
    if router not in ("cascade", "learned"):
        raise InputError(f"ladder tune tunes a learned policy: --router cascade or learned, not {router!r}")
    if not 0.0 < target <= 1.0:
        raise InputError(f"--target is a share of the top model's quality in (0, 1], got {target}")
    train, held_out = outcomes.split(train_fraction, seed)
    out.parent.mkdir(parents=True, exist_ok=True)
    artifact = out.with_name(f"{out.stem}.{'scorer' if router == 'cascade' else 'router'}.json")
    fit_policy(router, train, held_out, seed).model.save(artifact)
    values = _values(router, artifact, held_out)
    costs = metrics.call_costs(held_out, prices)
    points = metrics.sweep(values, held_out.correct, costs, cascade=router == "cascade")
    goal = target * float(held_out.correct[:, -1].mean())
    reaching = [p for p in points if p.quality >= goal - 1e-12]
    chosen = min(reaching, key=lambda p: (p.cost, -p.quality), default=None)
    if router == "learned" and chosen is not None:
        _store_router_threshold(artifact, chosen.threshold)
    settings = {
        "router": router,
        "artifact": artifact.name,
        "models": outcomes.models,
        "target": target,
        "thresholds": {m: chosen.threshold for m in outcomes.models[:-1]} if chosen else None,
        "expected": chosen.as_json() if chosen else None,
        "tuned_on": {"train_fraction": train_fraction, "seed": seed, "split": "test", "rows": len(held_out)},
    }
    return Tuning(points, metrics.pareto_front(points), chosen, goal,
                  Decimal(int(costs[:, -1].sum())) * metrics.COST_UNIT, settings)


def write_settings(settings: dict, out: Path) -> None:
    if out.suffix in (".yaml", ".yml"):
        import yaml

        out.write_text(yaml.safe_dump(settings, sort_keys=False))
    else:
        out.write_text(json.dumps(settings, indent=2) + "\n")


def read_settings(path: Path) -> dict:
    import yaml  # YAML is a superset of JSON: one reader for both

    try:
        return yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as exc:
        raise InputError(f"cannot read thresholds file {path}: {exc}. Write one with `ladder tune --out`.") from None


def replay_thresholds(path: Path, outcomes: Outcomes, prices: Mapping[str, Prices]) -> metrics.Point:
    """Measure a thresholds file again on ``outcomes``, through its saved artifact."""
    settings = read_settings(path)
    if not settings.get("thresholds"):
        raise InputError(f"{path} holds no thresholds: the target was not reached when it was tuned")
    values = _values(settings["router"], path.with_name(settings["artifact"]), outcomes)
    thresholds = [settings["thresholds"][m] for m in outcomes.models[:-1]]
    return metrics.replay(values, thresholds, outcomes.correct, metrics.call_costs(outcomes, prices),
                          cascade=settings["router"] == "cascade")


def write_sweep(points: Sequence[metrics.Point], path: Path, jobs: int) -> None:
    """The sweep for `ladder report --plot --sweep`: cost as mean USD per job, the unit of Σ Pᵢ·Cᵢ."""
    rows = [p.as_json() | {"cost": float(p.cost) / jobs, "cost_total": float(p.cost)} for p in points]
    path.write_text(json.dumps(rows, indent=1) + "\n")


def plot_front(tuning: Tuning, path: Path, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4.5))
    ax.scatter([float(p.cost) for p in tuning.points], [p.quality for p in tuning.points], s=6, alpha=0.3, label="thresholds")
    ax.plot([float(p.cost) for p in tuning.front], [p.quality for p in tuning.front], "-", lw=1.5, label="Pareto front")
    ax.axhline(tuning.goal, ls="--", color="grey", lw=1, label="target")
    if tuning.chosen:
        ax.plot([float(tuning.chosen.cost)], [tuning.chosen.quality], "*", ms=14, color="crimson", label="chosen")
    ax.set_xlabel("cost on the tuning split (USD, list prices)")
    ax.set_ylabel("quality (accuracy)")
    ax.set_title(title)
    ax.legend(loc="lower right")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
