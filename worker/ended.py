"""What follows a job's end: its answer goes to the response cache, its parent hears of it.

Called after the ledger commit that made the job final, by every path that
ends a job (a tier's decision, a fail-over, an ensemble's vote, a cache hit).
Redis is only a cache here: a failure to write it is logged, not raised, so
that the parent still hears of its child.
"""

from __future__ import annotations

import logging

from ladder.config import LadderConfig
from worker.cache import (
    CachedAnswer,
    answer_key,
    answers_cached,
    release_lease,
    remember_answer,
)
from worker.record import ClaimedJob

log = logging.getLogger("ladder.ended")


def job_ended(config: LadderConfig, job: ClaimedJob, answer: CachedAnswer | None) -> None:
    """``answer`` is the accepted answer, or None when the job ended without one."""
    if answers_cached(config, job.tenant):
        key = answer_key(job.tenant, job.task, job.max_tokens, job.prompt)
        try:
            if answer is not None:
                remember_answer(config, key, answer)
            else:
                release_lease(key, job.id)
        except Exception:
            log.warning("response cache not updated for job %s", job.id, exc_info=True)
    if job.parent_id is not None:
        from worker.compose.task import child_ended

        child_ended(job.parent_id)
