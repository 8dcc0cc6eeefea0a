"""Ledger writes of an ensemble: the job while members answer, each member's attempt, the settlement.

While its members answer, the job is ``running`` with no current tier and
``route_reason = 'ensemble'``, so no tier message can claim it. Member rows
are written with a provisional outcome (``escalated``, reason
``ensemble``) and charged at once; the fuse step gives them their final
outcome together with the job's, and only then are they counted in the metrics.
"""

from __future__ import annotations

from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert

from ladder.ledger.db import get_engine
from ladder.ledger.schema import JobStatus, Outcome, attempts, budgets, jobs
from worker.metrics import observe_attempt
from worker.record import AttemptRecord, ClaimedJob

ENSEMBLE = "ensemble"


def begin_ensemble(job_id: int, start_tier: int, *, experiment: str | None, arm: str | None, priority: int | None) -> bool:
    with get_engine().begin() as conn:
        return conn.execute(
            update(jobs).where(jobs.c.id == job_id, jobs.c.status == JobStatus.QUEUED.value)
            .values(status=JobStatus.RUNNING.value, start_tier=start_tier, current_tier=None, route_reason=ENSEMBLE,
                    experiment=experiment, arm=arm, priority=priority, updated_at=func.now())
        ).rowcount == 1


def ensemble_job(job_id: int) -> ClaimedJob | None:
    """The job, if it is still waiting for its ensemble."""
    with get_engine().connect() as conn:
        row = conn.execute(
            select(jobs.c.id, jobs.c.custom_id, jobs.c.tenant, jobs.c.prompt, jobs.c.max_tokens, jobs.c.task,
                   jobs.c.degraded, jobs.c.parent_id, jobs.c.experiment, jobs.c.arm, jobs.c.priority)
            .where(jobs.c.id == job_id, jobs.c.status == JobStatus.RUNNING.value, jobs.c.route_reason == ENSEMBLE,
                   jobs.c.current_tier.is_(None))
        ).first()
    return ClaimedJob(*row) if row else None


def member_recorded(job_id: int, tier: int, member: int) -> bool:
    with get_engine().connect() as conn:
        return conn.execute(select(attempts.c.id).where(attempts.c.job_id == job_id, attempts.c.tier == tier,
                                                        attempts.c.try_no == 1, attempts.c.member == member)).first() is not None


def members_in(conn, job_id: int) -> int:
    return conn.execute(select(func.count()).where(attempts.c.job_id == job_id, attempts.c.member >= 1)).scalar_one()


def record_member(attempt: AttemptRecord) -> int:
    """Write and charge one member's attempt; the number of members recorded so far.

    The job's row lock serialises the members, so exactly one of them sees the last count.
    Returns 0 when this member was recorded before (a redelivery).
    """
    with get_engine().begin() as conn:
        tenant = conn.execute(select(jobs.c.tenant).where(jobs.c.id == attempt.job_id).with_for_update()).scalar_one()
        inserted = conn.execute(
            insert(attempts).values(**attempt.__dict__, outcome=Outcome.ESCALATED.value, reason=ENSEMBLE)
            .on_conflict_do_nothing(constraint="uq_attempts_job_tier_try_member").returning(attempts.c.id)
        ).first()
        if inserted is None:
            return 0
        conn.execute(update(jobs).where(jobs.c.id == attempt.job_id).values(
            total_cost_usd=jobs.c.total_cost_usd + attempt.cost_usd, updated_at=func.now()))
        # Members are not reserved ahead (one ensemble may overshoot a budget), but their spend is booked.
        conn.execute(update(budgets).where(budgets.c.tenant == tenant).values(
            spent_usd=budgets.c.spent_usd + attempt.cost_usd, updated_at=func.now()))
        return members_in(conn, attempt.job_id)


def member_answers(job_id: int) -> list:
    with get_engine().connect() as conn:
        return conn.execute(
            select(attempts.c.member, attempts.c.tier, attempts.c.model, attempts.c.output, attempts.c.confidence)
            .where(attempts.c.job_id == job_id, attempts.c.member >= 1).order_by(attempts.c.member)
        ).all()


def settle_ensemble(job_id: int, *, accepted: bool, reason: str, tier: int | None, output: str | None,
                    agreement: float, to_tier: int | None) -> bool:
    """Give the members their outcome and move the job: done at ``tier``, on to ``to_tier``, or failed."""
    outcome = Outcome.ACCEPTED.value if accepted else Outcome.ESCALATED.value if to_tier else Outcome.FAILED.value
    if accepted:
        values = dict(status=JobStatus.DONE.value, final_tier=tier, output=output, confidence=agreement,
                      finished_at=func.now())
    elif to_tier:
        values = dict(status=JobStatus.ROUTED.value, current_tier=to_tier, confidence=agreement)
    else:
        values = dict(status=JobStatus.FAILED.value, error="ensemble: no member answered", finished_at=func.now())
    with get_engine().begin() as conn:
        moved = conn.execute(
            update(jobs).where(jobs.c.id == job_id, jobs.c.status == JobStatus.RUNNING.value,
                               jobs.c.route_reason == ENSEMBLE, jobs.c.current_tier.is_(None))
            .values(**values, updated_at=func.now())
        ).rowcount
        settled = conn.execute(
            update(attempts).where(attempts.c.job_id == job_id, attempts.c.member >= 1)
            .values(outcome=outcome, reason=reason)
            .returning(attempts.c.tier, attempts.c.cost_usd, attempts.c.confidence, attempts.c.latency_ms)
        ).all() if moved else []
    # Counted once each, with their final outcome, after the commit.
    for row in settled:
        observe_attempt(row.tier, outcome, row.cost_usd, row.confidence, row.latency_ms)
    return bool(moved)
