"""Ledger writes of decomposition: the parent's stages, its children, its bill.

Children live in one child batch per parent batch (``batches.parent_batch_id``),
so ``ladder status`` of the submitted batch counts the lines submitted and
``ladder status`` of the child batch shows the subtasks. A child's
``custom_id`` is ``<parent custom_id>/<subtask>`` (a retry adds ``#try<n>``):
inserting the same children twice is a no-op.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert

from ladder.ledger.db import get_engine
from ladder.ledger.schema import JobStatus, batches, jobs


@dataclass(frozen=True)
class Child:
    subtask: str
    prompt: str
    heading: str | None = None


def begin_composite(job_id: int, rule_name: str) -> bool:
    """queued → running with no tier: the parent itself never calls a model."""
    with get_engine().begin() as conn:
        return conn.execute(
            update(jobs).where(jobs.c.id == job_id, jobs.c.status == JobStatus.QUEUED.value)
            .values(status=JobStatus.RUNNING.value, route_reason=f"composite:{rule_name}", updated_at=func.now())
        ).rowcount == 1


def lock_parent(conn, parent_id: int):
    return conn.execute(select(jobs).where(jobs.c.id == parent_id).with_for_update()).first()


def _child_batch(conn, parent) -> int:
    batch = conn.execute(select(batches.c.name).where(batches.c.id == parent.batch_id)).scalar_one()
    conn.execute(
        insert(batches).values(name=f"{batch} · subtasks", tenant=parent.tenant, input_format="subtasks",
                               source=f"batch:{parent.batch_id}", parent_batch_id=parent.batch_id)
        .on_conflict_do_nothing(index_elements=[batches.c.parent_batch_id],
                                index_where=batches.c.parent_batch_id.is_not(None))
    )
    return conn.execute(select(batches.c.id).where(batches.c.parent_batch_id == parent.batch_id)).scalar_one()


def add_children(conn, parent, children: list[Child], suffix: str = "") -> list[int]:
    """Insert the children (idempotent) and return their ids, in the order given."""
    batch_id = _child_batch(conn, parent)
    custom_ids = [f"{parent.custom_id}/{c.subtask}{suffix}" for c in children]
    rows = [dict(batch_id=batch_id, custom_id=cid, tenant=parent.tenant, task=parent.task, prompt=c.prompt,
                 max_tokens=parent.max_tokens, parent_id=parent.id, subtask=c.subtask,
                 metadata={"heading": c.heading} if c.heading else None)
            for cid, c in zip(custom_ids, children)]
    conn.execute(insert(jobs).values(rows).on_conflict_do_nothing(constraint="uq_jobs_batch_custom_id"))
    conn.execute(update(batches).where(batches.c.id == batch_id).values(
        job_count=select(func.count()).where(jobs.c.batch_id == batch_id).scalar_subquery()))
    ids = dict(conn.execute(select(jobs.c.custom_id, jobs.c.id).where(jobs.c.batch_id == batch_id,
                                                                        jobs.c.custom_id.in_(custom_ids))).all())
    return [ids[cid] for cid in custom_ids]


def children_of(conn, parent_id: int) -> list:
    return conn.execute(
        select(jobs.c.id, jobs.c.subtask, jobs.c.status, jobs.c.output, jobs.c.start_tier, jobs.c.final_tier,
               jobs.c.confidence, jobs.c.metadata, jobs.c.error)
        .where(jobs.c.parent_id == parent_id).order_by(jobs.c.id)
    ).all()


def finish_parent(conn, parent_id: int, *, output: str | None, error: str | None = None) -> None:
    """Done (or failed) with the merged answer; the bill is the sum of every child's, retries included."""
    kids = select(jobs.c.total_cost_usd, jobs.c.final_tier, jobs.c.confidence).where(jobs.c.parent_id == parent_id).subquery()
    total, top, lowest = conn.execute(
        select(func.coalesce(func.sum(kids.c.total_cost_usd), 0), func.max(kids.c.final_tier), func.min(kids.c.confidence))
    ).one()
    status = JobStatus.FAILED.value if error else JobStatus.DONE.value
    conn.execute(update(jobs).where(jobs.c.id == parent_id, jobs.c.status.notin_(JobStatus.final())).values(
        status=status, output=output, error=error, total_cost_usd=total, final_tier=top, confidence=lowest,
        finished_at=func.now(), updated_at=func.now()))
