"""Fair scheduling: the broker priority of a job's messages.

Redis serves priority 0 first (kombu keeps one list per priority step,
0/3/6/9, and pops them in that order), so a tenant's ``priority`` (0-9) sets
how soon its messages are taken, and a batch of ``fairness.large_batch_jobs``
or more is pushed back by ``fairness.large_batch_penalty``: a tenant's
million-job batch cannot starve another tenant's small one, and still gets
every worker that the small ones leave idle. The priority is stored on the
job (``jobs.priority``) when it is routed, and every later message of the
job carries it.
"""

from __future__ import annotations

from ladder.config import LadderConfig

LOWEST = 9


def message_priority(config: LadderConfig, tenant: str, batch_jobs: int) -> int:
    policy = config.tenants.get(tenant)
    priority = policy.priority if policy else 0
    if batch_jobs >= config.fairness.large_batch_jobs:
        priority += config.fairness.large_batch_penalty
    return min(priority, LOWEST)
