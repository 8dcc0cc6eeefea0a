"""Ladder's Prometheus metrics, correct across many prefork worker processes.

Multiprocess mode, not an exporter process: every Celery pool process writes
its own memory-mapped files, and ``ladder metrics`` sums them at scrape time.
Layout: ``<metrics root>/<worker node name>/*.db``. The root is
``LADDER_METRICS_DIR``, else ``<LADDER_HOME>/metrics``. A ``ladder worker``
empties its own node directory when it starts (``celeryd_init``, in the main
process, before the pool forks), so a restarted worker begins from zero
(Prometheus' ``rate()`` treats that as a counter reset) and never adds to
another worker's files. The files hold only counters and histograms, whose
totals must outlive the pool process that counted them; so nothing needs to
be marked dead when one exits. What is a state rather than a count (queue
depth, circuit state) is read from Redis at scrape time instead.

prometheus_client picks multiprocess mode from ``PROMETHEUS_MULTIPROC_DIR``
when it is imported, and a worker imports it early (Celery's CLI loads
Flower's command plugin); so the choice is made again when Ladder's metrics
are first created, in the pool process, after the variable is set. In a
process that is not a worker (tests, eager tasks) the same calls still work
and count in memory, unscraped.

    ladder_attempts_total{tier,outcome}       every model call: accepted / escalated / failed
    ladder_cost_usd_total{tier}               USD as a float, for dashboards; the ledger stays exact
    ladder_confidence{tier}                   histogram of the scored confidence (0..1)
    ladder_provider_latency_seconds{tier}     histogram of the provider call time
    ladder_circuit_changes_total{tier,state}  circuit moves, counted where they happen
    ladder_circuit_state{tier}                0 closed, 1 half-open, 2 open  ⎫ read from Redis
    ladder_circuit_failures{tier}             consecutive failures           ⎬ at scrape time
    ladder_queue_depth{queue}                 messages waiting               ⎭
    ladder_broker_up                          1 when those Redis reads succeeded
"""

from __future__ import annotations

import glob
import os
import re
import shutil
from decimal import Decimal
from functools import lru_cache
from pathlib import Path

from celery import signals

OUTCOMES = ("accepted", "escalated", "failed")
CIRCUIT_STATES = {"closed": 0, "half_open": 1, "open": 2}
CONFIDENCE_BUCKETS = tuple(round(0.1 * i, 1) for i in range(1, 11))
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300)
_MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"


def metrics_root() -> Path:
    from ladder.settings import get_settings

    settings = get_settings()
    return settings.metrics_dir or settings.home / "metrics"


def prepare_node_dir(nodename: str, root: Path | None = None) -> Path:
    """Empty and claim this worker's directory; its pool processes inherit the variable."""
    safe = re.sub(r"[^A-Za-z0-9_.@-]", "_", nodename)
    node_dir = (root or metrics_root()) / safe
    shutil.rmtree(node_dir, ignore_errors=True)
    node_dir.mkdir(parents=True)
    os.environ[_MULTIPROC_ENV] = str(node_dir)
    return node_dir


@signals.celeryd_init.connect
def _claim_node_dir(sender: str, **_: object) -> None:
    prepare_node_dir(sender)


class _Metrics:
    def __init__(self) -> None:
        from prometheus_client import Counter, Histogram, values

        if os.environ.get(_MULTIPROC_ENV) and not values.ValueClass._multiprocess:
            # Celery's CLI loads Flower's command plugin, which imports prometheus_client
            # before the worker has claimed its directory: choose the value class again.
            values.ValueClass = values.get_value_class()
        # No registry: ``ladder metrics`` reads the values back from the files.
        by_tier = dict(labelnames=["tier"], registry=None)
        self.attempts = Counter("ladder_attempts", "Model calls by tier and outcome (accepted, escalated, failed)",
                                ["tier", "outcome"], registry=None)
        self.cost = Counter("ladder_cost_usd", "Cost of model calls in USD (float; the ledger holds the exact NUMERIC)",
                            **by_tier)
        self.confidence = Histogram("ladder_confidence", "Scored confidence of answers", buckets=CONFIDENCE_BUCKETS,
                                    **by_tier)
        self.latency = Histogram("ladder_provider_latency_seconds", "Provider call time", buckets=LATENCY_BUCKETS,
                                 **by_tier)
        self.circuit_changes = Counter("ladder_circuit_changes", "Circuit breaker moves into a state, by tier",
                                       ["tier", "state"], registry=None)


