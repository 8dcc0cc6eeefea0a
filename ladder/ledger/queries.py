"""Read-side queries of a batch: where it stands, and its results.

Tenant checks live here so that no caller can forget them: a tenant asking
for another tenant's batch gets the same answer as for a batch that does not
exist.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy import Text, cast, func, select

from ladder.errors import InputError
from ladder.ledger.schema import JobStatus, attempts, batches, jobs


@dataclass
class BatchStatus:
    batch_id: int
    name: str
    tenant: str
    input_format: str
    jobs: int
    by_status: dict[str, int] = field(default_factory=dict)
    by_final_tier: dict[int, int] = field(default_factory=dict)
    cost_usd: Decimal = Decimal(0)
    attempts: int = 0

    @property
    def finished(self) -> int:
        return sum(self.by_status.get(s, 0) for s in JobStatus.final())

    @property
    def complete(self) -> bool:
        return self.finished >= self.jobs

    def as_json(self) -> dict:
        return {
            "batch_id": self.batch_id, "name": self.name, "tenant": self.tenant, "jobs": self.jobs,
            "by_status": self.by_status, "by_final_tier": {str(k): v for k, v in self.by_final_tier.items()},
            "cost_usd": str(self.cost_usd), "attempts": self.attempts, "complete": self.complete,
        }


def _batch_row(conn, batch_id: int, tenant: str | None):
    row = conn.execute(select(batches).where(batches.c.id == batch_id)).first()
    if row is None or (tenant is not None and row.tenant != tenant):
        raise InputError(f"no batch {batch_id}" + (f" for tenant {tenant!r}" if tenant else "") + ": see `ladder report` for batch ids")
    return row


def batch_status(conn, batch_id: int, tenant: str | None = None) -> BatchStatus:
    row = _batch_row(conn, batch_id, tenant)
    status = BatchStatus(batch_id, row.name, row.tenant, row.input_format, row.job_count)
    for state, tier, count, cost in conn.execute(
        select(jobs.c.status, jobs.c.final_tier, func.count(), func.coalesce(func.sum(jobs.c.total_cost_usd), 0))
        .where(jobs.c.batch_id == batch_id)
        .group_by(jobs.c.status, jobs.c.final_tier)
    ):
        status.by_status[state] = status.by_status.get(state, 0) + count
        if tier is not None:
            status.by_final_tier[tier] = status.by_final_tier.get(tier, 0) + count
        status.cost_usd += cost
    status.attempts = conn.execute(
        select(func.count()).select_from(attempts.join(jobs, attempts.c.job_id == jobs.c.id)).where(jobs.c.batch_id == batch_id)
    ).scalar_one()
    return status


def export_rows(conn, batch_id: int, tenant: str | None = None) -> Iterator[dict]:
    """One dict per job, in input order, with its attempts summarised."""
    _batch_row(conn, batch_id, tenant)
    per_job = (
        select(
            attempts.c.job_id,
            func.json_agg(
                func.json_build_object(
                    "tier", attempts.c.tier, "try", attempts.c.try_no, "model", attempts.c.model,
                    "outcome", attempts.c.outcome, "confidence", attempts.c.confidence,
                    "cost_usd", cast(attempts.c.cost_usd, Text),
                    "prompt_tokens", attempts.c.prompt_tokens, "completion_tokens", attempts.c.completion_tokens,
                    "latency_ms", attempts.c.latency_ms, "error", attempts.c.error,
                )
            ).label("attempts"),
        )
        .group_by(attempts.c.job_id)
        .subquery()
    )
    query = (
        select(jobs, per_job.c.attempts)
        .select_from(jobs.outerjoin(per_job, per_job.c.job_id == jobs.c.id))
        .where(jobs.c.batch_id == batch_id)
        .order_by(jobs.c.line_no, jobs.c.id)
    )
    for row in conn.execution_options(stream_results=True, yield_per=2000).execute(query):
        yield {
            "custom_id": row.custom_id,
            "status": row.status,
            "output": row.output,
            "final_tier": row.final_tier,
            "start_tier": row.start_tier,
            "confidence": row.confidence,
            "cost_usd": str(row.total_cost_usd),
            "error": row.error,
            "attempts": sorted(row.attempts or [], key=lambda a: (a["tier"], a["try"])),
        }
