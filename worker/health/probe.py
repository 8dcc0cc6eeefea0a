"""Health checks: probe a tier whose circuit waits half-open, off the jobs' path.

Beat runs ``ladder.health_check`` every ``health.probe_interval_s``; it sends a
``ladder.probe`` to each tier whose cooldown has passed, on that tier's own
queue, where a worker holding the tier's provider makes one tiny call. A
success closes the circuit before the next job needs the tier; a failure
opens it for another cooldown.
"""

from __future__ import annotations

import logging

from ladder.config import get_config
from worker.app import app, tier_queue
from worker.health import circuit
from worker.health.circuit import CircuitState
from worker.providers.base import Request

log = logging.getLogger("ladder.health")
PROBE_TASK = "ladder.probe"


@app.task(name="ladder.health_check", ignore_result=True)
def health_check() -> list[int]:
    config = get_config()
    waiting = [t for t, c in circuit.read_all(range(1, config.top_tier + 1), config.health).items()
               if c.state is CircuitState.HALF_OPEN]
    for tier in waiting:
        app.send_task(PROBE_TASK, args=(tier,), queue=tier_queue(tier))
    return waiting


@app.task(name=PROBE_TASK, ignore_result=True)
def probe(tier: int) -> str:
    from worker.tier.runtime import provider_for

    config = get_config()
    if not circuit.allow(tier, config.health):
        return "skipped"  # closed already, or another probe holds the half-open slot
    try:
        provider_for(tier).generate(Request(prompt="Reply with OK.", max_tokens=1))
    except Exception as exc:  # TierError or anything else: the tier stays out of rotation
        circuit.record_failure(tier, config.health)
        log.warning("tier %s probe failed: %s", tier, type(exc).__name__)
        return "failed"
    circuit.note_success(tier)
    log.info("tier %s probe succeeded: circuit closed", tier)
    return "closed"
