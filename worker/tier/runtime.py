"""The tier providers this worker process holds, created once after fork.

``ladder worker --tier N`` sets ``LADDER_WORKER_TIERS`` so that the child
loads its model in ``worker_process_init``, before the first task arrives;
a provider for another tier (a test worker on several queues) is created on
first use, still after fork.
"""

from __future__ import annotations

import logging
import os

from ladder.config import get_config
from worker.providers import Provider, create_provider

log = logging.getLogger("ladder.worker")
_providers: dict[int, Provider] = {}


def worker_tiers() -> list[int]:
    raw = os.environ.get("LADDER_WORKER_TIERS", "")
    return [int(t) for t in raw.split(",") if t.strip()]


def provider_for(tier: int) -> Provider:
    provider = _providers.get(tier)
    if provider is None:
        config = get_config()
        provider = _providers[tier] = create_provider(config.tier(tier))
        log.info("tier %d: loaded provider %s (%s)", tier, config.tier(tier).provider, config.tier(tier).model)
    return provider


def load_tier_provider() -> None:
    for tier in worker_tiers():
        provider_for(tier)


def close_tier_provider() -> None:
    while _providers:
        _, provider = _providers.popitem()
        provider.close()
