"""The route task: pick the starting tier and hand the job to that tier's queue."""

from __future__ import annotations

from ladder.config import get_config
from worker.app import ROUTE_TASK, app
from worker.record import load_route_inputs, set_start_tier
from worker.route.choose import choose_start
from worker.tier.task import enqueue_tier


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
    choice = choose_start(get_config(), row.prompt, row.task, row.tenant)
    if set_start_tier(job_id, choice.tier, choice.reason):
        enqueue_tier(job_id, choice.tier)
    return choice.tier
