"""What to do with an answer: a pure function from facts to a decision value.

    Accept(tier)                 the answer is trusted: the job is done here
    Escalate(from_tier, to_tier) not trusted: re-enqueue on the next usable tier
    GiveUp(tier, reason)         no tier left to climb to: the job ends here
    Degrade(from_tier, to_tier)  the tier is down and nothing above is up: go below
    Wait(seconds)                the tier is down and the policy is to wait for it

The cascade never raises to change course; the tier task pattern-matches on
the returned value. Retrying a transient error is Celery's job and happens
before this function is asked.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass


@dataclass(frozen=True)
class Accept:
    tier: int


@dataclass(frozen=True)
class Escalate:
    from_tier: int
    to_tier: int
    reason: str  # "low_confidence" | "error"


@dataclass(frozen=True)
class GiveUp:
    tier: int
    reason: str  # "top_tier" | "no_tier_left" | "error"
    keep_answer: bool  # the top tier's answer is final even when unsure


@dataclass(frozen=True)
class Degrade:
    from_tier: int
    to_tier: int
    reason: str = "degraded"


@dataclass(frozen=True)
class Wait:
    seconds: float
    reason: str = "unhealthy"


Decision = Accept | Escalate | GiveUp | Degrade | Wait


def next_tier(current: int, top: int, allowed: Collection[int] | None = None) -> int | None:
    """The next tier above ``current`` that the job may use, if any."""
    for candidate in range(current + 1, top + 1):
        if allowed is None or candidate in allowed:
            return candidate
    return None


def decide(
    *,
    tier: int,
    top_tier: int,
    confidence: float | None,
    threshold: float,
    failed: bool = False,
    allowed: Collection[int] | None = None,
) -> Decision:
    """Accept, escalate or give up, from the attempt's outcome alone.

    ``failed`` means the call gave no answer (a final provider error, or
    retries exhausted); ``confidence`` is then ignored.
    """
    if not failed and confidence is not None and confidence >= threshold:
        return Accept(tier)
    reason = "error" if failed else "low_confidence"
    upper = next_tier(tier, top_tier, allowed)
    if upper is not None:
        return Escalate(tier, upper, reason)
    if failed:
        return GiveUp(tier, "error", keep_answer=False)
    # The best tier the job may use has answered: its answer is final.
    return GiveUp(tier, "top_tier" if tier == top_tier else "no_tier_left", keep_answer=True)


def on_unhealthy(
    *,
    tier: int,
    top_tier: int,
    usable: Collection[int],
    has_answer: bool,
    untried_below: Collection[int],
    policy: str,
    cooldown_s: float,
) -> Decision:
    """The job's tier has an open circuit: fail over up, else degrade or wait.

    ``usable`` are the tiers the tenant may use whose circuits are not open;
    ``untried_below`` the usable tiers under ``tier`` this job has no attempt on.
    """
    upper = next_tier(tier, top_tier, usable)
    if upper is not None:
        return Escalate(tier, upper, "unhealthy")
    if policy == "wait":
        return Wait(cooldown_s)
    if has_answer:
        # The best answer the job already has stands, marked as degraded.
        return GiveUp(tier, "degraded", keep_answer=True)
    if untried_below:
        return Degrade(tier, max(untried_below))
    return Wait(cooldown_s)
