"""The cost report: per tier, Pᵢ · Cᵢ against the all-top-tier baseline.

One SQL statement over the ``job_costs`` view (and ``attempts``, for the
per-tier escalation and latency) does the counting, summing and percentiles;
no attempt row reaches Python, which only divides the sums it gets back (as
``Decimal``), so the totals are exactly what PostgreSQL added up. A job belongs to the tier it
finished on (done or failed): Pᵢ is the share of finished jobs ending there,
Cᵢ the mean of everything those jobs cost, lower-tier attempts included, so
Σ Pᵢ·Cᵢ is the mean cost of a finished job.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from sqlalchemy import Engine, text
from sqlalchemy.exc import ProgrammingError

from ladder.errors import ConfigError

REPORT_SQL = """
with scope as (
    select final_tier, status, cost_usd, top_tier_cost_usd, attempts,
           status in ('done', 'failed') and final_tier is not null as finished
    from job_costs
    where {filters}
),
by_final_tier as (
    -- One pass: a row per final tier (unfinished jobs make the null tier) and the
    -- grand total, told apart by grouping(). The total row counts every job in scope.
    select grouping(final_tier) = 1                             as is_total,
           final_tier                                           as tier,
           count(*)                                             as jobs,
           coalesce(sum(cost_usd), 0)                           as spent_usd,
           count(*) filter (where finished)                     as jobs_finished,
           count(*) filter (where finished and status = 'failed') as jobs_failed,
           coalesce(sum(cost_usd) filter (where finished), 0)   as cost_usd,
           coalesce(sum(top_tier_cost_usd) filter (where finished), 0) as baseline_usd,
           count(*) filter (where finished and attempts > 0 and top_tier_cost_usd is null) as jobs_unpriced
    from scope
    group by grouping sets ((final_tier), ())
),
end_to_end as (
    -- From jobs alone: a duration needs no attempts, and the sums above stay one hashed pass.
    select percentile_cont(array[0.5, 0.95]) within group (order by date_part('epoch', finished_at - created_at) * 1000)
               as end_to_end_ms
    from jobs
    where ({filters}) and status in ('done', 'failed') and final_tier is not null
),
scoped_attempts as not materialized (
    select * from attempts a where {attempts_filter}
),
by_attempt_tier as (
    -- A job reached a tier when it has any attempt there (retries and ensemble
    -- members are attempts too); it leaves upwards through one escalated attempt.
    select tier,
           count(*)                                      as attempts,
           sum(cost_usd)                                 as attempt_cost_usd,
           count(distinct job_id)                        as jobs_reached,
           count(*) filter (where outcome = 'escalated') as jobs_escalated
    from scoped_attempts
    group by tier
),
attempt_latency as (
    -- Apart from the counts: over the whole ledger this reads the (tier, latency) index in order.
    select tier, percentile_cont(array[0.5, 0.95]) within group (order by latency_ms) as latency_ms
    from scoped_attempts
    group by tier
),
finished_tiers as (
    select * from by_final_tier where not is_total and tier is not null
),
every_tier as (
    select tier from tiers union select tier from finished_tiers union select tier from by_attempt_tier
),
per_tier as (
    select every_tier.tier, tiers.name, f.jobs_finished, f.jobs_failed, f.cost_usd,
           a.attempts, a.attempt_cost_usd, a.jobs_reached, a.jobs_escalated, attempt_latency.latency_ms
    from every_tier
    left join tiers using (tier)
    left join finished_tiers f using (tier)
    left join by_attempt_tier a using (tier)
    left join attempt_latency using (tier)
),
totals as (
    select jobs              as all_jobs,
           spent_usd         as all_cost_usd,
           jobs_finished     as all_jobs_finished,
           cost_usd          as all_finished_cost_usd,
           baseline_usd      as all_baseline_usd,
           jobs_unpriced     as all_jobs_unpriced,
           (select end_to_end_ms from end_to_end) as all_end_to_end_ms,
           coalesce((select max(tier) from tiers), (select max(tier) from attempts)) as top_tier
    from by_final_tier
    where is_total
)
-- Totals ride on every tier row, so one statement (one snapshot) gives both.
select totals.*, per_tier.*
from totals
left join per_tier on true
order by per_tier.tier
"""

SCOPE_FILTERS = {"batch": "batch_id = :batch", "tenant": "tenant = :tenant", "since": "created_at >= :since"}
MONEY_PLACES = Decimal("0.0000000001")  # NUMERIC(20, 10), the ledger's scale
ZERO = Decimal(0)
UNDEFINED_TABLE = "42P01"  # PostgreSQL's SQLSTATE for a missing relation


@dataclass(frozen=True)
class Percentiles:
    p50: float | None = None
    p95: float | None = None

    @classmethod
    def of(cls, pair: list[float] | None) -> "Percentiles":
        return cls(*pair) if pair else cls()


@dataclass(frozen=True)
class TierLine:
    tier: int
    name: str | None
    jobs_finished: int = 0
    jobs_failed: int = 0
    cost_usd: Decimal = ZERO  # all attempts of the jobs that finished on this tier
    attempts: int = 0
    attempt_cost_usd: Decimal = ZERO  # this tier's own attempts, whatever tier their jobs ended on
    jobs_reached: int = 0
    jobs_escalated: int = 0
    attempt_latency_ms: Percentiles = Percentiles()

    @property
    def mean_cost_usd(self) -> Decimal | None:
        """Cᵢ."""
        return ratio(self.cost_usd, self.jobs_finished)

    @property
    def escalation_rate(self) -> Decimal | None:
        return ratio(Decimal(self.jobs_escalated), self.jobs_reached)


@dataclass(frozen=True)
class Report:
    jobs: int
    jobs_finished: int
    total_cost_usd: Decimal  # every attempt of every job in scope, finished or not
    finished_cost_usd: Decimal
    baseline_usd: Decimal | None  # the finished jobs, all on the top tier
    top_tier: int | None
    jobs_unpriced: int = 0
    end_to_end_ms: Percentiles = Percentiles()
    tiers: tuple[TierLine, ...] = ()
    scope: dict = field(default_factory=dict)

    def share(self, line: TierLine) -> Decimal | None:
        """Pᵢ."""
        return ratio(Decimal(line.jobs_finished), self.jobs_finished)

    @property
    def expected_cost_usd(self) -> Decimal | None:
        """Σ Pᵢ·Cᵢ: the mean cost of a finished job."""
        terms = [self.share(line) * line.mean_cost_usd for line in self.tiers if line.jobs_finished]
        return sum(terms, ZERO) if terms else None

    @property
    def baseline_per_job_usd(self) -> Decimal | None:
        return ratio(self.baseline_usd, self.jobs_finished) if self.baseline_usd is not None else None

    @property
    def saving_usd(self) -> Decimal | None:
        return None if self.baseline_usd is None else self.baseline_usd - self.finished_cost_usd

    @property
    def saving_ratio(self) -> Decimal | None:
        """1 − Σ Pᵢ·Cᵢ / baseline: the share of the top-tier bill the cascade did not spend."""
        saved = self.saving_usd
        return None if saved is None else ratio(saved, self.baseline_usd)


def ratio(numerator: Decimal | None, denominator: Decimal | int | None) -> Decimal | None:
    if numerator is None or not denominator:
        return None
    return numerator / Decimal(denominator)


# The percentiles sort every attempt in scope: let that happen in memory. JIT compiling
# this many expressions costs more than it saves on a million rows.
REPORT_SETTINGS = ("set local work_mem = '64MB'", "set local jit = off")


def report_query(*, batch: int | None = None, tenant: str | None = None,
                 since: datetime | None = None) -> tuple[str, dict]:
    """The report's SQL for this scope, and its parameters."""
    given = {name: value for name, value in (("batch", batch), ("tenant", tenant), ("since", since)) if value is not None}
    filters = " and ".join(SCOPE_FILTERS[name] for name in given) or "true"
    # The same filter on jobs, so that the planner walks from the scope's jobs to their attempts
    # by index (and, with no filter, reads the attempts alone).
    attempts_filter = f"a.job_id in (select id from jobs where {filters})" if given else "true"
    return REPORT_SQL.format(filters=filters, attempts_filter=attempts_filter), given


