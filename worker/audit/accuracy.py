"""Routing accuracy: how often an accepted answer agreed with its audit.

Per tier (the tier that accepted the answer) and per routing reason (the
rule, ``learned`` or ``default`` that chose the starting tier), with a
Wilson score interval: unlike the normal approximation it stays inside
[0, 1] and is honest for the small samples a 2 % audit share gives.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.engine import Connection

from ladder.ledger.schema import audits, jobs

Z_95 = 1.959963984540054


@dataclass(frozen=True)
class AgreementRate:
    audited: int
    agreed: int
    rate: float | None
    low: float
    high: float


@dataclass(frozen=True)
class RoutingAccuracy:
    by_tier: dict[int, AgreementRate]
    by_rule: dict[str, AgreementRate]
    audits: int
    cost_usd: Decimal  # what the audit account spent on these audits

    def as_json(self) -> dict:
        return {"by_tier": {str(k): asdict(v) for k, v in self.by_tier.items()},
                "by_rule": {k: asdict(v) for k, v in self.by_rule.items()},
                "audits": self.audits, "cost_usd": str(self.cost_usd)}


def wilson_interval(successes: int, n: int, z: float = Z_95) -> tuple[float, float]:
    if n == 0:
        return 0.0, 1.0
    p = successes / n
    denominator = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denominator
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denominator
    return max(0.0, centre - half), min(1.0, centre + half)


def agreement_rate(agreed: int, audited: int) -> AgreementRate:
    low, high = wilson_interval(agreed, audited)
    return AgreementRate(audited, agreed, agreed / audited if audited else None, low, high)


def routing_accuracy(conn: Connection, batch: int | None = None) -> RoutingAccuracy:
    agreed = func.count().filter(audits.c.agreement)
    query = (select(audits.c.tier_accepted, jobs.c.route_reason, func.count().label("audited"), agreed.label("agreed"),
                    func.sum(audits.c.cost_usd).label("cost_usd"))
             .select_from(audits.join(jobs, jobs.c.id == audits.c.job_id))
             .group_by(audits.c.tier_accepted, jobs.c.route_reason))
    if batch is not None:
        query = query.where(jobs.c.batch_id == batch)
    tiers: dict[int, list[int]] = {}
    rules: dict[str, list[int]] = {}
    total, cost = 0, Decimal(0)
    for row in conn.execute(query):
        for counts in (tiers.setdefault(row.tier_accepted, [0, 0]), rules.setdefault(row.route_reason or "unrouted", [0, 0])):
            counts[0] += row.agreed
            counts[1] += row.audited
        total += row.audited
        cost += row.cost_usd
    return RoutingAccuracy(by_tier={t: agreement_rate(*c) for t, c in sorted(tiers.items())},
                           by_rule={r: agreement_rate(*c) for r, c in sorted(rules.items())},
                           audits=total, cost_usd=cost)


def render_accuracy(accuracy: RoutingAccuracy, console) -> None:
    """The audit table under the cost report: agreement per tier and per routing reason, 95% intervals."""
    from rich.table import Table

    if not accuracy.audits:
        console.print("routing accuracy: no audits yet (audit.share of jobs accepted below the top tier are audited)")
        return
    table = Table(title=f"routing accuracy from {accuracy.audits} audits (audit spend ${accuracy.cost_usd:.6f})")
    for column in ("accepted by", "audited", "agreed", "rate", "95% interval"):
        table.add_column(column, justify="right")
    rows = [(f"tier {t}", r) for t, r in accuracy.by_tier.items()] + [(f"route {k}", r) for k, r in accuracy.by_rule.items()]
    for label, rate in rows:
        shown = f"{rate.rate:.1%}" if rate.rate is not None else "-"
        table.add_row(label, str(rate.audited), str(rate.agreed), shown, f"[{rate.low:.1%}, {rate.high:.1%}]")
    console.print(table)
