"""The route task: pick the starting tier and hand the job to that tier's queue."""

from __future__ import annotations

from ladder.config import get_config
from worker.app import ROUTE_TASK, app
from worker.record import load_route_inputs, set_start_tier
from worker.route.choose import clamp_to_allowed, choose_start
from worker.tier.task import enqueue_tier, usable_tiers


@app.task(name=ROUTE_TASK)
def route(job_id: int) -> int | None:
    row = load_route_inputs(job_id)
    if row is None:
        return None
    if row.status != "queued":
        # Redelivered after the job was routed: re-send only if it never started.
        if row.status == "routed" and row.current_tier:
            enqueue_tier(job_id, row.current_tier)
        return row.current_tier
    config = get_config()
    choice = choose_start(config, row.prompt, row.task, row.tenant)
    # Skip a tier whose circuit is open: the next usable one up, else the best one below.
    usable = usable_tiers(config, row.tenant)
    tier = clamp_to_allowed(choice.tier, usable) if usable else choice.tier
    reason = choice.reason if tier == choice.tier else f"{choice.reason}+unhealthy"
    if set_start_tier(job_id, tier, reason):
        enqueue_tier(job_id, tier)
    return tier
