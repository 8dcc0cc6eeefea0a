"""Choose a starting tier from the job's plan: rules, the learned router, or a fixed tier.

Pure apart from the learned router's artifact, which is loaded once per
process. The plan (``worker.experiments.plan_for``: arm over tenant over
``routing``) names the strategy; the tenant's allowed tiers clamp the
choice upwards.
"""

from __future__ import annotations

from collections.abc import Collection
from functools import lru_cache
from pathlib import Path

from ladder.config import LadderConfig
from worker.experiments import Plan
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


def _by_strategy(config: LadderConfig, prompt: str, task: str | None, plan: Plan) -> RouteChoice:
    if plan.start_tier is not None:
        return RouteChoice(plan.start_tier, "plan:start_tier")
    if plan.routing_strategy == "cheapest":
        return RouteChoice(1, "plan:cheapest")
    if plan.routing_strategy == "top":
        return RouteChoice(config.top_tier, "plan:top")
    routing = config.routing
    choice = route_by_rules(routing, prompt, task)
    if choice is None and plan.routing_strategy == "learned" and routing.router_path is not None:
        tier = _learned_router(str(routing.router_path)).predict_tier(prompt)
        choice = RouteChoice(min(max(1, tier), config.top_tier), "learned")
    return choice or RouteChoice(routing.default_tier, "default")


def choose_start(config: LadderConfig, prompt: str, task: str | None, tenant: str, plan: Plan | None = None) -> RouteChoice:
    choice = _by_strategy(config, prompt, task, plan or Plan(config.routing.router))
    policy = config.tenants.get(tenant)
    tier = clamp_to_allowed(choice.tier, policy.allowed_tiers if policy else None)
    return choice if tier == choice.tier else RouteChoice(tier, f"{choice.reason}+tenant")
