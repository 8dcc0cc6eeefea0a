"""The audit task: re-run an accepted job on the audit tier and record the verdict.

Runs on its own ``audit`` queue, so audits never delay the cascade and an
operator can give them one small worker (or none). Idempotent: a job with an
audit row is skipped before any model is called, and the row's unique key
stops a race between two deliveries from paying twice.
"""

from __future__ import annotations

import logging
import time
from decimal import Decimal

from ladder.config import get_config
from ladder.errors import TierRejected, TierUnavailable
from worker.app import app
from worker.audit import AUDIT_QUEUE, AUDIT_TASK, audit_policy, selected_for_audit
from worker.audit.agreement import compare_answers
from worker.audit.ledger import AuditRecord, load_subject, record_audit
from worker.providers.base import Provider, Request
from worker.tier.backoff import retry_delay
from worker.tier.runtime import provider_for

log = logging.getLogger("ladder.audit")

JUDGE_PROMPT = (
    "Do the two answers below to the same question say the same thing? Reply with one word, yes or no.\n\n"
    "Question: {question}\n\nAnswer A: {accepted}\n\nAnswer B: {audit}\n\nSame?"
)


def maybe_audit(job_id: int, accepted_tier: int) -> bool:
    """After a job is accepted: send it to the audit queue if the hash of its id picks it."""
    policy = audit_policy(get_config())
    if accepted_tier >= policy.tier or not selected_for_audit(job_id, policy.share):
        return False
    app.send_task(AUDIT_TASK, args=(job_id,), queue=AUDIT_QUEUE)
    return True


class AuditJudge:
    """Asks the audit tier for a yes/no verdict, and keeps the bill of asking."""

    def __init__(self, provider: Provider, question: str, prices):
        self.provider, self.question, self.prices = provider, question, prices
        self.cost_usd = Decimal(0)

    def __call__(self, accepted: str, audit: str) -> float | None:
        prompt = JUDGE_PROMPT.format(question=self.question, accepted=accepted, audit=audit)
        generation = self.provider.generate(Request(prompt=prompt, max_tokens=3))
        self.cost_usd += self.prices.cost(generation.prompt_tokens, generation.completion_tokens,
                                          generation.compute_seconds)
        words = generation.text.strip().lower().split()
        first = words[0].strip(".,!") if words else ""
        return {"yes": 1.0, "no": 0.0}.get(first)


@app.task(name=AUDIT_TASK, bind=True, max_retries=None)
def audit(self, job_id: int) -> str:
    config = get_config()
    policy = audit_policy(config)
    subject = load_subject(job_id)
    if subject is None or subject.final_tier >= policy.tier:
        return "skipped"
    spec = config.tier(policy.tier)
    provider = provider_for(policy.tier)
    request = Request(prompt=subject.prompt, max_tokens=subject.max_tokens, task=subject.task,
                      custom_id=subject.custom_id)
    started = time.perf_counter()
    try:
        generation = provider.generate(request)
        latency_ms = (time.perf_counter() - started) * 1000
        judge = AuditJudge(provider, subject.prompt, spec.prices) if policy.judge else None
        verdict = compare_answers(subject.output, generation.text, judge)
    except TierUnavailable as exc:
        if self.request.retries < spec.max_retries:
            raise self.retry(countdown=retry_delay(self.request.retries, exc.retry_after), exc=exc)
        log.warning("audit of job %s dropped: tier %s unavailable after %s tries", job_id, policy.tier, self.request.retries + 1)
        return "failed"
    except TierRejected as exc:
        log.warning("audit of job %s dropped: tier %s rejected the call: %s", job_id, policy.tier, exc)
        return "failed"
    cost = spec.prices.cost(generation.prompt_tokens, generation.completion_tokens, generation.compute_seconds)
    record_audit(AuditRecord(
        job_id=job_id, tier_accepted=subject.final_tier, audit_tier=policy.tier, agreement=verdict.agree,
        score=verdict.score, method=verdict.method, model=generation.model or spec.model,
        prompt_tokens=generation.prompt_tokens, completion_tokens=generation.completion_tokens,
        cost_usd=cost + (judge.cost_usd if judge else Decimal(0)), latency_ms=latency_ms, output=generation.text,
    ))
    log.info("audit of job %s (accepted on tier %s): %s by %s", job_id, subject.final_tier,
             "agrees" if verdict.agree else "disagrees", verdict.method)
    return "agreed" if verdict.agree else "disagreed"
