"""Audits: a share of jobs accepted below the top tier, re-run on it.

The audit account: each row is one audit call, billed here and only here, so
``jobs.total_cost_usd`` (the tenant's bill) never includes it. ``agreement``
is the label of routing accuracy: did the cheap tier's accepted answer agree
with the audit tier's?

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-04
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

MONEY = sa.Numeric(20, 10)


def upgrade() -> None:
    op.create_table(
        "audits",
        sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=True),
        sa.Column("job_id", sa.BigInteger, sa.ForeignKey("jobs.id", ondelete="CASCADE"), nullable=False),
        sa.Column("tier_accepted", sa.Integer, nullable=False),
        sa.Column("audit_tier", sa.Integer, nullable=False),
        sa.Column("agreement", sa.Boolean, nullable=False),
        sa.Column("score", sa.Float, nullable=False),
        sa.Column("method", sa.Text, nullable=False),
        sa.Column("model", sa.Text, nullable=False),
        sa.Column("prompt_tokens", sa.Integer, nullable=False, server_default="0"),
        sa.Column("completion_tokens", sa.Integer, nullable=False, server_default="0"),
        sa.Column("cost_usd", MONEY, nullable=False, server_default="0"),
        sa.Column("latency_ms", sa.Float, nullable=False, server_default="0"),
        sa.Column("output", sa.Text),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        # One audit per job: a redelivered audit task never pays twice.
        sa.UniqueConstraint("job_id", name="uq_audits_job"),
        sa.CheckConstraint("audit_tier > tier_accepted", name="ck_audits_tier_above"),
    )
    op.create_index("ix_audits_tier_created", "audits", ["tier_accepted", "created_at"])


def downgrade() -> None:
    op.drop_index("ix_audits_tier_created", table_name="audits")
    op.drop_table("audits")
