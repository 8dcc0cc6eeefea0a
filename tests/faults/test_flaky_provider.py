"""Fault 3: a provider answers 503, then 429 with Retry-After, then recovers.

Jobs retry with backoff, the tier's circuit opens (jobs fail over to tier 2,
visible in the ledger) and closes again once a half-open probe succeeds.
"""

import json
import time

from sqlalchemy import text

from tests.faults.flaky_server import FlakyServer
from tests.faults.kit import instant_tiers, report_line, wait_final, write_batch


def flaky_config(base_url: str) -> dict:
    tier2 = instant_tiers(2)[1] | {"name": "fallback"}
    tier1 = {"name": "flaky", "provider": "openai", "model": "flaky-model", "threshold": 0.5, "timeout_s": 5,
             "max_retries": 2, "prices": {"input_per_1m": "1", "output_per_1m": "1"},
             "options": {"base_url": base_url, "api_key_env": "LADDER_FLAKY_KEY", "mode": "chat", "logprobs": True}}
    return {"tiers": [tier1, tier2], "health": {"failure_threshold": 8, "cooldown_s": 2, "probe_interval_s": 1},
            "sweeper": {"interval_s": 1, "stale_after_s": 5}}


def wait_circuit_closed(c, tier: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if json.loads(c.ladder("health", "--json").stdout)[str(tier)]["state"] == "closed":
            return True
        time.sleep(0.5)
    return False


def test_retries_open_and_close_the_circuit_and_lose_nothing(cluster, ledger, tmp_path):
    with FlakyServer(fail_503=6, fail_429=4, retry_after=1) as flaky:
        # Given a tier 1 behind a provider that is about to misbehave
        c = cluster(flaky_config(flaky.base_url))
        c.env["LADDER_FLAKY_KEY"] = "sk-flaky-test"
        c.start_workers([1, 2], concurrency=2, beat=True)
        # When a batch meets the outage
        first = int(c.ladder("submit", str(write_batch(tmp_path / "a.jsonl", 30, "outage"))).stdout.split()[-1])
        during = wait_final(ledger, first, timeout=180)
        # And the health probes see the provider recover and close the circuit
        closed = wait_circuit_closed(c, tier=1, timeout=60)
        # And a second batch arrives
        second = int(c.ladder("submit", str(write_batch(tmp_path / "b.jsonl", 10, "after"))).stdout.split()[-1])
        after = wait_final(ledger, second, timeout=120)
    report_line("flaky provider, outage batch", during)
    report_line("flaky provider, after recovery", after)
    # Then nothing is lost or charged twice
    assert during["lost"] == 0 and after["lost"] == 0
    assert during["duplicated"] == 0 and during["job_total"] == during["attempt_total"]
    with ledger.connect() as conn:
        errors = dict(conn.execute(text(
            "select case when a.error like '%503%' then '503' when a.error like '%429%' then '429' "
            "when a.error = 'circuit open' then 'open' else 'other' end, count(*) "
            "from attempts a join jobs j on j.id = a.job_id where j.batch_id = :b and a.tier = 1 and a.error is not null "
            "group by 1"), {"b": first}).all())
        failover = conn.execute(text(
            "select count(*) from attempts a join jobs j on j.id = a.job_id "
            "where j.batch_id = :b and a.tier = 1 and a.reason = 'unhealthy'"), {"b": first}).scalar()
        recovered = conn.execute(text(
            "select count(*) from jobs where batch_id = :b and final_tier = 1"), {"b": second}).scalar()
    # The retries are in the ledger, 503s and 429s both
    assert errors.get("503", 0) >= 1 and errors.get("429", 0) >= 1, errors
    # The circuit opened: jobs were failed over to tier 2 without a call
    assert failover >= 1
    # And closed again by a probe: after recovery, tier 1 answers on its own
    assert closed and recovered == 10
