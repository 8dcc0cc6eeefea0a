"""The Redis client for state shared by all workers (circuits, caches).

Created on first use in each process; redis-py's pool notices a fork and
reconnects in the child, so nothing here is shared across processes.
"""

from __future__ import annotations

import redis

from ladder.settings import get_settings

_client: redis.Redis | None = None


def get_redis() -> redis.Redis:
    global _client
    if _client is None:
        url, _ = get_settings().require_urls()
        _client = redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=5, health_check_interval=30)
    return _client


def reset_redis() -> None:
    global _client
    _client = None
