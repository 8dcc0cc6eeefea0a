"""The tier task: call the model, score, record the attempt, decide, move on.

Idempotent by construction: the attempt's unique key (job, tier, try) means a
redelivered message either finds the job still at this tier and the attempt
missing (it runs), or finds the attempt recorded (it only re-sends the
follow-up that a crash may have lost).
"""

from __future__ import annotations

import logging
import time

from ladder.config import get_config
from ladder.errors import TierRejected, TierUnavailable
from worker.app import TIER_TASK, app, tier_queue
from worker.decide import Escalate, decide
from worker.providers.base import Request
from worker.record import AttemptRecord, claim, record_attempt, recorded_outcome
from worker.score import confidence
from worker.tier.backoff import retry_delay
from worker.tier.runtime import provider_for

log = logging.getLogger("ladder.tier")


def enqueue_tier(job_id: int, tier: int) -> None:
    app.send_task(TIER_TASK, args=(job_id, tier), queue=tier_queue(tier))


def _tenant_tiers(tenant: str) -> list[int] | None:
    policy = get_config().tenants.get(tenant)
    return policy.allowed_tiers if policy else None


@app.task(name=TIER_TASK, bind=True, max_retries=None)
def run_tier(self, job_id: int, tier: int) -> str:
    try_no = self.request.retries + 1
    job = claim(job_id, tier)
    if job is None:
        return _resend_lost_followup(job_id, tier, try_no)

    config = get_config()
    spec = config.tier(tier)
    provider = provider_for(tier)
    request = Request(prompt=job.prompt, max_tokens=job.max_tokens, task=job.task, custom_id=job.custom_id)
    base = dict(job_id=job_id, tier=tier, try_no=try_no, model=spec.model, provider=spec.provider)
    started = time.perf_counter()
    try:
        generation = provider.generate(request)
    except TierUnavailable as exc:
        latency_ms = (time.perf_counter() - started) * 1000
        if self.request.retries < spec.max_retries:
            record_attempt(AttemptRecord(**base, latency_ms=latency_ms, error=str(exc)), None)
            raise self.retry(countdown=retry_delay(self.request.retries, exc.retry_after), exc=exc)
        return _finish(base, None, latency_ms, config, job.tenant, error=f"{exc} (after {try_no} tries)")
    except TierRejected as exc:
        return _finish(base, None, (time.perf_counter() - started) * 1000, config, job.tenant, error=str(exc))

    latency_ms = (time.perf_counter() - started) * 1000
    score = confidence(request, generation)
    attempt = AttemptRecord(
        **base | {"model": generation.model or spec.model},
        prompt_tokens=generation.prompt_tokens,
        completion_tokens=generation.completion_tokens,
        cost_usd=spec.prices.cost(generation.prompt_tokens, generation.completion_tokens, generation.compute_seconds),
        latency_ms=latency_ms,
        confidence=score,
        output=generation.text,
    )
    return _finish(base, attempt, latency_ms, config, job.tenant)


def _finish(base: dict, attempt: AttemptRecord | None, latency_ms: float, config, tenant: str, error: str | None = None) -> str:
    tier = base["tier"]
    if attempt is None:
        attempt = AttemptRecord(**base, latency_ms=latency_ms, error=error)
    decision = decide(
        tier=tier,
        top_tier=config.top_tier,
        confidence=attempt.confidence,
        threshold=config.tier(tier).threshold,
        failed=attempt.error is not None,
        allowed=_tenant_tiers(tenant),
    )
    record_attempt(attempt, decision)
    if isinstance(decision, Escalate):
        enqueue_tier(base["job_id"], decision.to_tier)
    log.info("job %s tier %s try %s: %s", base["job_id"], tier, base["try_no"], type(decision).__name__.lower())
    return type(decision).__name__.lower()


def _resend_lost_followup(job_id: int, tier: int, try_no: int) -> str:
    # A crash between the ledger commit and the enqueue of the next tier would
    # strand an escalated job; the redelivered message re-sends it. The next
    # tier's own unique key makes a duplicate send harmless.
    if recorded_outcome(job_id, tier, try_no) == "escalated":
        from worker.record import load_route_inputs

        row = load_route_inputs(job_id)
        if row is not None and row.status == "routed" and row.current_tier and row.current_tier > tier:
            enqueue_tier(job_id, row.current_tier)
            return "resent"
    return "skipped"
