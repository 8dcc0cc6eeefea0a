"""Choose a starting tier: rules first, then the learned router, then the default.

Pure apart from the learned router's artifact, which is loaded once per
process. The tenant's allowed tiers clamp the choice upwards.
"""

from __future__ import annotations

from collections.abc import Collection
from functools import lru_cache
from pathlib import Path

from ladder.config import LadderConfig
from worker.route.rules import RouteChoice, route_by_rules


@lru_cache(maxsize=4)
def _learned_router(path: str):
    from worker.route.learned import LearnedRouter

    return LearnedRouter.load(Path(path))


def clamp_to_allowed(tier: int, allowed: Collection[int] | None) -> int:
    if not allowed:
        return tier
    above = [t for t in sorted(allowed) if t >= tier]
    return above[0] if above else max(allowed)


def choose_start(config: LadderConfig, prompt: str, task: str | None, tenant: str) -> RouteChoice:
    routing = config.routing
    choice = route_by_rules(routing, prompt, task)
    if choice is None and routing.router == "learned" and routing.router_path is not None:
        tier = _learned_router(str(routing.router_path)).predict_tier(prompt)
        choice = RouteChoice(min(max(1, tier), config.top_tier), "learned")
    if choice is None:
        choice = RouteChoice(routing.default_tier, "default")
    policy = config.tenants.get(tenant)
    tier = clamp_to_allowed(choice.tier, policy.allowed_tiers if policy else None)
    return choice if tier == choice.tier else RouteChoice(tier, f"{choice.reason}+tenant")