@lru_cache(maxsize=1)
def _metrics() -> _Metrics:
    return _Metrics()


def observe_attempt(tier: int, outcome: str, cost_usd: Decimal, confidence: float | None, latency_ms: float) -> None:
    """Count one model call; called by the tier task once its attempt is in the ledger."""
    if outcome not in OUTCOMES:
        raise ValueError(f"outcome {outcome!r} is not one of {', '.join(OUTCOMES)}")
    m, label = _metrics(), str(tier)
    m.attempts.labels(tier=label, outcome=outcome).inc()
    m.cost.labels(tier=label).inc(float(cost_usd))
    if confidence is not None:
        m.confidence.labels(tier=label).observe(confidence)
    m.latency.labels(tier=label).observe(latency_ms / 1000)


def set_circuit_state(tier: int, state: str) -> None:
    """Count a tier's circuit moving to ``closed``, ``half_open`` or ``open``; call it on each change.

    The current state is not kept here: ``ladder metrics`` reads it from Redis,
    where the circuit lives, so that a circuit turning half-open by the clock
    (no worker involved) shows too.
    """
    if state not in CIRCUIT_STATES:
        raise ValueError(f"circuit state {state!r} is not one of {', '.join(CIRCUIT_STATES)}")
    _metrics().circuit_changes.labels(tier=str(tier), state=state).inc()


class _WorkerFiles:
    """Every worker node's files under the root, summed as one set of metrics."""

    def __init__(self, root: Path):
        self.root = root

    def collect(self):
        from prometheus_client.multiprocess import MultiProcessCollector

        return MultiProcessCollector.merge(sorted(glob.glob(str(self.root / "*" / "*.db"))), accumulate=True)


class _RedisState:
    """Read at scrape time from Redis: each queue's depth and each tier's circuit."""

    # kombu's Redis transport keeps one list per priority step: "q", "q\x06\x163", …
    PRIORITY_SUFFIXES = ("", "\x06\x163", "\x06\x166", "\x06\x169")

    def __init__(self, queues: list[str], tiers: list[int], health):
        self.queues, self.tiers, self.health = queues, tiers, health

    def collect(self):
        import redis
        from prometheus_client.core import GaugeMetricFamily

        from ladder.shared_state import get_redis
        from worker.health import circuit

        up = GaugeMetricFamily("ladder_broker_up", "1 when Redis answered the reads of queue depth and circuits")
        try:
            pipe = get_redis().pipeline(transaction=False)
            for queue in self.queues:
                for suffix in self.PRIORITY_SUFFIXES:
                    pipe.llen(queue + suffix)
            lengths = iter(pipe.execute())
            circuits = circuit.read_all(self.tiers, self.health)
        except redis.RedisError:
            up.add_metric([], 0)
            return [up]
        depth = GaugeMetricFamily("ladder_queue_depth", "Messages waiting in each queue", labels=["queue"])
        for queue in self.queues:
            depth.add_metric([queue], sum(next(lengths) for _ in self.PRIORITY_SUFFIXES))
        state = GaugeMetricFamily("ladder_circuit_state", "Circuit breaker: 0 closed, 1 half-open, 2 open",
                                  labels=["tier"])
        failures = GaugeMetricFamily("ladder_circuit_failures", "Consecutive failures counted by the circuit",
                                     labels=["tier"])
        for tier, current in circuits.items():
            state.add_metric([str(tier)], CIRCUIT_STATES[current.state.value])
            failures.add_metric([str(tier)], current.failures)
        up.add_metric([], 1)
        return [depth, state, failures, up]


def scrape_registry(root: Path, queues: list[str], tiers: list[int], health):
    """The registry ``ladder metrics`` serves: all workers' files, plus what Redis holds now."""
    from prometheus_client import CollectorRegistry

    registry = CollectorRegistry(auto_describe=False)
    registry.register(_WorkerFiles(root))
    registry.register(_RedisState(queues, tiers, health))
    return registry
