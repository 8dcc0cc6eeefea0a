"""Record: every ledger write of the worker side, one transaction per step.

The attempt row is the unit of truth. It is inserted with its unique key
(job, tier, try, member) and ``ON CONFLICT DO NOTHING``, and the job's running total
is only incremented when the insert happened, so a redelivered task can
never charge twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert

from ladder.ledger.db import get_engine
from ladder.ledger.schema import JobStatus, Outcome, attempts, batches, jobs
from worker.decide import Accept, Decision, Escalate, GiveUp
from worker.metrics import observe_attempt


@dataclass(frozen=True)
class ClaimedJob:
    id: int
    custom_id: str
    tenant: str
    prompt: str
    max_tokens: int
    task: str | None
    degraded: bool = False
    parent_id: int | None = None
    experiment: str | None = None
    arm: str | None = None
    priority: int | None = None


@dataclass(frozen=True)
class AttemptRecord:
    job_id: int
    tier: int
    try_no: int
    model: str
    provider: str
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: Decimal = Decimal(0)
    latency_ms: float = 0.0
    confidence: float | None = None
    error: str | None = None
    output: str | None = None
    member: int = 0  # an ensemble member's index
    cache_hit: bool = False


def _progress_only(conn) -> None:
    # This commit only marks progress: if a server crash loses it, the sweeper re-sends the
    # job. Not waiting for the WAL flush saves a disk sync per step; attempts (money) still wait.
    conn.exec_driver_sql("SET LOCAL synchronous_commit = off")


def set_start_tier(job_id: int, tier: int, reason: str, *, experiment: str | None = None, arm: str | None = None,
                   priority: int | None = None) -> bool:
    """Route step: queued → routed at ``tier``. False when the job was routed already."""
    with get_engine().begin() as conn:
        _progress_only(conn)
        result = conn.execute(
            update(jobs)
            .where(jobs.c.id == job_id, jobs.c.status == JobStatus.QUEUED.value)
            .values(status=JobStatus.ROUTED.value, start_tier=tier, current_tier=tier, route_reason=reason,
                    experiment=experiment, arm=arm, priority=priority, updated_at=func.now())
        )
    return result.rowcount == 1


def load_route_inputs(job_id: int):
    with get_engine().connect() as conn:
        return conn.execute(
            select(jobs.c.prompt, jobs.c.task, jobs.c.tenant, jobs.c.status, jobs.c.current_tier, jobs.c.max_tokens,
                   jobs.c.metadata, jobs.c.parent_id, jobs.c.priority, jobs.c.route_reason,
                   batches.c.job_count.label("batch_jobs"))
            .select_from(jobs.join(batches, batches.c.id == jobs.c.batch_id))
            .where(jobs.c.id == job_id)
        ).first()


def claim(job_id: int, tier: int) -> ClaimedJob | None:
    """Mark the job running at ``tier``; None when it is final or has moved on."""
    with get_engine().begin() as conn:
        _progress_only(conn)
        row = conn.execute(
            update(jobs)
            .where(jobs.c.id == job_id, jobs.c.current_tier == tier, jobs.c.status.notin_(JobStatus.final()))
            .values(status=JobStatus.RUNNING.value, updated_at=func.now())
            .returning(jobs.c.id, jobs.c.custom_id, jobs.c.tenant, jobs.c.prompt, jobs.c.max_tokens, jobs.c.task,
                       jobs.c.degraded, jobs.c.parent_id, jobs.c.experiment, jobs.c.arm, jobs.c.priority)
        ).first()
    return ClaimedJob(*row) if row else None


def recorded_outcome(job_id: int, tier: int, try_no: int) -> str | None:
    with get_engine().connect() as conn:
        return conn.execute(
            select(attempts.c.outcome).where(attempts.c.job_id == job_id, attempts.c.tier == tier,
                                             attempts.c.try_no == try_no, attempts.c.member == 0)
        ).scalar()


def attempt_outcome(decision: Decision | None) -> str:
    if isinstance(decision, Accept) or (isinstance(decision, GiveUp) and decision.keep_answer):
        return Outcome.ACCEPTED.value
    if isinstance(decision, Escalate):
        return Outcome.ESCALATED.value
    return Outcome.FAILED.value


def record_attempt(attempt: AttemptRecord, decision: Decision | None, *, degraded: bool = False,
                   budgeted: bool = False) -> bool:
    """Write the attempt and move the job as ``decision`` says, atomically.

    ``decision`` None records a failed try that will be retried: the job stays
    where it is. ``budgeted`` settles the call's budget reservation in the same
    transaction. Returns False when this (job, tier, try) was recorded before.
    """
    reason = decision.reason if isinstance(decision, (Escalate, GiveUp)) else None
    outcome = attempt_outcome(decision)
    with get_engine().begin() as conn:
        inserted = conn.execute(
            insert(attempts)
            .values(**attempt.__dict__, outcome=outcome, reason=reason)
            .on_conflict_do_nothing(constraint="uq_attempts_job_tier_try_member")
            .returning(attempts.c.id)
        ).first()
        if inserted is None:
            return False
        if budgeted:
            from worker.budget import settle

            settle(conn, attempt.job_id, attempt.tier, attempt.try_no, attempt.cost_usd)
        values: dict = {"total_cost_usd": jobs.c.total_cost_usd + attempt.cost_usd, "updated_at": func.now()}
        if degraded:
            values |= dict(degraded=True, stop_reason="degraded: no healthy tier above")
        if isinstance(decision, Accept) or (isinstance(decision, GiveUp) and decision.keep_answer):
            values |= dict(status=JobStatus.DONE.value, final_tier=attempt.tier, output=attempt.output,
                           confidence=attempt.confidence, finished_at=func.now(), error=None)
        elif isinstance(decision, Escalate):
            values |= dict(status=JobStatus.ROUTED.value, current_tier=decision.to_tier)
        elif isinstance(decision, GiveUp):
            values |= dict(status=JobStatus.FAILED.value, final_tier=attempt.tier, error=attempt.error,
                           finished_at=func.now())
        conn.execute(update(jobs).where(jobs.c.id == attempt.job_id).values(**values))
    # Counted once, after the commit: a redelivered duplicate never reaches here.
    observe_attempt(attempt.tier, outcome, attempt.cost_usd, attempt.confidence, attempt.latency_ms)
    return True


def stop_job(job_id: int, *, reason: str, degraded: bool = False) -> None:
    """End a job without a new call (budget exhausted): its best answer so far stands.

    The job is done with the last escalated attempt's answer when there is one,
    failed otherwise; ``stop_reason`` says why either way.
    """
    with get_engine().begin() as conn:
        last = conn.execute(
            select(attempts.c.tier, attempts.c.output, attempts.c.confidence)
            .where(attempts.c.job_id == job_id, attempts.c.output.is_not(None))
            .order_by(attempts.c.tier.desc(), attempts.c.try_no.desc())
            .limit(1)
        ).first()
        values: dict = dict(stop_reason=reason, degraded=degraded, finished_at=func.now(), updated_at=func.now())
        if last is not None:
            values |= dict(status=JobStatus.DONE.value, final_tier=last.tier, output=last.output, confidence=last.confidence)
        else:
            values |= dict(status=JobStatus.FAILED.value, error=reason)
        conn.execute(update(jobs).where(jobs.c.id == job_id, jobs.c.status.notin_(JobStatus.final())).values(**values))


def move_job(job_id: int, from_tier: int, to_tier: int, *, degraded: bool = False) -> bool:
    """Hand a job to another tier without a call (degrading below a dead top tier)."""
    values: dict = dict(status=JobStatus.ROUTED.value, current_tier=to_tier, updated_at=func.now())
    if degraded:
        values |= dict(degraded=True, stop_reason="degraded: no healthy tier above")
    with get_engine().begin() as conn:
        return conn.execute(
            update(jobs)
            .where(jobs.c.id == job_id, jobs.c.current_tier == from_tier, jobs.c.status.notin_(JobStatus.final()))
            .values(**values)
        ).rowcount == 1


def answer_and_tried_tiers(job_id: int) -> tuple[bool, set[int]]:
    """Whether the job already has an answer, and the tiers it has attempts on."""
    with get_engine().connect() as conn:
        rows = conn.execute(select(attempts.c.tier, attempts.c.output).where(attempts.c.job_id == job_id)).all()
    return any(r.output is not None for r in rows), {r.tier for r in rows}


def record_cache_hit(job_id: int, tier: int, model: str, output: str, confidence: float | None) -> bool:
    """A queued job answered from the response cache: done at no cost, with a ``cache_hit`` attempt.

    One transaction, guarded on ``queued``: a redelivered route message finds
    the job done and writes nothing.
    """
    with get_engine().begin() as conn:
        moved = conn.execute(
            update(jobs)
            .where(jobs.c.id == job_id, jobs.c.status == JobStatus.QUEUED.value)
            .values(status=JobStatus.DONE.value, start_tier=tier, current_tier=tier, final_tier=tier, output=output,
                    confidence=confidence, route_reason="cache", finished_at=func.now(), updated_at=func.now())
        ).rowcount
        if moved:
            conn.execute(insert(attempts).values(job_id=job_id, tier=tier, try_no=1, model=model, provider="cache",
                                                 confidence=confidence, output=output, outcome=Outcome.ACCEPTED.value,
                                                 reason="cache", cache_hit=True))
    if moved:
        observe_attempt(tier, Outcome.ACCEPTED.value, Decimal(0), confidence, 0.0)
    return bool(moved)
