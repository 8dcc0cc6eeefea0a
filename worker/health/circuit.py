"""Circuit breaking per tier.

    closed     calls go through; consecutive failures are counted
    open       ``failure_threshold`` failures in a row: calls are skipped (failover)
    half_open  ``cooldown_s`` after opening: one caller (the probe) may try;
               success closes the circuit, failure opens it again

State lives in one Redis hash per tier so that every worker agrees.
"""

from __future__ import annotations

import enum
import time
from collections.abc import Iterable
from dataclasses import dataclass

from ladder.config import Health
from ladder.shared_state import get_redis


class CircuitState(str, enum.Enum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


@dataclass(frozen=True)
class Circuit:
    tier: int
    state: CircuitState
    failures: int
    opened_at: float | None


def _key(tier: int) -> str:
    return f"ladder:circuit:{tier}"


def read(tier: int, health: Health, now: float | None = None) -> Circuit:
    return _parse(tier, get_redis().hgetall(_key(tier)), health, now)


def read_all(tiers: Iterable[int], health: Health) -> dict[int, Circuit]:
    """Every tier's circuit in one round trip."""
    tiers = list(tiers)
    pipe = get_redis().pipeline(transaction=False)
    for tier in tiers:
        pipe.hgetall(_key(tier))
    now = time.time()
    return {tier: _parse(tier, raw, health, now) for tier, raw in zip(tiers, pipe.execute())}


def _parse(tier: int, hash_: dict, health: Health, now: float | None) -> Circuit:
    raw = {k.decode(): v.decode() for k, v in hash_.items()}
    failures = int(raw.get("failures", 0))
    opened_at = float(raw["opened_at"]) if "opened_at" in raw else None
    if raw.get("state") != CircuitState.OPEN.value:
        return Circuit(tier, CircuitState.CLOSED, failures, None)
    now = time.time() if now is None else now
    state = CircuitState.HALF_OPEN if opened_at is not None and now - opened_at >= health.cooldown_s else CircuitState.OPEN
    return Circuit(tier, state, failures, opened_at)


def allow(tier: int, health: Health) -> bool:
    """May this caller call the tier now? In half-open, only the one that wins the probe."""
    circuit = read(tier, health)
    if circuit.failures or circuit.state is not CircuitState.CLOSED:
        _seen_failing.add(tier)
    if circuit.state is CircuitState.CLOSED:
        return True
    if circuit.state is CircuitState.OPEN:
        return False
    return bool(get_redis().set(f"{_key(tier)}:probe", "1", nx=True, ex=max(1, int(health.cooldown_s))))


# Tiers this process saw with failures (in ``allow``) or failed on itself: only
# those need a reset after a success. A healthy tier's success writes nothing,
# which saves a Redis round trip on every call of the hot path.
_seen_failing: set[int] = set()


def note_success(tier: int) -> None:
    """After a successful call: close the circuit if this process saw it failing."""
    if tier in _seen_failing:
        record_success(tier)
        _seen_failing.discard(tier)


def record_success(tier: int) -> None:
    """Close the circuit and clear its failure count, unconditionally."""
    pipe = get_redis().pipeline()
    pipe.delete(_key(tier))
    pipe.delete(f"{_key(tier)}:probe")
    pipe.execute()


def record_failure(tier: int, health: Health) -> Circuit:
    _seen_failing.add(tier)
    client = get_redis()
    failures = client.hincrby(_key(tier), "failures", 1)
    if failures >= health.failure_threshold:
        # Each failure while open restarts the cooldown: a failed probe reopens it.
        client.hset(_key(tier), mapping={"state": CircuitState.OPEN.value, "opened_at": repr(time.time())})
        client.delete(f"{_key(tier)}:probe")
    return read(tier, health)


_usable_cache: dict[tuple[int, ...], tuple[float, frozenset[int]]] = {}
USABLE_CACHE_S = 1.0


def usable_tiers(tiers: Iterable[int], health: Health) -> set[int]:
    """Tiers a job may be sent to: all but those whose circuit is open (half-open may take a probe).

    Read at most once a second per process: a routing choice a second stale is
    harmless, because the tier task checks its own circuit live (``allow``) before calling.
    """
    key = tuple(tiers)
    now = time.monotonic()
    hit = _usable_cache.get(key)
    if hit is not None and now - hit[0] < USABLE_CACHE_S:
        return set(hit[1])
    usable = frozenset(t for t, c in read_all(key, health).items() if c.state is not CircuitState.OPEN)
    _usable_cache[key] = (now, usable)
    return set(usable)
