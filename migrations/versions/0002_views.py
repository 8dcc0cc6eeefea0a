"""Tiers table and the ledger's SQL views.

``tiers`` mirrors the config (``ladder.ledger.tiers.sync_tiers``) so that the
ledger prices its own all-top-tier baseline without reading our code. The
views answer the questions people ask in psql; docs/ledger.md documents
them column by column.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-04
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

# One row per job: what it cost, and what the top tier alone would have cost.
# The baseline charges, at the top tier's prices, the tokens of the answer the
# job kept (its accepted attempt: the prompt the top tier would have read and
# an answer long enough to be accepted); a kept answer that came from the top
# tier is charged what it really cost. A job with no accepted answer (failed,
# or still running) is charged its largest prompt and largest answer.
#
# Speed: the attempts are read once, in job order, and only plain aggregates
# are taken; the NUMERIC pricing runs once per job, not once per attempt. All
# the job columns are grouping keys (PostgreSQL keeps only the primary key),
# so a filter on batch, tenant or date is applied before the grouping and
# touches only that scope's attempts.
JOB_COSTS = """
create view job_costs as
with top_tier as (
    -- Before the first sync of the tiers table, the highest tier seen is the top.
    select coalesce((select max(tier) from tiers), (select max(tier) from attempts)) as tier
),
per_job as (
    select j.id                                                  as job_id,
           j.batch_id, j.tenant, j.status, j.start_tier, j.final_tier, j.created_at, j.finished_at,
           count(a.id)                                           as attempts,
           coalesce(sum(a.cost_usd), 0)                          as cost_usd,
           max(a.cost_usd) filter (where a.outcome = 'accepted' and a.tier = (select tier from top_tier))
                                                                 as kept_top_tier_cost_usd,
           coalesce(max(a.prompt_tokens) filter (where a.outcome = 'accepted'), max(a.prompt_tokens))
                                                                 as kept_prompt_tokens,
           coalesce(max(a.completion_tokens) filter (where a.outcome = 'accepted'), max(a.completion_tokens))
                                                                 as kept_completion_tokens,
           coalesce(max(a.latency_ms) filter (where a.outcome = 'accepted'), max(a.latency_ms))
                                                                 as kept_latency_ms
    from jobs j
    left join attempts a on a.job_id = j.id
    group by j.id, j.batch_id, j.tenant, j.status, j.start_tier, j.final_tier, j.created_at, j.finished_at
)
select per_job.job_id,
       per_job.batch_id,
       per_job.tenant,
       per_job.status,
       per_job.start_tier,
       per_job.final_tier,
       per_job.created_at,
       per_job.finished_at,
       -- date_part is float8 arithmetic; extract() would be NUMERIC, and slower, for a duration.
       date_part('epoch', per_job.finished_at - per_job.created_at) * 1000 as end_to_end_ms,
       per_job.attempts,
       per_job.cost_usd,
       per_job.kept_prompt_tokens                                as baseline_prompt_tokens,
       per_job.kept_completion_tokens                            as baseline_completion_tokens,
       top_tier.tier                                             as top_tier,
       coalesce(
           per_job.kept_top_tier_cost_usd,
           round(
               (top.input_per_1m * per_job.kept_prompt_tokens + top.output_per_1m * per_job.kept_completion_tokens)
                   / 1000000
               -- Most top tiers are priced per token: skip the machine-time arithmetic for them.
               + case when top.machine_per_hour = 0 then 0
                      else top.machine_per_hour * round(per_job.kept_latency_ms::numeric / 1000, 6) / 3600 end,
               10)
       )                                                         as top_tier_cost_usd
from per_job
cross join top_tier
left join tiers top on top.tier = top_tier.tier
"""

# Counts come from one hashed pass; the percentiles read the (tier, latency)
# index in order instead of sorting a million rows in memory.
COST_BY_TIER = """
create view cost_by_tier as
with per_tier as (
    select tier,
           count(*)                                       as attempts,
           -- (job, tier, try) is unique: a job's first try on a tier marks it reaching the tier.
           count(distinct job_id)                         as jobs_reached,
           count(*) filter (where outcome = 'accepted')   as accepted,
           count(*) filter (where outcome = 'escalated')  as escalated,
           count(*) filter (where outcome = 'failed')     as failed,
           sum(prompt_tokens)                             as prompt_tokens,
           sum(completion_tokens)                         as completion_tokens,
           sum(cost_usd)                                  as cost_usd,
           avg(latency_ms)                                as mean_latency_ms
    from attempts
    group by tier
),
latency as (
    select tier, percentile_cont(array[0.5, 0.95]) within group (order by latency_ms) as p50_p95
    from attempts
    group by tier
)
select per_tier.tier,
       tiers.name                                                as tier_name,
       tiers.model,
       per_tier.attempts,
       per_tier.jobs_reached,
       per_tier.accepted,
       per_tier.escalated,
       per_tier.failed,
       round(per_tier.escalated::numeric / nullif(per_tier.jobs_reached, 0), 4) as escalation_rate,
       per_tier.prompt_tokens,
       per_tier.completion_tokens,
       per_tier.cost_usd,
       per_tier.mean_latency_ms,
       latency.p50_p95[1]                                        as p50_latency_ms,
       latency.p50_p95[2]                                        as p95_latency_ms
