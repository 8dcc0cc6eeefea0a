"""Reliability: budgets with reservations, degraded and stop-reason marks on jobs.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-04
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

MONEY = sa.Numeric(20, 10)


def upgrade() -> None:
    op.add_column("jobs", sa.Column("degraded", sa.Boolean, nullable=False, server_default="false"))
    op.add_column("jobs", sa.Column("stop_reason", sa.Text))
    op.create_table(
        "budgets",
        sa.Column("tenant", sa.Text, primary_key=True),
        sa.Column("limit_usd", MONEY, nullable=False),
        sa.Column("spent_usd", MONEY, nullable=False, server_default="0"),
        sa.Column("reserved_usd", MONEY, nullable=False, server_default="0"),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.CheckConstraint("reserved_usd >= 0", name="ck_budgets_reserved"),
    )
    op.create_table(
        "budget_reservations",
        sa.Column("job_id", sa.BigInteger, sa.ForeignKey("jobs.id", ondelete="CASCADE"), nullable=False),
        sa.Column("tier", sa.Integer, nullable=False),
        sa.Column("try_no", sa.Integer, nullable=False),
        sa.Column("tenant", sa.Text, nullable=False),
        sa.Column("amount_usd", MONEY, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.PrimaryKeyConstraint("job_id", "tier", "try_no", name="pk_budget_reservations"),
    )


def downgrade() -> None:
    op.drop_table("budget_reservations")
    op.drop_table("budgets")
    op.drop_column("jobs", "stop_reason")
    op.drop_column("jobs", "degraded")
