"""Ledger tables: batches, jobs, attempts.

Revision ID: 0001
Revises:
Create Date: 2026-12-04
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

MONEY = sa.Numeric(20, 10)


def _created():
    return sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now())


def upgrade() -> None:
    op.create_table(
        "batches",
        sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("tenant", sa.Text, nullable=False),
        sa.Column("input_format", sa.Text, nullable=False),
        sa.Column("source", sa.Text),
        sa.Column("job_count", sa.Integer, nullable=False, server_default="0"),
        sa.Column("rejected_lines", sa.Integer, nullable=False, server_default="0"),
        _created(),
    )
    op.create_table(
        "jobs",
        sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=True),
        sa.Column("batch_id", sa.BigInteger, sa.ForeignKey("batches.id", ondelete="CASCADE"), nullable=False),
        sa.Column("custom_id", sa.Text, nullable=False),
        sa.Column("tenant", sa.Text, nullable=False),
        sa.Column("line_no", sa.Integer),
        sa.Column("task", sa.Text),
        sa.Column("prompt", sa.Text, nullable=False),
        sa.Column("max_tokens", sa.Integer, nullable=False),
        sa.Column("metadata", JSONB),
        sa.Column("status", sa.Text, nullable=False, server_default="queued"),
        sa.Column("start_tier", sa.Integer),
        sa.Column("current_tier", sa.Integer),
        sa.Column("final_tier", sa.Integer),
        sa.Column("route_reason", sa.Text),
        sa.Column("output", sa.Text),
        sa.Column("confidence", sa.Float),
        sa.Column("total_cost_usd", MONEY, nullable=False, server_default="0"),
        sa.Column("error", sa.Text),
        _created(),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("finished_at", sa.DateTime(timezone=True)),
        sa.UniqueConstraint("batch_id", "custom_id", name="uq_jobs_batch_custom_id"),
        sa.CheckConstraint("status in ('queued','routed','running','done','failed')", name="ck_jobs_status"),
    )
    op.create_index("ix_jobs_batch_status", "jobs", ["batch_id", "status"])
    op.create_index("ix_jobs_status_updated", "jobs", ["status", "updated_at"])
    op.create_index("ix_jobs_tenant_created", "jobs", ["tenant", "created_at"])
    op.create_table(
        "attempts",
        sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=True),
        sa.Column("job_id", sa.BigInteger, sa.ForeignKey("jobs.id", ondelete="CASCADE"), nullable=False),
        sa.Column("tier", sa.Integer, nullable=False),
        sa.Column("try_no", sa.Integer, nullable=False, server_default="1"),
        sa.Column("model", sa.Text, nullable=False),
        sa.Column("provider", sa.Text, nullable=False),
        sa.Column("prompt_tokens", sa.Integer, nullable=False, server_default="0"),
        sa.Column("completion_tokens", sa.Integer, nullable=False, server_default="0"),
        sa.Column("cost_usd", MONEY, nullable=False, server_default="0"),
        sa.Column("latency_ms", sa.Float, nullable=False, server_default="0"),
        sa.Column("confidence", sa.Float),
        sa.Column("outcome", sa.Text, nullable=False),
        sa.Column("reason", sa.Text),
        sa.Column("error", sa.Text),
        sa.Column("output", sa.Text),
        sa.Column("cache_hit", sa.Boolean, nullable=False, server_default="false"),
        _created(),
        sa.UniqueConstraint("job_id", "tier", "try_no", name="uq_attempts_job_tier_try"),
        sa.CheckConstraint("outcome in ('accepted','escalated','failed')", name="ck_attempts_outcome"),
        sa.CheckConstraint("tier >= 1", name="ck_attempts_tier"),
    )
    op.create_index("ix_attempts_tier_created", "attempts", ["tier", "created_at"])
    op.create_index("ix_attempts_job", "attempts", ["job_id"])


def downgrade() -> None:
    op.drop_table("attempts")
    op.drop_table("jobs")
    op.drop_table("batches")
