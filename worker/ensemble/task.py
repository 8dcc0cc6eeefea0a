"""The ensemble's tasks: each member on its tier's queue, then the fuse step.

Idempotent like the tier task: a member's attempt has the unique key (job,
tier, 1, member), a redelivered member that finds its row only re-sends the
fuse message, and the fuse step moves the job only from its ensemble state.
"""

from __future__ import annotations

import logging
import time
from decimal import Decimal

from celery import group

from ladder.config import LadderConfig, get_config
from ladder.errors import TierRejected, TierUnavailable
from worker.app import ROUTE_QUEUE, app, tier_queue
from worker.cache import CachedAnswer
from worker.decide import next_tier
from worker.ended import job_ended
from worker.ensemble.ledger import (
    begin_ensemble,
    ensemble_job,
    member_answers,
    member_recorded,
    record_member,
    settle_ensemble,
)
from worker.ensemble.vote import fuse, is_short
from worker.providers.base import Request
from worker.record import AttemptRecord
from worker.score import confidence
from worker.tier.backoff import retry_delay
from worker.tier.runtime import provider_for

log = logging.getLogger("ladder.ensemble")
MEMBER_TASK = "ladder.ensemble.member"
FUSE_TASK = "ladder.ensemble.fuse"


def start_ensemble(config: LadderConfig, job_id: int, *, experiment: str | None, arm: str | None,
                   priority: int | None) -> None:
    members = config.ensemble.members
    if begin_ensemble(job_id, min(members), experiment=experiment, arm=arm, priority=priority):
        launch_members(config, job_id, priority)


def launch_members(config: LadderConfig, job_id: int, priority: int | None) -> None:
    size = len(config.ensemble.members)
    group(app.signature(MEMBER_TASK, args=(job_id, tier, index, size), queue=tier_queue(tier), priority=priority)
          for index, tier in enumerate(config.ensemble.members, 1)).apply_async()


def _send_fuse(config: LadderConfig, job_id: int) -> None:
    judge = config.ensemble.judge_tier
    app.send_task(FUSE_TASK, args=(job_id,), queue=tier_queue(judge) if judge else ROUTE_QUEUE)


@app.task(name=MEMBER_TASK, bind=True, max_retries=None)
def member(self, job_id: int, tier: int, index: int, size: int) -> str:
    config = get_config()
    job = ensemble_job(job_id)
    if job is None:
        return "skipped"
    if member_recorded(job_id, tier, index):
        # Re-sent by the sweeper or redelivered: the call was made; only the fuse message may be missing.
        if len(member_answers(job_id)) >= size:
            _send_fuse(config, job_id)
        return "recorded"
    spec = config.tier(tier)
    request = Request(prompt=job.prompt, max_tokens=job.max_tokens, task=job.task, custom_id=job.custom_id)
    base = dict(job_id=job_id, tier=tier, try_no=1, member=index, model=spec.model, provider=spec.provider)
    started = time.perf_counter()
    try:
        generation = provider_for(tier).generate(request)
        attempt = AttemptRecord(
            **base | {"model": generation.model or spec.model}, prompt_tokens=generation.prompt_tokens,
            completion_tokens=generation.completion_tokens, confidence=confidence(request, generation, spec),
            cost_usd=spec.prices.cost(generation.prompt_tokens, generation.completion_tokens, generation.compute_seconds),
            latency_ms=(time.perf_counter() - started) * 1000, output=generation.text)
    except TierUnavailable as exc:
        if self.request.retries < spec.max_retries:
            raise self.retry(countdown=retry_delay(self.request.retries, exc.retry_after), exc=exc)
        attempt = AttemptRecord(**base, latency_ms=(time.perf_counter() - started) * 1000, error=str(exc))
    except TierRejected as exc:
        attempt = AttemptRecord(**base, latency_ms=(time.perf_counter() - started) * 1000, error=str(exc))
    # The member that completes the set sends the fuse step.
    if record_member(attempt) == size:
        _send_fuse(config, job_id)
    return "member"


def _judge_for(config: LadderConfig, prompt: str, answers: list[str]):
    if config.ensemble.judge_tier is None or is_short(answers):
        return None
    from worker.audit.task import AuditJudge

    spec = config.tier(config.ensemble.judge_tier)
    return AuditJudge(provider_for(config.ensemble.judge_tier), prompt, spec.prices)


@app.task(name=FUSE_TASK)
def fuse_members(job_id: int) -> str:
    from worker.tier.task import enqueue_tier, usable_tiers

    config = get_config()
    job = ensemble_job(job_id)
    if job is None:
        return "settled"
    answered = [row for row in member_answers(job_id) if row.output]
    judge = _judge_for(config, job.prompt, [row.output for row in answered])
    verdict = fuse([row.output for row in answered], judge) if answered else None
    if judge is not None and judge.cost_usd > Decimal(0):
        # The judge's calls are on the job's bill like the members' (one row, after the members).
        spec = config.tier(config.ensemble.judge_tier)
        record_member(AttemptRecord(job_id=job_id, tier=config.ensemble.judge_tier, try_no=1,
                                    member=len(config.ensemble.members) + 1, model=spec.model, provider=spec.provider,
                                    cost_usd=judge.cost_usd))
    agreement = verdict.agreement if verdict else 0.0
    chosen = answered[verdict.chosen] if verdict else None
    to_tier = next_tier(max(config.ensemble.members), config.top_tier, usable_tiers(config, job.tenant))
    accepted = chosen is not None and (agreement >= config.ensemble.min_agreement or to_tier is None)
    reason = f"agreement:{verdict.method}" if accepted else "disagreement"
    if not settle_ensemble(job_id, accepted=accepted, reason=reason, tier=chosen.tier if chosen else None,
                           output=chosen.output if chosen else None, agreement=agreement,
                           to_tier=None if accepted else to_tier):
        return "settled"
    log.info("ensemble of job %s: agreement %.2f by %s, %s", job_id, agreement, verdict.method if verdict else "-",
             "accepted" if accepted else f"escalated to tier {to_tier}")
    if accepted:
        job_ended(config, job, CachedAnswer(chosen.tier, chosen.model, chosen.output, agreement))
    elif to_tier is not None:
        enqueue_tier(job_id, to_tier, priority=job.priority)
    else:
        job_ended(config, job, None)
    return "accepted" if accepted else "escalated"
