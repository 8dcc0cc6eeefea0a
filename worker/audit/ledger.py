"""The audit account's ledger writes and reads: the ``audits`` table.

An audit is never an ``attempts`` row and never touches ``jobs``, so it can
neither enter a job's ``total_cost_usd`` nor a tenant's budget.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert

from ladder.ledger.db import get_engine
from ladder.ledger.schema import JobStatus, audits, jobs



@dataclass(frozen=True)
class AuditSubject:
    """A finished job as the audit sees it: the question and the accepted answer."""

    job_id: int
    custom_id: str
    prompt: str
    max_tokens: int
    task: str | None
    final_tier: int
    output: str


@dataclass(frozen=True)
class AuditRecord:
    job_id: int
    tier_accepted: int
    audit_tier: int
    agreement: bool
    score: float
    method: str
    model: str
    prompt_tokens: int
    completion_tokens: int
    cost_usd: Decimal
    latency_ms: float
    output: str


def load_subject(job_id: int) -> AuditSubject | None:
    """The job, if it is done with an answer and not audited yet."""
    with get_engine().connect() as conn:
        row = conn.execute(
            select(jobs.c.id, jobs.c.custom_id, jobs.c.prompt, jobs.c.max_tokens, jobs.c.task, jobs.c.final_tier,
                   jobs.c.output)
            .where(jobs.c.id == job_id, jobs.c.status == JobStatus.DONE.value, jobs.c.output.is_not(None),
                   ~select(audits.c.id).where(audits.c.job_id == job_id).exists())
        ).first()
    return AuditSubject(*row) if row else None


def record_audit(record: AuditRecord) -> bool:
    """Write the verdict; False when this job was audited before."""
    with get_engine().begin() as conn:
        inserted = conn.execute(
            insert(audits).values(**record.__dict__).on_conflict_do_nothing(constraint="uq_audits_job")
            .returning(audits.c.id)
        ).first()
    return inserted is not None
