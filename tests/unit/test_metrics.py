"""Ladder's metrics across forked worker processes, summed the way ``ladder metrics`` serves them."""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from decimal import Decimal
from pathlib import Path

import pytest

from ladder.config import Health

ROOT = Path(__file__).resolve().parents[2]

# A stand-in for a prefork worker: prometheus_client already imported (Celery's CLI
# loads Flower's plugin), the node directory claimed in the parent, then one forked
# child per list of attempts, as Celery's pool does after start-up.
WORKER = """
import json, os, sys
import prometheus_client
from decimal import Decimal
from pathlib import Path
from worker.metrics import observe_attempt, prepare_node_dir, set_circuit_state

node, root, plan = sys.argv[1], Path(sys.argv[2]), json.loads(sys.argv[3])
prepare_node_dir(node, root)
for child in plan:
    pid = os.fork()
    if pid == 0:
        for tier, outcome, cost, confidence, latency_ms in child["attempts"]:
            observe_attempt(tier, outcome, Decimal(cost), confidence, latency_ms)
        for tier, state in child.get("circuit", []):
            set_circuit_state(tier, state)
        os._exit(0)
    os.waitpid(pid, 0)
"""


def run_worker(node: str, root: Path, plan: list[dict]) -> None:
    subprocess.run([sys.executable, "-c", WORKER, node, str(root), json.dumps(plan)], check=True, cwd=ROOT,
                   env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"}, timeout=60)


@pytest.fixture()
def broker(monkeypatch, redis_url):
    """Point this process's shared Redis client at a URL (the session's Redis by default)."""
    from ladder.settings import get_settings
    from ladder.shared_state import reset_redis

    def point_at(url: str = redis_url) -> str:
        monkeypatch.setenv("LADDER_REDIS_URL", url)
        monkeypatch.setenv("LADDER_DATABASE_URL", "postgresql+psycopg://unused/none")  # required, never opened here
        get_settings.cache_clear()
        reset_redis()
        return url

    point_at()
    yield point_at
    get_settings.cache_clear()
    reset_redis()


def scrape(root: Path, queues: list[str] = (), tiers: list[int] = (), health=Health()) -> dict:
    from prometheus_client import generate_latest
    from prometheus_client.parser import text_string_to_metric_families

    from worker.metrics import scrape_registry

    text = generate_latest(scrape_registry(root, list(queues), list(tiers), health)).decode()
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def attempts(tier: int, outcome: str, n: int, cost: str = "0.0012500000", confidence: float | None = 0.7) -> list:
    return [[tier, outcome, cost, confidence, 40.0 + i] for i in range(n)]


def test_attempts_from_many_processes_of_two_workers_are_summed(tmp_path, broker):
    # Given two worker nodes whose pool processes observed attempts on tiers 1 and 2
    tier1_plan = [{"attempts": attempts(1, "accepted", 3) + attempts(1, "escalated", 2, confidence=0.2)},
                  {"attempts": attempts(1, "accepted", 4) + attempts(1, "failed", 1, cost="0", confidence=None)}]
    tier2_plan = [{"attempts": attempts(2, "accepted", 5, cost="0.0300000000", confidence=0.9)}]
    run_worker("tier1@host", tmp_path, tier1_plan)
    run_worker("tier2@host", tmp_path, tier2_plan)
    # When the files are scraped
    samples = scrape(tmp_path, ["route", "tier1", "tier2"])
    # Then each (tier, outcome) count and each tier's cost is the sum over every process
    observed = [a for child in tier1_plan + tier2_plan for a in child["attempts"]]
    expected_counts = Counter((str(tier), outcome) for tier, outcome, *_ in observed)
    for (tier, outcome), count in expected_counts.items():
        assert samples[("ladder_attempts_total", (("outcome", outcome), ("tier", tier)))] == count
    for tier in ("1", "2"):
        cost = sum(Decimal(c) for t, _, c, *_ in observed if str(t) == tier)
        assert samples[("ladder_cost_usd_total", (("tier", tier),))] == pytest.approx(float(cost), rel=1e-12)
        # And the histograms saw every latency, and every confidence that was scored
        assert samples[("ladder_provider_latency_seconds_count", (("tier", tier),))] == sum(
            1 for t, *_ in observed if str(t) == tier)
        assert samples[("ladder_confidence_count", (("tier", tier),))] == sum(
            1 for t, _, _, conf, _ in observed if str(t) == tier and conf is not None)


def test_queue_depth_is_read_from_redis_at_scrape_time(tmp_path, broker):
    import redis

    redis_url = broker()
    # Given three messages waiting on tier3 (one at a higher priority, in kombu's second list)
    client = redis.Redis.from_url(redis_url)
    client.delete("tier3", "tier3\x06\x163")
    client.lpush("tier3", "a", "b")
    client.lpush("tier3\x06\x163", "c")
    # When scraped
    samples = scrape(tmp_path, ["route", "tier3"])
    # Then the depth counts all of them, and an empty queue reads zero
    assert samples[("ladder_queue_depth", (("queue", "tier3"),))] == client.llen("tier3") + client.llen("tier3\x06\x163")
    assert samples[("ladder_queue_depth", (("queue", "route"),))] == 0
    assert samples[("ladder_broker_up", ())] == 1
    client.delete("tier3", "tier3\x06\x163")


def test_an_unreachable_broker_still_leaves_the_worker_metrics_scrapable(tmp_path, broker):
    from ladder.stack.ports import free_port

    # Given a worker's counts and no Redis where the URL points
    run_worker("tier1@host", tmp_path, [{"attempts": attempts(1, "accepted", 2)}])
    broker(f"redis://127.0.0.1:{free_port()}/0")
    # When scraped
    samples = scrape(tmp_path, ["tier1"], [1])
    # Then the counts are there and the broker is reported down
    assert samples[("ladder_attempts_total", (("outcome", "accepted"), ("tier", "1")))] == 2
    assert samples[("ladder_broker_up", ())] == 0


@pytest.fixture()
def circuits(broker):
    """The circuits of tiers 1-4, closed before and after (the session's Redis is shared with later tests)."""
    from worker.health import circuit

    for tier in (1, 2, 3, 4):
        circuit.record_success(tier)
    yield circuit
    for tier in (1, 2, 3, 4):
        circuit.record_success(tier)


def test_circuit_state_is_read_from_redis_so_a_cooled_down_circuit_shows_half_open(tmp_path, circuits):
    import time

    # Given circuits that open after 2 failures and cool down after a second:
    # tier 4 opened long enough ago to be half-open, tier 3 just opened, tier 2 failed once, tier 1 healthy
    health = Health(failure_threshold=2, cooldown_s=1.0)
    for _ in range(2):
        circuits.record_failure(4, health)
    time.sleep(health.cooldown_s + 0.1)
    for _ in range(2):
        circuits.record_failure(3, health)
    circuits.record_failure(2, health)
    # When scraped
    samples = scrape(tmp_path, tiers=[1, 2, 3, 4], health=health)
    # Then each tier's state is what the circuit itself reads now
    states = {t: samples[("ladder_circuit_state", (("tier", str(t)),))] for t in (1, 2, 3, 4)}
    assert states == {1: 0, 2: 0, 3: 2, 4: 1}
    assert samples[("ladder_circuit_failures", (("tier", "2"),))] == 1


def test_circuit_changes_are_counted_across_processes(tmp_path, broker):
    # Given one pool process that saw tier 3's circuit open, and another that saw it close
    run_worker("tier3@host", tmp_path, [{"attempts": [], "circuit": [[3, "open"]]},
                                        {"attempts": [], "circuit": [[3, "half_open"], [3, "closed"]]}])
    # When scraped
    samples = scrape(tmp_path)
    # Then each move is counted once
    for state in ("open", "half_open", "closed"):
        assert samples[("ladder_circuit_changes_total", (("state", state), ("tier", "3")))] == 1


def test_a_restarted_worker_starts_counting_from_zero(tmp_path, broker):
    # Given a worker that counted attempts, and another worker node
    run_worker("tier1@host", tmp_path, [{"attempts": attempts(1, "accepted", 4)}])
    run_worker("tier2@host", tmp_path, [{"attempts": attempts(2, "accepted", 1)}])
    # When tier1@host restarts and counts one more
    run_worker("tier1@host", tmp_path, [{"attempts": attempts(1, "accepted", 1)}])
    samples = scrape(tmp_path)
    # Then its old files are gone, and the other worker's are untouched
    assert samples[("ladder_attempts_total", (("outcome", "accepted"), ("tier", "1")))] == 1
    assert samples[("ladder_attempts_total", (("outcome", "accepted"), ("tier", "2")))] == 1


def test_unknown_outcomes_and_circuit_states_are_refused_with_the_allowed_values():
    from worker.metrics import observe_attempt, set_circuit_state

    with pytest.raises(ValueError, match="accepted, escalated, failed"):
        observe_attempt(1, "maybe", Decimal(0), None, 1.0)
    with pytest.raises(ValueError, match="closed, half_open, open"):
        set_circuit_state(1, "ajar")
