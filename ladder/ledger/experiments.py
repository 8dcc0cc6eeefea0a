"""A/B arms compared from the ledger: cost per job, escalation, confidence, audit agreement.

Each figure comes with a 95% interval: a mean's is mean ± 1.96·s/√n (the
normal approximation, fair from a few dozen jobs), a rate's is Wilson's
(sound near 0 and 1, where escalation rates and agreement live). Each arm
after the first is compared with the first (the control): the sample size
still needed is what a two-sided test at 5% with 80% power needs per arm to
tell the difference seen so far apart from chance, minus the jobs each arm
already has; 0 means the difference is already conclusive, None that the
arms have shown no difference to test. Money stays Decimal throughout.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import text

Z_95 = 1.959963984540054  # two-sided 5%
Z_POWER_80 = 0.8416212335729143

ARM_FIGURES = text("""
    select j.experiment, j.arm,
           count(*)                                                              as jobs,
           avg(j.total_cost_usd)                                                 as mean_cost,
           coalesce(stddev_samp(j.total_cost_usd), 0)                            as sd_cost,
           count(*) filter (where exists (select 1 from attempts a
                                          where a.job_id = j.id and a.outcome = 'escalated')) as escalated,
           avg(j.confidence)                                                     as mean_confidence,
           coalesce(stddev_samp(j.confidence), 0)                                as sd_confidence,
           count(au.id)                                                          as audited,
           count(au.id) filter (where au.agreement)                              as agreed
    from jobs j
    left join audits au on au.job_id = j.id
    where j.experiment is not null and j.status in ('done', 'failed')
      and (cast(:experiment as text) is null or j.experiment = :experiment)
      and (cast(:tenant as text) is null or j.tenant = :tenant)
    group by j.experiment, j.arm
    order by j.experiment, j.arm
""")


@dataclass(frozen=True)
class Interval:
    value: float | Decimal | None
    low: float | Decimal | None
    high: float | Decimal | None


@dataclass
class ArmFigures:
    experiment: str
    arm: str
    jobs: int
    cost_per_job: Interval
    escalation_rate: Interval
    confidence: Interval
    audited: int
    audit_agreement: Interval
    needed_for_cost: int | None = None  # more jobs per arm to settle cost against the control
    needed_for_escalation: int | None = None


def mean_interval(mean, sd, n: int) -> Interval:
    if mean is None or n == 0:
        return Interval(None, None, None)
    if isinstance(mean, Decimal):
        half = Decimal(str(Z_95)) * Decimal(sd) / Decimal(n).sqrt()
        return Interval(mean, mean - half, mean + half)
    half = Z_95 * float(sd) / math.sqrt(n)
    return Interval(float(mean), float(mean) - half, float(mean) + half)


def wilson_interval(successes: int, n: int) -> Interval:
    if n == 0:
        return Interval(None, None, None)
    p, z2 = successes / n, Z_95 ** 2
    centre = (p + z2 / (2 * n)) / (1 + z2 / n)
    half = Z_95 * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / (1 + z2 / n)
    return Interval(p, max(0.0, centre - half), min(1.0, centre + half))


def jobs_still_needed(variance_a: float, variance_b: float, difference: float, have: int) -> int | None:
    """Per arm: n = (z_α/2 + z_β)² (σa² + σb²) / δ², less the jobs already there."""
    if difference == 0:
        return None
    needed = (Z_95 + Z_POWER_80) ** 2 * (variance_a + variance_b) / difference ** 2
    return max(0, math.ceil(needed) - have)


def _compare(control: ArmFigures, arm: ArmFigures, sd_cost: dict[str, float]) -> None:
    have = min(control.jobs, arm.jobs)
    cost_gap = float((arm.cost_per_job.value or 0) - (control.cost_per_job.value or 0))
    arm.needed_for_cost = jobs_still_needed(sd_cost[control.arm] ** 2, sd_cost[arm.arm] ** 2, cost_gap, have)
    p, q = control.escalation_rate.value or 0.0, arm.escalation_rate.value or 0.0
    arm.needed_for_escalation = jobs_still_needed(p * (1 - p), q * (1 - q), q - p, have)


def arm_figures(conn, arm_order: dict[str, list[str]], *, experiment: str | None = None,
                tenant: str | None = None) -> list[ArmFigures]:
    """Figures per arm; ``arm_order`` (experiment → arm names, control first) says whom to compare with."""
    rows = conn.execute(ARM_FIGURES, {"experiment": experiment, "tenant": tenant}).all()
    figures: list[ArmFigures] = []
    sd_cost: dict[tuple[str, str], float] = {}
    for r in rows:
        figures.append(ArmFigures(
            r.experiment, r.arm, r.jobs, mean_interval(r.mean_cost, r.sd_cost, r.jobs),
            wilson_interval(r.escalated, r.jobs), mean_interval(r.mean_confidence, r.sd_confidence, r.jobs),
            r.audited, wilson_interval(r.agreed, r.audited)))
        sd_cost[(r.experiment, r.arm)] = float(r.sd_cost)
    for name in {f.experiment for f in figures}:
        arms = sorted((f for f in figures if f.experiment == name),
                      key=lambda f: (arm_order.get(name, []) + [f.arm]).index(f.arm))
        for arm in arms[1:]:
            _compare(arms[0], arm, {a: sd for (e, a), sd in sd_cost.items() if e == name})
    return sorted(figures, key=lambda f: (f.experiment, (arm_order.get(f.experiment, []) + [f.arm]).index(f.arm)))
