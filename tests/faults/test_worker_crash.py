"""Fault 1: kill -9 a tier worker in the middle of a 300-job batch, then start it again."""

import os
import signal
import time

from tests.faults.kit import figures, instant_tiers, report_line, wait_final, write_batch


def test_killed_worker_loses_no_job_and_charges_nothing_twice(cluster, ledger, tmp_path):
    # Given tier workers whose calls take a while, and a sweeper that notices stale jobs quickly
    c = cluster({"tiers": instant_tiers(2, delay_s=0.05), "sweeper": {"interval_s": 1, "stale_after_s": 3}})
    c.start_workers([1, 2], concurrency=2, beat=True)
    batch = int(c.ladder("submit", str(write_batch(tmp_path / "jobs.jsonl", 300))).stdout.split()[-1])
    # When the tier-1 worker is killed outright while jobs are in flight
    tier1 = next(child for child in c.supervisor.children if child.name == "tier1")
    deadline = time.monotonic() + 60
    while figures(ledger, batch)["final"] < 40 and time.monotonic() < deadline:
        time.sleep(0.1)
    os.killpg(tier1.pid, signal.SIGKILL)
    c.supervisor.children.remove(tier1)
    time.sleep(1)
    c.start_tier_worker(1, concurrency=2)
    # Then every job ends final, no (job, tier, try) is written twice and the money adds up
    result = wait_final(ledger, batch, timeout=180)
    report_line("worker kill -9", result)
    assert result["final"] == 300 and result["lost"] == 0
    assert result["duplicated"] == 0
    assert result["job_total"] == result["attempt_total"]
