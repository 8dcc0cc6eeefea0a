"""The sweeper: Postgres is the source of truth, Redis only transport.

A job whose state has not moved for ``sweeper.stale_after_s`` (a message lost
with a broker restart, a crash between the ledger write and the enqueue) is
sent again from its row: ``queued`` to the route queue, ``routed`` and
``running`` to its current tier. Re-sending is safe because every task is
idempotent. Budget reservations held past the longest possible call are
released. Runs periodically under Celery beat (``ladder worker --route
--beat``) or once with ``ladder sweep``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy import text

from ladder.config import get_config
from ladder.ledger.db import get_engine
from worker.app import ROUTE_QUEUE, ROUTE_TASK, app

log = logging.getLogger("ladder.sweep")

_STALE = text("""
    update jobs set updated_at = now()
    where id in (
        select id from jobs
        where status = any(:states) and updated_at < now() - make_interval(secs => :age)
        order by updated_at
        limit :limit
        for update skip locked)
    returning id, status, current_tier
""")

_STALE_RESERVATIONS = text("""
    with gone as (
        delete from budget_reservations where created_at < now() - make_interval(secs => :age)
        returning tenant, amount_usd)
    update budgets b set reserved_usd = b.reserved_usd - g.total, updated_at = now()
    from (select tenant, sum(amount_usd) as total from gone group by tenant) g
    where b.tenant = g.tenant
""")


@dataclass
class SweepResult:
    requeued_route: int = 0
    requeued_tier: int = 0
    released_reservations: int = 0


def sweep(limit: int = 10_000) -> SweepResult:
    from worker.tier.task import enqueue_tier

    config = get_config()
    stale = config.sweeper.stale_after_s
    longest_call = max(t.timeout_s * (t.max_retries + 1) for t in config.tiers)
    result = SweepResult()
    with get_engine().begin() as conn:
        waiting = conn.execute(_STALE, {"states": ["queued", "routed"], "age": stale, "limit": limit}).all()
        # A running job may legitimately be mid-call: wait out the longest call first.
        running = conn.execute(_STALE, {"states": ["running"], "age": stale + longest_call, "limit": limit}).all()
        result.released_reservations = conn.execute(_STALE_RESERVATIONS, {"age": stale + longest_call}).rowcount
    for job_id, status, tier in [*waiting, *running]:
        if status == "queued" or tier is None:
            app.send_task(ROUTE_TASK, args=(job_id,), queue=ROUTE_QUEUE)
            result.requeued_route += 1
        else:
            enqueue_tier(job_id, tier)
            result.requeued_tier += 1
    if result.requeued_route or result.requeued_tier:
        log.warning("sweeper re-sent %d route and %d tier messages", result.requeued_route, result.requeued_tier)
    return result


@app.task(name="ladder.sweep", ignore_result=True)
def sweep_task() -> dict:
    return sweep().__dict__
