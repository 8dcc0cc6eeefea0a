"""Ledger tables. The migrations in ``migrations/versions`` create exactly these.

Core ``Table`` objects rather than ORM classes: tasks pass ids, the hot path
does a handful of bulk statements, and the same tables are what people query
with plain SQL. Money is NUMERIC(20, 10) USD, times are ``timestamptz``.
"""

from __future__ import annotations

import enum

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Numeric,
    SmallInteger,
    Table,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB

MONEY = Numeric(20, 10)
metadata = MetaData()


class JobStatus(str, enum.Enum):
    QUEUED = "queued"
    ROUTED = "routed"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"

    @classmethod
    def final(cls) -> tuple[str, ...]:
        return (cls.DONE.value, cls.FAILED.value)


class Outcome(str, enum.Enum):
    ACCEPTED = "accepted"
    ESCALATED = "escalated"
    FAILED = "failed"


def _now():
    return Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now())


batches = Table(
    "batches",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column("name", Text, nullable=False),
    Column("tenant", Text, nullable=False),
    Column("input_format", Text, nullable=False),
    Column("source", Text),
    Column("job_count", Integer, nullable=False, server_default="0"),
    Column("rejected_lines", Integer, nullable=False, server_default="0"),
    _now(),
    # The subtasks of a batch's composite jobs live in one child batch (0005).
    Column("parent_batch_id", BigInteger, ForeignKey("batches.id", ondelete="CASCADE")),
    Index("uq_batches_parent", "parent_batch_id", unique=True, postgresql_where=text("parent_batch_id is not null")),
)

jobs = Table(
    "jobs",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column("batch_id", BigInteger, ForeignKey("batches.id", ondelete="CASCADE"), nullable=False),
    Column("custom_id", Text, nullable=False),
    Column("tenant", Text, nullable=False),
    Column("line_no", Integer),
    Column("task", Text),
    Column("prompt", Text, nullable=False),
    Column("max_tokens", Integer, nullable=False),
    Column("metadata", JSONB),
    Column("status", Text, nullable=False, server_default="queued"),
    Column("start_tier", Integer),
    Column("current_tier", Integer),
    Column("final_tier", Integer),
    Column("route_reason", Text),
    Column("output", Text),
    Column("confidence", Float),
    Column("total_cost_usd", MONEY, nullable=False, server_default="0"),
    Column("error", Text),
    Column("degraded", Boolean, nullable=False, server_default="false"),
    Column("stop_reason", Text),
    _now(),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("finished_at", DateTime(timezone=True)),
    # Platform (0005): subtask links, the A/B arm, the broker priority of the job's messages.
    Column("parent_id", BigInteger, ForeignKey("jobs.id", ondelete="CASCADE")),
    Column("subtask", Text),
    Column("experiment", Text),
    Column("arm", Text),
    Column("priority", SmallInteger),
    UniqueConstraint("batch_id", "custom_id", name="uq_jobs_batch_custom_id"),
    CheckConstraint("status in ('queued','routed','running','done','failed')", name="ck_jobs_status"),
    Index("ix_jobs_batch_status", "batch_id", "status"),
    Index("ix_jobs_status_updated", "status", "updated_at"),
    Index("ix_jobs_tenant_created", "tenant", "created_at"),
)

attempts = Table(
    "attempts",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column("job_id", BigInteger, ForeignKey("jobs.id", ondelete="CASCADE"), nullable=False),
    Column("tier", Integer, nullable=False),
    Column("try_no", Integer, nullable=False, server_default="1"),
    Column("model", Text, nullable=False),
    Column("provider", Text, nullable=False),
    Column("prompt_tokens", Integer, nullable=False, server_default="0"),
    Column("completion_tokens", Integer, nullable=False, server_default="0"),
    Column("cost_usd", MONEY, nullable=False, server_default="0"),
    Column("latency_ms", Float, nullable=False, server_default="0"),
    Column("confidence", Float),
    Column("outcome", Text, nullable=False),
    Column("reason", Text),
    Column("error", Text),
    Column("output", Text),
    Column("cache_hit", Boolean, nullable=False, server_default="false"),
    _now(),
    # An ensemble member's index (0005); 0 for an ordinary call.
    Column("member", Integer, nullable=False, server_default="0"),
    # One row per (job, tier, try, member): a redelivered task finds its row and never charges twice.
    UniqueConstraint("job_id", "tier", "try_no", "member", name="uq_attempts_job_tier_try_member"),
    CheckConstraint("outcome in ('accepted','escalated','failed')", name="ck_attempts_outcome"),
    CheckConstraint("tier >= 1", name="ck_attempts_tier"),
    Index("ix_attempts_tier_created", "tier", "created_at"),
    Index("ix_attempts_job", "job_id"),
)

budgets = Table(
    "budgets",
    metadata,
    Column("tenant", Text, primary_key=True),
    Column("limit_usd", MONEY, nullable=False),
    Column("spent_usd", MONEY, nullable=False, server_default="0"),
    Column("reserved_usd", MONEY, nullable=False, server_default="0"),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

# A reservation per (job, tier, try): made before the call, removed when the
# attempt is recorded; one left behind by a crash is released by the sweeper.
budget_reservations = Table(
    "budget_reservations",
    metadata,
    Column("job_id", BigInteger, ForeignKey("jobs.id", ondelete="CASCADE"), primary_key=True),
    Column("tier", Integer, primary_key=True),
    Column("try_no", Integer, primary_key=True),
    Column("tenant", Text, nullable=False),
    Column("amount_usd", MONEY, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

# The audit account: an audit is never an attempt and never enters a job's bill.
audits = Table(
    "audits",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column("job_id", BigInteger, ForeignKey("jobs.id", ondelete="CASCADE"), nullable=False),
    Column("tier_accepted", Integer, nullable=False),
    Column("audit_tier", Integer, nullable=False),
    Column("agreement", Boolean, nullable=False),
    Column("score", Float, nullable=False),
    Column("method", Text, nullable=False),
    Column("model", Text, nullable=False),
    Column("prompt_tokens", Integer, nullable=False, server_default="0"),
    Column("completion_tokens", Integer, nullable=False, server_default="0"),
    Column("cost_usd", MONEY, nullable=False, server_default="0"),
    Column("latency_ms", Float, nullable=False, server_default="0"),
    Column("output", Text),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    UniqueConstraint("job_id", name="uq_audits_job"),
)