def build_report(engine: Engine, *, batch: int | None = None, tenant: str | None = None,
                 since: datetime | None = None) -> Report:
    sql, given = report_query(batch=batch, tenant=tenant, since=since)
    try:
        with engine.begin() as conn:
            for setting in REPORT_SETTINGS:
                conn.execute(text(setting))
            rows = conn.execute(text(sql), given).mappings().all()
    except ProgrammingError as exc:
        if getattr(exc.orig, "sqlstate", None) == UNDEFINED_TABLE:
            raise ConfigError("this ledger has no cost views yet: run `ladder migrate` (alembic upgrade head)") from None
        raise
    first = rows[0]
    lines = tuple(_tier_line(row) for row in rows if row["tier"] is not None)
    return Report(
        jobs=first["all_jobs"],
        jobs_finished=first["all_jobs_finished"],
        total_cost_usd=first["all_cost_usd"],
        finished_cost_usd=first["all_finished_cost_usd"] or ZERO,
        baseline_usd=first["all_baseline_usd"] if first["all_jobs_unpriced"] == 0 else None,
        top_tier=first["top_tier"],
        jobs_unpriced=first["all_jobs_unpriced"],
        end_to_end_ms=Percentiles.of(first["all_end_to_end_ms"]),
        tiers=lines,
        scope={name: str(value) for name, value in given.items()},
    )


