"""The tier task: call the model, score, record the attempt, decide, move on.

Before the call: the tier's circuit (fail over when it is open) and the
tenant's budget (reserve the call's worst-case cost). After it: one
transaction writes the attempt, settles the reservation and moves the job.

Idempotent by construction: the attempt's unique key (job, tier, try) means a
redelivered message either finds the job still at this tier and the attempt
missing (it runs), or finds the attempt recorded (it only re-sends the
follow-up that a crash may have lost).
"""

from __future__ import annotations

import logging
import time

from ladder.config import LadderConfig, get_config
from ladder.errors import TierRejected, TierUnavailable
from worker.app import TIER_TASK, app, tier_queue
from worker.audit.task import maybe_audit
from worker.budget import Reservation, estimate_cost, reserve
from worker.cache import CachedAnswer
from worker.decide import Degrade, Escalate, GiveUp, Wait, decide, on_unhealthy
from worker.ended import job_ended
from worker.experiments import plan_for
from worker.health import circuit
from worker.providers.base import Request
from worker.record import (
    AttemptRecord,
    ClaimedJob,
    answer_and_tried_tiers,
    attempt_outcome,
    claim,
    load_route_inputs,
    move_job,
    record_attempt,
    recorded_outcome,
    stop_job,
)
from worker.score import confidence
from worker.tier.backoff import retry_delay
from worker.tier.runtime import provider_for

log = logging.getLogger("ladder.tier")
BUDGET_RECHECK_S = 0.5  # a call that only waits for others' reservations to settle looks again this soon


def enqueue_tier(job_id: int, tier: int, countdown: float | None = None, priority: int | None = None) -> None:
    """``priority`` is the job's (``worker.fairness``): Redis serves 0 first."""
    app.send_task(TIER_TASK, args=(job_id, tier), queue=tier_queue(tier), countdown=countdown, priority=priority)


def usable_tiers(config: LadderConfig, tenant: str) -> set[int]:
    """Tiers this tenant may use whose circuits are not open."""
    policy = config.tenants.get(tenant)
    allowed = set(policy.allowed_tiers) if policy and policy.allowed_tiers else set(range(1, config.top_tier + 1))
    return circuit.usable_tiers(sorted(allowed), config.health)


@app.task(name=TIER_TASK, bind=True, max_retries=None)
def run_tier(self, job_id: int, tier: int) -> str:
    try_no = self.request.retries + 1
    job = claim(job_id, tier)
    if job is None:
        return _resend_lost_followup(job_id, tier, try_no)
    config = get_config()
    if not circuit.allow(tier, config.health):
        return _fail_over(job, tier, try_no, config)

    spec = config.tier(tier)
    policy = config.tenants.get(job.tenant)
    budgeted = bool(policy and policy.budget_usd is not None)
    if budgeted:
        verdict = reserve(job.tenant, job_id, tier, try_no, estimate_cost(spec, job.prompt, job.max_tokens))
        if verdict is Reservation.BUSY:
            enqueue_tier(job_id, tier, countdown=BUDGET_RECHECK_S, priority=job.priority)
            return "budget-wait"
        if verdict is Reservation.EXHAUSTED:
            stop_job(job_id, reason=f"budget: tenant {job.tenant!r} has no budget left for tier {tier}")
            job_ended(config, job, None)
            return "budget"

    request = Request(prompt=job.prompt, max_tokens=job.max_tokens, task=job.task, custom_id=job.custom_id)
    base = dict(job_id=job_id, tier=tier, try_no=try_no, model=spec.model, provider=spec.provider)
    started = time.perf_counter()
    try:
        generation = provider_for(tier).generate(request)
    except TierUnavailable as exc:
        latency_ms = (time.perf_counter() - started) * 1000
        circuit.record_failure(tier, config.health)
        if self.request.retries < spec.max_retries:
            record_attempt(AttemptRecord(**base, latency_ms=latency_ms, error=str(exc)), None, budgeted=budgeted)
            raise self.retry(countdown=retry_delay(self.request.retries, exc.retry_after), exc=exc)
        failed = AttemptRecord(**base, latency_ms=latency_ms, error=f"{exc} (after {try_no} tries)")
        return _finish(job, failed, config, budgeted)
    except TierRejected as exc:
        failed = AttemptRecord(**base, latency_ms=(time.perf_counter() - started) * 1000, error=str(exc))
        return _finish(job, failed, config, budgeted)
    except Exception as exc:
        # A bug or a misconfigured provider must not strand the job: record the
        # failure, count it against the tier's circuit, and let the cascade move on.
        log.exception("tier %s provider failed unexpectedly on job %s", tier, job_id)
        circuit.record_failure(tier, config.health)
        failed = AttemptRecord(**base, latency_ms=(time.perf_counter() - started) * 1000,
                               error=f"{type(exc).__name__}: {exc}"[:500])
        return _finish(job, failed, config, budgeted)
    circuit.note_success(tier)

    score = confidence(request, generation, spec)
    attempt = AttemptRecord(
        **base | {"model": generation.model or spec.model},
        prompt_tokens=generation.prompt_tokens,
        completion_tokens=generation.completion_tokens,
        cost_usd=spec.prices.cost(generation.prompt_tokens, generation.completion_tokens, generation.compute_seconds),
        latency_ms=(time.perf_counter() - started) * 1000,
        confidence=score,
        output=generation.text,
    )
    return _finish(job, attempt, config, budgeted)


