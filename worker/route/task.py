"""The route task: pick the starting tier and hand the job to that tier's queue.

In order: a composite job is split into subtasks (``worker.compose``); an
answer in the response cache ends the job at no cost; otherwise the
job's arm (``worker.experiments``) and tenant give its plan, the routing
cache or the router picks the tier, and a critical job goes to an ensemble
(``worker.ensemble``) instead of a single call. Every message the job sends
later carries its tenant's priority (``worker.fairness``).
"""

from __future__ import annotations

from ladder.config import LadderConfig, get_config
from worker import cache
from worker.app import ROUTE_TASK, app
from worker.compose.plan import composite_rule
from worker.compose.task import resume_composite, start_composite
from worker.ensemble import is_critical
from worker.ensemble.task import launch_members, start_ensemble
from worker.experiments import assign, plan_for
from worker.fairness import message_priority
from worker.record import load_route_inputs, record_cache_hit, set_start_tier
from worker.route.choose import choose_start, clamp_to_allowed
from worker.route.rules import RouteChoice
from worker.tier.task import enqueue_tier, usable_tiers

CACHE_WAIT_S = 0.5  # a job whose identical twin is being answered looks for the answer again this soon


@app.task(name=ROUTE_TASK, bind=True, max_retries=None)
def route(self, job_id: int) -> int | str | None:
    row = load_route_inputs(job_id)
    if row is None:
        return None
    config = get_config()
    if row.status != "queued":
        return _redelivered(config, job_id, row)
    if row.parent_id is None and (rule := composite_rule(config, row.prompt, row.task, row.metadata)) is not None:
        start_composite(job_id, rule)
        return "composite"
    if cache.answers_cached(config, row.tenant):
        key = cache.answer_key(row.tenant, row.task, row.max_tokens, row.prompt)
        answer = cache.cached_answer(key)
        if answer is not None:
            record_cache_hit(job_id, answer.tier, answer.model, answer.output, answer.confidence)
            _notify_parent(row)
            return "cache"
        if not cache.take_lease(config, key, job_id):
            raise self.retry(countdown=CACHE_WAIT_S)
    assignment = assign(config, row.tenant, job_id)
    experiment, arm = (assignment.experiment, assignment.arm) if assignment else (None, None)
    priority = message_priority(config, row.tenant, row.batch_jobs)
    if is_critical(config, row.prompt, row.task, row.metadata):
        start_ensemble(config, job_id, experiment=experiment, arm=arm, priority=priority)
        return "ensemble"
    choice = _choose(config, row, experiment, arm)
    # Skip a tier whose circuit is open: the next usable one up, else the best one below.
    usable = usable_tiers(config, row.tenant)
    tier = clamp_to_allowed(choice.tier, usable) if usable else choice.tier
    reason = choice.reason if tier == choice.tier else f"{choice.reason}+unhealthy"
    if set_start_tier(job_id, tier, reason, experiment=experiment, arm=arm, priority=priority):
        enqueue_tier(job_id, tier, priority=priority)
    return tier


def _choose(config: LadderConfig, row, experiment: str | None, arm: str | None) -> RouteChoice:
    key = cache.route_key(config, row.tenant, arm, row.task, row.prompt)
    choice = cache.cached_route(config, key)
    if choice is None:
        choice = choose_start(config, row.prompt, row.task, row.tenant, plan_for(config, row.tenant, experiment, arm))
        cache.remember_route(config, key, choice)
    return choice


def _redelivered(config: LadderConfig, job_id: int, row) -> int | str | None:
    """Routed before (a redelivery, or the sweeper): re-send only what may have been lost."""
    if row.route_reason == "ensemble" and row.status == "running" and row.current_tier is None:
        launch_members(config, job_id, row.priority)
    elif (row.route_reason or "").startswith("composite:") and row.status == "running":
        resume_composite(job_id)
    elif row.status == "routed" and row.current_tier:
        enqueue_tier(job_id, row.current_tier, priority=row.priority)
    return row.current_tier


def _notify_parent(row) -> None:
    if row.parent_id is not None:
        from worker.compose.task import child_ended

        child_ended(row.parent_id)