from per_tier
join latency using (tier)
left join tiers using (tier)
order by per_tier.tier
"""

COST_BY_BATCH = """
create view cost_by_batch as
with job_counts as (
    select batch_id,
           count(*)                                                  as jobs,
           count(*) filter (where status = 'done')                   as done,
           count(*) filter (where status = 'failed')                 as failed,
           count(*) filter (where status not in ('done', 'failed'))  as in_flight,
           max(finished_at)                                          as last_finished_at
    from jobs
    group by batch_id
),
spent as (
    select j.batch_id,
           count(*)                 as attempts,
           sum(a.prompt_tokens)     as prompt_tokens,
           sum(a.completion_tokens) as completion_tokens,
           sum(a.cost_usd)          as cost_usd
    from attempts a
    join jobs j on j.id = a.job_id
    group by j.batch_id
)
select b.id                                    as batch_id,
       b.name,
       b.tenant,
       b.created_at,
       job_counts.last_finished_at             as finished_at,
       coalesce(job_counts.jobs, 0)            as jobs,
       coalesce(job_counts.done, 0)            as done,
       coalesce(job_counts.failed, 0)          as failed,
       coalesce(job_counts.in_flight, 0)       as in_flight,
       coalesce(spent.attempts, 0)             as attempts,
       coalesce(spent.prompt_tokens, 0)        as prompt_tokens,
       coalesce(spent.completion_tokens, 0)    as completion_tokens,
       coalesce(spent.cost_usd, 0)             as cost_usd,
       round(spent.cost_usd / nullif(job_counts.jobs, 0), 10) as cost_per_job_usd
from batches b
left join job_counts on job_counts.batch_id = b.id
left join spent on spent.batch_id = b.id
order by b.id
"""

# The day money was spent is the attempt's UTC date; a job counts as finished
# on the UTC date of its finished_at.
COST_BY_TENANT_DAY = """
create view cost_by_tenant_day as
with spent as (
    select j.tenant,
           (a.created_at at time zone 'UTC')::date as day,
           count(*)                                as attempts,
           sum(a.prompt_tokens)                    as prompt_tokens,
           sum(a.completion_tokens)                as completion_tokens,
           sum(a.cost_usd)                         as cost_usd
    from attempts a
    join jobs j on j.id = a.job_id
    group by 1, 2
),
finished as (
    select tenant, (finished_at at time zone 'UTC')::date as day, count(*) as jobs_finished
    from jobs
    where finished_at is not null
    group by 1, 2
)
select tenant,
       day,
       coalesce(finished.jobs_finished, 0)    as jobs_finished,
       coalesce(spent.attempts, 0)            as attempts,
       coalesce(spent.prompt_tokens, 0)       as prompt_tokens,
       coalesce(spent.completion_tokens, 0)   as completion_tokens,
       coalesce(spent.cost_usd, 0)            as cost_usd
from spent
full join finished using (tenant, day)
order by day, tenant
"""

# A climb is an attempt followed by one on another tier; its reason says why
# the job left. An escalated attempt with nothing after it is still in flight.
ESCALATIONS = """
create view escalations as
with ordered as (
    select job_id,
           tier,
           outcome,
           coalesce(reason, 'unspecified') as reason,
           cost_usd,
           lead(tier) over (partition by job_id order by id) as next_tier
    from attempts
),
climbs as (
    select * from ordered
    where next_tier <> tier or (next_tier is null and outcome = 'escalated')
)
select tier                   as from_tier,
       next_tier              as to_tier,
       reason,
       count(distinct job_id) as jobs,
       sum(cost_usd)          as cost_usd
from climbs
group by tier, next_tier, reason
order by from_tier, to_tier, reason
"""

SAVINGS = """
create view savings as
with finished as (
    select * from job_costs where status in ('done', 'failed')
)
select b.id                                                   as batch_id,
       b.name,
       b.tenant,
       max(finished.top_tier)                                 as top_tier,
       count(finished.job_id)                                 as finished_jobs,
       coalesce(sum(finished.cost_usd), 0)                    as actual_usd,
       sum(finished.top_tier_cost_usd)                        as baseline_usd,
       sum(finished.top_tier_cost_usd) - coalesce(sum(finished.cost_usd), 0) as saving_usd,
       round(sum(finished.cost_usd) / nullif(sum(finished.top_tier_cost_usd), 0), 6) as cost_ratio
from batches b
left join finished on finished.batch_id = b.id
group by b.id, b.name, b.tenant
order by b.id
"""

VIEWS = {
    "job_costs": JOB_COSTS,
    "cost_by_tier": COST_BY_TIER,
    "cost_by_batch": COST_BY_BATCH,
    "cost_by_tenant_day": COST_BY_TENANT_DAY,
    "escalations": ESCALATIONS,
    "savings": SAVINGS,
}


def upgrade() -> None:
    op.create_table(
        "tiers",
        sa.Column("tier", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("model", sa.Text, nullable=False),
        sa.Column("provider", sa.Text, nullable=False),
        sa.Column("input_per_1m", sa.Numeric, nullable=False, server_default="0"),
        sa.Column("output_per_1m", sa.Numeric, nullable=False, server_default="0"),
        sa.Column("machine_per_hour", sa.Numeric, nullable=False, server_default="0"),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.CheckConstraint("tier >= 1", name="ck_tiers_tier"),
    )
    # escalations walks each job's attempts in the order they were made (lead() without a
    # sort); cost_by_tier and the report read latencies in order for their percentiles.
    op.create_index("ix_attempts_job_sequence", "attempts", ["job_id", "id"])
    op.create_index("ix_attempts_tier_latency", "attempts", ["tier", "latency_ms"])
    for sql in VIEWS.values():
        op.execute(sql)


def downgrade() -> None:
    # savings reads job_costs: drop in reverse order of creation.
    for name in reversed(list(VIEWS)):
        op.execute(f"drop view if exists {name}")
    op.drop_index("ix_attempts_tier_latency", table_name="attempts")
    op.drop_index("ix_attempts_job_sequence", table_name="attempts")
    op.drop_table("tiers")