def _tier_line(row) -> TierLine:
    return TierLine(
        tier=row["tier"],
        name=row["name"],
        jobs_finished=row["jobs_finished"] or 0,
        jobs_failed=row["jobs_failed"] or 0,
        cost_usd=row["cost_usd"] or ZERO,
        attempts=row["attempts"] or 0,
        attempt_cost_usd=row["attempt_cost_usd"] or ZERO,
        jobs_reached=row["jobs_reached"] or 0,
        jobs_escalated=row["jobs_escalated"] or 0,
        attempt_latency_ms=Percentiles.of(row["latency_ms"]),
    )


def to_json(report: Report) -> str:
    """The report for machines. Money and ratios are strings of decimals (a JSON
    number would be read back as a float): sums exactly as the ledger holds them,
    means and shares to the ledger's 10 places. Latencies are numbers in ms."""

    def exact(value: Decimal | None, places: Decimal = MONEY_PLACES) -> str | None:
        return None if value is None else str(value.quantize(places))

    def latency(p: Percentiles) -> dict:
        return {"p50": p.p50, "p95": p.p95}

    tiers = [
        {
            "tier": line.tier,
            "name": line.name,
            "jobs_finished": line.jobs_finished,
            "jobs_failed": line.jobs_failed,
            "share": exact(report.share(line)),
            "mean_cost_usd": exact(line.mean_cost_usd),
            "share_x_mean_cost_usd": exact(ratio(line.cost_usd, report.jobs_finished)),
            "cost_usd": str(line.cost_usd),
            "attempts": line.attempts,
            "attempt_cost_usd": str(line.attempt_cost_usd),
            "jobs_reached": line.jobs_reached,
            "jobs_escalated": line.jobs_escalated,
            "escalation_rate": exact(line.escalation_rate),
            "attempt_latency_ms": latency(line.attempt_latency_ms),
        }
        for line in report.tiers
    ]
    document = {
        "scope": report.scope,
        "jobs": report.jobs,
        "jobs_finished": report.jobs_finished,
        "jobs_in_flight": report.jobs - report.jobs_finished,
        "total_cost_usd": str(report.total_cost_usd),
        "finished_cost_usd": str(report.finished_cost_usd),
        "expected_cost_per_job_usd": exact(report.expected_cost_usd),
        "top_tier": report.top_tier,
        "baseline_usd": None if report.baseline_usd is None else str(report.baseline_usd),
        "baseline_per_job_usd": exact(report.baseline_per_job_usd),
        "saving_usd": None if report.saving_usd is None else str(report.saving_usd),
        "saving_ratio": exact(report.saving_ratio),
        "end_to_end_ms": latency(report.end_to_end_ms),
        "tiers": tiers,
    }
    return json.dumps(document, indent=2)


