"""Monitoring a live stack: Flower's API sees the five queues and their workers; /metrics agrees with the ledger.

Real processes throughout: Redis, PostgreSQL, ``ladder worker --route`` and one
``ladder worker --tier N`` per tier (on ``instant`` tiers, so the run is quick),
``ladder flower`` and ``ladder metrics``, all read over HTTP as an operator would.
"""

from __future__ import annotations

import json
import sys
import time
import urllib.request
from collections.abc import Callable

import pytest
from sqlalchemy import text

from ladder.stack.ports import free_port

pytestmark = pytest.mark.e2e

LADDER = [sys.executable, "-m", "ladder.cli.main"]
QUEUES = ["route", "tier1", "tier2", "tier3", "tier4"]
PROMPT = "Write a one-line description of product number {i} in the spring catalogue"


def instant_config() -> dict:
    # escalate_share falls with the tier, so that jobs stop on every rung of the ladder.
    shares = [0.6, 0.4, 0.2, 0.0]
    return {
        "tiers": [{"name": f"t{n}", "provider": "instant", "model": f"instant-{n}", "threshold": 0.5 if n < 4 else 0.0,
                   "prices": {"input_per_1m": str(n * n), "output_per_1m": str(3 * n * n)},
                   "options": {"escalate_share": share}}
                  for n, share in enumerate(shares, start=1)],
        "tenants": {"default": {}},
    }


def get(url: str):
    with urllib.request.urlopen(url, timeout=10) as response:
        body = response.read().decode()
    return json.loads(body) if response.headers.get_content_type() == "application/json" else body


def eventually(probe: Callable[[], object], timeout: float, what: str):
    """The probe's first truthy answer; its last error or answer in the message otherwise."""
    deadline, last = time.monotonic() + timeout, None
    while time.monotonic() < deadline:
        try:
            last = probe()
            if last:
                return last
        except OSError as exc:  # not listening yet
            last = exc
        time.sleep(0.5)
    raise AssertionError(f"{what} within {timeout:.0f}s; last seen: {last!r}")


def ladder_attempt_totals(metrics_text: str) -> dict[tuple[int, str], float]:
    from prometheus_client.parser import text_string_to_metric_families

    return {(int(s.labels["tier"]), s.labels["outcome"]): s.value
            for family in text_string_to_metric_families(metrics_text) if family.name == "ladder_attempts"
            for s in family.samples if s.name == "ladder_attempts_total"}


def ladder_costs(metrics_text: str) -> dict[int, float]:
    from prometheus_client.parser import text_string_to_metric_families

    return {int(s.labels["tier"]): s.value for family in text_string_to_metric_families(metrics_text)
            if family.name == "ladder_cost_usd" for s in family.samples if s.name == "ladder_cost_usd_total"}


def test_flower_shows_the_tier_queues_and_workers_and_metrics_agree_with_the_ledger(cluster, ledger, tmp_path):
    # Given a four-tier stack of workers, Flower and the metrics endpoint
    c = cluster(instant_config())
    c.env["LADDER_METRICS_DIR"] = str(tmp_path / "metrics")
    c.start_workers([1, 2, 3, 4])
    flower_port, metrics_port = free_port(), free_port()
    c.supervisor.spawn("flower", LADDER + ["flower", "--port", str(flower_port)], c.env)
    c.supervisor.spawn("metrics", LADDER + ["metrics", "--port", str(metrics_port)], c.env)
    flower, metrics = f"http://127.0.0.1:{flower_port}", f"http://127.0.0.1:{metrics_port}/metrics"

    def consumers() -> dict[str, set[str]]:
        workers = get(f"{flower}/api/workers?refresh=1")
        found = {name: {q["name"] for q in info.get("active_queues") or []} for name, info in workers.items()}
        return found if all(any(q in queues for queues in found.values()) for q in QUEUES) else {}

    workers = eventually(consumers, 120, "Flower listing a worker on each of route, tier1..tier4")

    # When a batch is submitted, and Flower is read while it runs
    jobs = tmp_path / "jobs.jsonl"
    jobs.write_text("".join(json.dumps({"custom_id": f"j{i}", "prompt": PROMPT.format(i=i)}) + "\n" for i in range(40)))
    batch = int(c.ladder("submit", str(jobs)).stdout.strip().splitlines()[-1])
    lengths = {q["name"]: q["messages"] for q in get(f"{flower}/api/queues/length")["active_queues"]}

    # Then Flower's broker view lists the five queues with their lengths, and each has its own worker
    assert set(QUEUES) <= set(lengths) and all(isinstance(n, int) and n >= 0 for n in lengths.values())
    for queue in QUEUES:
        assert queue in workers[f"{queue}@test"], f"{queue}@test consumes {workers[f'{queue}@test']}"

    eventually(lambda: json.loads(c.ladder("status", str(batch), "--json").stdout)["complete"], 120, "the batch finishing")

    # And the tasks Flower saw carry readable names and ids as arguments, never the prompt
    tasks = eventually(lambda: get(f"{flower}/api/tasks?limit=1000"), 30, "Flower recording tasks")
    # (a hashed 2% of accepted jobs may also be sent for audit)
    assert {"ladder.route", "ladder.tier"} <= {t["name"] for t in tasks.values()} <= {"ladder.route", "ladder.tier", "ladder.audit"}
    assert not any("catalogue" in json.dumps(t) for t in tasks.values())

    # And /metrics counts, by tier and outcome, exactly the ledger's attempts, and the cost per tier
    with ledger.connect() as conn:
        rows = conn.execute(text("select tier, outcome, count(*) as n, sum(cost_usd) as cost from attempts a "
                                 "join jobs j on j.id = a.job_id where j.batch_id = :b group by tier, outcome"),
                            {"b": batch}).all()
    in_ledger = {(r.tier, r.outcome): r.n for r in rows}
    assert {tier for tier, _ in in_ledger} == {1, 2, 3, 4}, "every rung should have seen this batch"
    eventually(lambda: ladder_attempt_totals(get(metrics)) == in_ledger, 20,
               f"/metrics agreeing with the ledger's {in_ledger}")
    costs = ladder_costs(get(metrics))
    for tier in range(1, 5):
        exact = sum(r.cost for r in rows if r.tier == tier)
        assert costs[tier] == pytest.approx(float(exact), rel=1e-9)
    scraped = get(metrics)
    assert 'ladder_queue_depth{queue="tier1"} 0.0' in scraped and 'ladder_circuit_state{tier="4"} 0.0' in scraped
    # And Flower serves its own Prometheus metrics next to Ladder's
    flower_metrics = get(f"{flower}/metrics")
    assert "flower_events_total{" in flower_metrics and 'task="ladder.tier"' in flower_metrics
