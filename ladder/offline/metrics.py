"""Replay a policy's threshold over recorded outcomes: share at the top model, quality, cost.

A policy gives, for every prompt and every model below the top, a value in
[0, 1]: a router's P(this model succeeds) or a cascade's confidence in this
model's answer. At threshold t a prompt goes to (or is accepted from) the
cheapest model whose value is >= t, else the top model. A router pays for
the one model it picks; a cascade pays for every model it tried on the way.

Cost uses list prices and token counts estimated from text length
(``outcomes.estimate_tokens``); a query-only file is costed on prompt tokens.
Sums are exact: each call's Decimal cost is held as an integer count of
``COST_UNIT`` (the precision ``Prices.cost`` rounds to).

``cpt`` and ``apgr`` follow RouteLLM (lm-sys/RouteLLM, routellm/evals/evaluate.py):
CPT(x) is the share of calls to the strong model needed to recover x of the
gap between the weak and the strong model's accuracy, read off the curve by
linear interpolation; APGR is the area under the accuracy-vs-strong-share
curve above the weak model's accuracy, over the gap's area ((AUC - weak) /
(strong - weak)). RouteLLM samples 10 quantile thresholds and reports shares
in percent; here every distinct value is a threshold and shares are fractions.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

import numpy as np

from ladder.config import Prices
from ladder.errors import InputError
from ladder.offline.outcomes import Outcomes, estimate_tokens

COST_UNIT = Decimal("0.0000000001")
MAX_THRESHOLDS = 2001
QUALITY_TARGET = 0.95  # of the top model's own accuracy: the "_at_95" figures
# From data/routellm/README.md (USD per 1M tokens, input / output).
LIST_PRICES = {
    "gpt-4-1106-preview": Prices(input_per_1m=Decimal("10.00"), output_per_1m=Decimal("30.00")),
    "mistralai/Mixtral-8x7B-Instruct-v0.1": Prices(input_per_1m=Decimal("0.60"), output_per_1m=Decimal("0.60")),
}


@dataclass(frozen=True)
class Point:
    threshold: float
    share_top: float
    quality: float
    cost: Decimal

    def as_json(self) -> dict:
        # JSON has no decimal type; the sum itself was exact.
        return {"threshold": self.threshold, "share_top": self.share_top, "quality": self.quality, "cost": float(self.cost)}


def call_costs(outcomes: Outcomes, prices: Mapping[str, Prices]) -> np.ndarray:
    """Cost of calling each model on each prompt, in COST_UNITs (int64, n x models)."""
    missing = [m for m in outcomes.models if m not in prices]
    if missing:
        raise InputError(f"no prices for {', '.join(missing)}: pass --prices MODEL=IN/OUT (USD per 1M tokens), ...")
    responses = outcomes.responses or {}
    table = np.zeros((len(outcomes), len(outcomes.models)), dtype=np.int64)
    for k, model in enumerate(outcomes.models):
        texts = responses.get(model)
        for j, prompt in enumerate(outcomes.prompts):
            cost = prices[model].cost(estimate_tokens(prompt), estimate_tokens(texts[j]) if texts else 0, 0.0)
            table[j, k] = int(cost / COST_UNIT)
    return table


def first_trusted(values: np.ndarray, thresholds: Sequence[float] | np.ndarray) -> np.ndarray:
    """Index of the cheapest model each prompt stays with; the top model when none is trusted."""
    trusted = values >= np.asarray(thresholds, dtype=float)[None, :]
    top = values.shape[1]
    return np.where(trusted.any(axis=1), trusted.argmax(axis=1), top)


def replay(values: np.ndarray, thresholds: Sequence[float], correct: np.ndarray, costs: np.ndarray,
           *, cascade: bool, threshold: float = float("nan")) -> Point:
    """Outcome of one setting of the per-model thresholds."""
    chosen = first_trusted(values, thresholds)
    rows = np.arange(len(chosen))
    paid = np.cumsum(costs, axis=1) if cascade else costs
    total = int(paid[rows, chosen].sum())
    return Point(threshold, float((chosen == correct.shape[1] - 1).mean()), float(correct[rows, chosen].mean()),
                 Decimal(total) * COST_UNIT)


def candidate_thresholds(values: np.ndarray) -> np.ndarray:
    """Every distinct value (at most MAX_THRESHOLDS quantiles), plus one above all: share 0 to 1."""
    distinct = np.unique(values)
    if len(distinct) > MAX_THRESHOLDS:
        distinct = np.unique(np.quantile(distinct, np.linspace(0, 1, MAX_THRESHOLDS)))
    above = np.nextafter(distinct[-1], np.inf) if len(distinct) else 1.0
    return np.concatenate([[min(0.0, distinct[0]) if len(distinct) else 0.0], distinct, [above]])


def sweep(values: np.ndarray, correct: np.ndarray, costs: np.ndarray, *, cascade: bool) -> list[Point]:
    width = values.shape[1]
    return [replay(values, [t] * width, correct, costs, cascade=cascade, threshold=float(t))
            for t in candidate_thresholds(values)]


def cheapest_reaching(points: Sequence[Point], quality: float) -> Point | None:
    """The operating point with the fewest top-model calls (then the lowest cost) at ``quality`` or above."""
    reaching = [p for p in points if p.quality >= quality - 1e-12]
    return min(reaching, key=lambda p: (p.share_top, p.cost), default=None)


def pareto_front(points: Sequence[Point]) -> list[Point]:
    """Points no other point beats on both cost and quality, cheapest first."""
    front: list[Point] = []
    for point in sorted(points, key=lambda p: (p.cost, -p.quality)):
        if not front or point.quality > front[-1].quality:
            front.append(point)
    return front


def _curve(points: Sequence[Point]) -> tuple[np.ndarray, np.ndarray]:
    ordered = sorted(points, key=lambda p: (p.share_top, p.quality))
    return np.array([p.share_top for p in ordered]), np.array([p.quality for p in ordered])


def cpt(points: Sequence[Point], weak: float, strong: float, fraction: float) -> float | None:
    """Share of strong-model calls needed to recover ``fraction`` of the weak-to-strong gap."""
    if strong <= weak:
        return None
    target = weak + fraction * (strong - weak)
    shares, quality = _curve(points)
    for i in np.flatnonzero(quality >= target):
        if i == 0:
            return float(shares[0])
        # First crossing, interpolated linearly between the two points around it.
        s0, s1, q0, q1 = shares[i - 1], shares[i], quality[i - 1], quality[i]
        return float(s1 if q1 == q0 else s0 + (target - q0) * (s1 - s0) / (q1 - q0))
    return None


def apgr(points: Sequence[Point], weak: float, strong: float) -> float | None:
    """Average performance-gap recovered: (AUC - weak) / (strong - weak) over the share axis."""
    shares, quality = _curve(points)
    span = shares[-1] - shares[0]
    if strong <= weak or span <= 0:
        return None
    area = float(np.sum((shares[1:] - shares[:-1]) * (quality[1:] + quality[:-1]) / 2))
    return (area - weak * span) / ((strong - weak) * span)


def summarise(points: Sequence[Point], correct: np.ndarray, costs: np.ndarray) -> dict:
    """The headline figures of one curve on one test set."""
    weak, strong = float(correct[:, 0].mean()), float(correct[:, -1].mean())
    at_target = cheapest_reaching(points, QUALITY_TARGET * strong)
    all_top = int(costs[:, -1].sum())
    return {
        "top_share_at_95": at_target.share_top if at_target else None,
        "cost_ratio_at_95": float(at_target.cost / (Decimal(all_top) * COST_UNIT)) if at_target and all_top else None,
        "cpt50": cpt(points, weak, strong, 0.5),
        "cpt80": cpt(points, weak, strong, 0.8),
        "apgr": apgr(points, weak, strong),
    }


def parse_prices(spec: str | None) -> dict[str, Prices]:
    """``MODEL=IN/OUT,...`` (USD per 1M input / output tokens). Model names may contain '/'."""
    prices: dict[str, Prices] = {}
    for item in filter(None, (part.strip() for part in (spec or "").split(","))):
        model, _, pair = item.rpartition("=")
        per_in, _, per_out = pair.partition("/")
        try:
            prices[model] = Prices(input_per_1m=Decimal(per_in), output_per_1m=Decimal(per_out or per_in))
        except ArithmeticError:
            raise InputError(f"--prices item {item!r}: expected MODEL=IN/OUT in USD per 1M tokens, e.g. gpt-4o=2.50/10.00") from None
        if not model:
            raise InputError(f"--prices item {item!r} names no model: expected MODEL=IN/OUT")
    return prices


def prices_for(models: Sequence[str], given: Mapping[str, Prices]) -> dict[str, Prices]:
    """Given prices first, then the list prices Ladder knows, then tiers of the config serving that model."""
    # A list price matches its model whatever the organisation prefix or case ("Org/Model" is "model").
    by_base = {name.split("/")[-1].lower(): price for name, price in LIST_PRICES.items()}
    known = {**{m: by_base[m.split("/")[-1].lower()] for m in models if m.split("/")[-1].lower() in by_base}, **given}
    if any(m not in known for m in models):
        try:
            from ladder.config import get_config

            known = {**{t.model: t.prices for t in get_config().tiers}, **known}
        except Exception:  # no readable config: --prices is then the only source, said below
            pass
    missing = [m for m in models if m not in known]
    if missing:
        raise InputError(f"no list prices for {', '.join(missing)}: pass --prices "
                         + ",".join(f"{m}=IN/OUT" for m in missing) + " (USD per 1M input/output tokens)")
    return {m: known[m] for m in models}


def cheapest_first(accuracy: Mapping[str, float]) -> list[str]:
    """The models' order when none is given: by list price if every model has one, else weakest first."""
    try:
        prices = prices_for(list(accuracy), {})
    except InputError:
        return sorted(accuracy, key=accuracy.get)
    return sorted(accuracy, key=lambda m: (prices[m].input_per_1m + prices[m].output_per_1m, accuracy[m]))