def render(report: Report, console) -> None:
    """The report as a rich table on ``console``."""
    from rich import box
    from rich.table import Table

    title = "Cost by final tier" + "".join(f" · {name} {value}" for name, value in report.scope.items())
    table = Table(title=title, title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False, collapse_padding=True)
    table.add_column("tier", justify="left", no_wrap=True, min_width=6)
    for header in ("jobs", "Pᵢ", "Cᵢ $/job", "Pᵢ·Cᵢ $", "escalated", "attempt ms"):
        table.add_column(header, justify="right", no_wrap=True)
    for line in report.tiers:
        table.add_row(
            f"{line.tier} {line.name or ''}".strip(),
            f"{line.jobs_finished:,}",
            _percent(report.share(line)),
            _significant(line.mean_cost_usd),
            _significant(ratio(line.cost_usd, report.jobs_finished)),
            _percent(line.escalation_rate),
            _pair(line.attempt_latency_ms, 1),
        )
    console.print(table)
    console.print("[dim]Pᵢ: share of finished jobs ending on the tier · Cᵢ: their mean cost, lower tiers included · "
                  "escalated: share of the jobs reaching the tier that climbed on · attempt ms: one model call, "
                  "p50/p95[/dim]")
    in_flight = report.jobs - report.jobs_finished
    failed = sum(line.jobs_failed for line in report.tiers)
    console.print(f"jobs {report.jobs:,} ({report.jobs_finished:,} finished of which {failed:,} failed, "
                  f"{in_flight:,} in flight) · "
                  f"spent {_usd(report.total_cost_usd)} · end to end (submit to finish) p50/p95 "
                  f"{_pair(report.end_to_end_ms, 1000)} s")
    if not report.jobs_finished:
        console.print("no finished jobs in scope yet: Σ Pᵢ·Cᵢ and the saving need at least one")
        return
    console.print(f"Σ Pᵢ·Cᵢ = [bold]{_usd(report.expected_cost_usd)}[/bold] per job")
    if report.baseline_usd is None:
        console.print("all-top-tier baseline: unknown (the ledger's tiers table has no prices for the top tier; "
                      "run `ladder migrate` to copy them from the config)")
        return
    console.print(f"all-top-tier baseline (tier {report.top_tier}) = {_usd(report.baseline_per_job_usd)} per job, "
                  f"{_usd(report.baseline_usd)} in all")
    console.print(f"saving {_usd(report.saving_usd)}: [bold]{_percent(report.saving_ratio)}[/bold] of the top-tier bill")


def print_report(engine: Engine, *, batch: int | None = None, console=None) -> Report:
    """Build and print the report (after ``submit --wait`` and at the end of ``ladder demo``)."""
    if console is None:
        from rich.console import Console

        console = Console()
    report = build_report(engine, batch=batch)
    render(report, console)
    return report


def _usd(value: Decimal | None) -> str:
    if value is None:
        return "–"
    # Per-job costs are fractions of a cent: show six significant places, not two.
    return f"${value:,.2f}" if abs(value) >= 100 else f"${value:.6f}"


def _significant(value: Decimal | None, digits: int = 3) -> str:
    """Per-job costs are millionths of a dollar: keep their first digits, not two decimals."""
    if value is None:
        return "–"
    if not value:
        return "0"
    return f"{value.quantize(Decimal(1).scaleb(value.adjusted() - digits + 1)):f}"


def _percent(value: Decimal | None) -> str:
    return "–" if value is None else f"{value * 100:.1f}%"


def _pair(p: Percentiles, unit_ms: int) -> str:
    if p.p50 is None:
        return "–"
    digits = 0 if unit_ms == 1 else 2
    return f"{p.p50 / unit_ms:.{digits}f}/{p.p95 / unit_ms:.{digits}f}"
