"""Retry delay: exponential backoff with full jitter, honouring Retry-After."""

from __future__ import annotations

import random


def retry_delay(retries_done: int, retry_after: float | None = None, *, base: float = 0.5, cap: float = 60.0,
                rng: random.Random | None = None) -> float:
    """Seconds to wait before the next try. A provider's Retry-After is a floor."""
    rng = rng or random
    ceiling = min(cap, base * (2 ** retries_done))
    delay = rng.uniform(0, ceiling)
    if retry_after is not None:
        delay = max(delay, retry_after)
    return delay