def _finish(job: ClaimedJob, attempt: AttemptRecord, config: LadderConfig, budgeted: bool) -> str:
    usable = usable_tiers(config, job.tenant)
    decision = decide(
        tier=attempt.tier,
        top_tier=config.top_tier,
        confidence=attempt.confidence,
        # A degraded job takes what the best healthy tier says.
        threshold=0.0 if job.degraded else plan_for(config, job.tenant, job.experiment, job.arm).threshold(
            attempt.tier, config.tier(attempt.tier).threshold),
        failed=attempt.error is not None,
        allowed=usable,
    )
    # Stopping short of the top only because the tiers above are down is a degradation.
    degraded = isinstance(decision, GiveUp) and decision.reason == "no_tier_left" and any(
        t not in usable for t in range(attempt.tier + 1, config.top_tier + 1))
    recorded = record_attempt(attempt, decision, degraded=degraded, budgeted=budgeted)
    if isinstance(decision, Escalate):
        enqueue_tier(job.id, decision.to_tier, priority=job.priority)
    elif recorded and attempt_outcome(decision) == "accepted":
        maybe_audit(job.id, attempt.tier)
        job_ended(config, job, CachedAnswer(attempt.tier, attempt.model, attempt.output or "", attempt.confidence))
    elif recorded:
        job_ended(config, job, None)
    log.info("job %s tier %s try %s: %s", job.id, attempt.tier, attempt.try_no, type(decision).__name__.lower())
    return type(decision).__name__.lower()


def _fail_over(job: ClaimedJob, tier: int, try_no: int, config: LadderConfig) -> str:
    has_answer, tried = answer_and_tried_tiers(job.id)
    usable = usable_tiers(config, job.tenant)
    decision = on_unhealthy(
        tier=tier, top_tier=config.top_tier, usable=usable, has_answer=has_answer,
        untried_below={t for t in usable if t < tier and t not in tried},
        policy=config.health.on_top_down, cooldown_s=config.health.cooldown_s,
    )
    match decision:
        case Escalate(to_tier=to_tier):
            # No call was made: a zero-cost attempt row makes the failover visible in the ledger.
            spec = config.tier(tier)
            skipped = AttemptRecord(job_id=job.id, tier=tier, try_no=try_no, model=spec.model, provider=spec.provider,
                                    error="circuit open")
            record_attempt(skipped, decision)
            enqueue_tier(job.id, to_tier, priority=job.priority)
        case Degrade(to_tier=to_tier):
            if move_job(job.id, tier, to_tier, degraded=True):
                enqueue_tier(job.id, to_tier, priority=job.priority)
        case GiveUp():
            stop_job(job.id, reason="degraded: no healthy tier above; the best answer so far stands", degraded=True)
            job_ended(config, job, None)
        case Wait(seconds=seconds):
            enqueue_tier(job.id, tier, countdown=seconds, priority=job.priority)
    log.info("job %s tier %s unhealthy: %s", job.id, tier, type(decision).__name__.lower())
    return f"unhealthy-{type(decision).__name__.lower()}"


def _resend_lost_followup(job_id: int, tier: int, try_no: int) -> str:
    # A crash between the ledger commit and the enqueue of the next tier would
    # strand an escalated job; the redelivered message re-sends it. The next
    # tier's own unique key makes a duplicate send harmless.
    if recorded_outcome(job_id, tier, try_no) == "escalated":
        row = load_route_inputs(job_id)
        if row is not None and row.status == "routed" and row.current_tier and row.current_tier > tier:
            enqueue_tier(job_id, row.current_tier, priority=row.priority)
            return "resent"
    return "skipped"
