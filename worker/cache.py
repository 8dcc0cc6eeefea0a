"""Caches in Redis: routing decisions by normalised prompt, answers by exact prompt.

- Routing cache: the starting tier chosen for a prompt, keyed by the
  routing policy, tenant, arm, task and the prompt with case and whitespace
  folded, for
  ``cache.route_ttl_s``. A repeated prompt skips the rules and the learned
  router. A cached choice is still clamped to the tiers that are healthy now.
- Response cache (tenants with ``response_cache: true``): the accepted
  answer, keyed by tenant, task, max_tokens and the exact prompt, for
  ``cache.response_ttl_s``. Identical prompts in one batch are answered
  once: the first job takes a lease (``cache.lease_s``) and the others wait
  for its answer instead of calling a model. A hit is written to the ledger
  as an attempt with zero cost and ``cache_hit`` true.

Redis is a cache here, never the truth: a lost key costs one model call.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass

from ladder.config import LadderConfig
from ladder.shared_state import get_redis
from worker.route.rules import RouteChoice

ROUTE_PREFIX = "ladder:cache:route:"
ANSWER_PREFIX = "ladder:cache:answer:"


@dataclass(frozen=True)
class CachedAnswer:
    tier: int
    model: str
    output: str
    confidence: float | None


def normalise_prompt(prompt: str) -> str:
    return " ".join(prompt.casefold().split())


def _digest(*parts: object) -> str:
    return hashlib.sha256("\x1f".join("" if p is None else str(p) for p in parts).encode()).hexdigest()


# --- routing decisions ------------------------------------------------------


def _policy_digest(config: LadderConfig) -> str:
    """What a routing decision depends on besides the prompt: a changed config never reuses old decisions."""
    return _digest(config.model_dump_json(include={"tiers", "routing", "tenants", "experiments"}))[:16]


def route_key(config: LadderConfig, tenant: str, arm: str | None, task: str | None, prompt: str) -> str:
    return ROUTE_PREFIX + _digest(_policy_digest(config), tenant, arm, task, normalise_prompt(prompt))


def cached_route(config: LadderConfig, key: str) -> RouteChoice | None:
    if not config.cache.route_ttl_s:
        return None
    raw = get_redis().get(key)
    if raw is None:
        return None
    tier, reason = json.loads(raw)
    return RouteChoice(int(tier), f"cache:{reason}")


def remember_route(config: LadderConfig, key: str, choice: RouteChoice) -> None:
    if config.cache.route_ttl_s:
        get_redis().set(key, json.dumps([choice.tier, choice.reason]), ex=int(max(1, config.cache.route_ttl_s)))


# --- answers ----------------------------------------------------------------


def answers_cached(config: LadderConfig, tenant: str) -> bool:
    policy = config.tenants.get(tenant)
    return bool(policy and policy.response_cache)


def answer_key(tenant: str, task: str | None, max_tokens: int, prompt: str) -> str:
    return ANSWER_PREFIX + _digest(tenant, task, max_tokens, prompt)


def cached_answer(key: str) -> CachedAnswer | None:
    raw = get_redis().get(key)
    return CachedAnswer(**json.loads(raw)) if raw is not None else None


def take_lease(config: LadderConfig, key: str, job_id: int) -> bool:
    """True when this job is the one to compute the answer (first, or its own redelivery)."""
    redis = get_redis()
    lease = key + ":lease"
    if redis.set(lease, job_id, nx=True, ex=int(max(1, config.cache.lease_s))):
        return True
    holder = redis.get(lease)
    return holder is None or int(holder) == job_id


def remember_answer(config: LadderConfig, key: str, answer: CachedAnswer) -> None:
    redis = get_redis()
    redis.set(key, json.dumps(asdict(answer)), ex=int(max(1, config.cache.response_ttl_s)))
    redis.delete(key + ":lease")


def release_lease(key: str, job_id: int) -> None:
    """The leader ended without an answer: let a waiting job try instead of waiting out the lease."""
    redis = get_redis()
    lease = key + ":lease"
    if redis.get(lease) == str(job_id).encode():
        redis.delete(lease)
