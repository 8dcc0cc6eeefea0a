"""Platform: subtasks, experiments, fair scheduling, ensemble members.

- ``jobs.parent_id`` links a subtask to its composite job, ``jobs.subtask``
  names its part ("outline", "section-2"); the children live in a batch of
  their own (``batches.parent_batch_id``) so the parent batch's counts stay
  those of the lines submitted.
- ``jobs.experiment`` / ``jobs.arm``: the A/B arm a job was assigned to.
- ``jobs.priority``: the broker priority of the job's messages (0 first).
- ``attempts.member``: an ensemble member's index; the attempt's unique key
  becomes (job, tier, try, member), member 0 for ordinary calls.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-04
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("batches", sa.Column("parent_batch_id", sa.BigInteger,
                                       sa.ForeignKey("batches.id", ondelete="CASCADE")))
    op.create_index("uq_batches_parent", "batches", ["parent_batch_id"], unique=True,
                    postgresql_where=sa.text("parent_batch_id is not null"))
    op.add_column("jobs", sa.Column("parent_id", sa.BigInteger, sa.ForeignKey("jobs.id", ondelete="CASCADE")))
    op.add_column("jobs", sa.Column("subtask", sa.Text))
    op.add_column("jobs", sa.Column("experiment", sa.Text))
    op.add_column("jobs", sa.Column("arm", sa.Text))
    op.add_column("jobs", sa.Column("priority", sa.SmallInteger))
    op.create_index("ix_jobs_parent", "jobs", ["parent_id"], postgresql_where=sa.text("parent_id is not null"))
    op.create_index("ix_jobs_experiment_arm", "jobs", ["experiment", "arm"],
                    postgresql_where=sa.text("experiment is not null"))
    op.add_column("attempts", sa.Column("member", sa.Integer, nullable=False, server_default="0"))
    op.drop_constraint("uq_attempts_job_tier_try", "attempts", type_="unique")
    op.create_unique_constraint("uq_attempts_job_tier_try_member", "attempts", ["job_id", "tier", "try_no", "member"])


def downgrade() -> None:
    # Ensemble members beyond the first do not fit the narrower key: they go with the column.
    op.execute("delete from attempts where member <> 0")
    op.drop_constraint("uq_attempts_job_tier_try_member", "attempts", type_="unique")
    op.create_unique_constraint("uq_attempts_job_tier_try", "attempts", ["job_id", "tier", "try_no"])
    op.drop_column("attempts", "member")
    op.drop_index("ix_jobs_experiment_arm", table_name="jobs")
    op.drop_index("ix_jobs_parent", table_name="jobs")
    for column in ("priority", "arm", "experiment", "subtask", "parent_id"):
        op.drop_column("jobs", column)
    op.drop_index("uq_batches_parent", table_name="batches")
    op.drop_column("batches", "parent_batch_id")
