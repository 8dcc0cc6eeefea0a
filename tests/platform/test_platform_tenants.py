"""Tenants on real workers: one tenant never sees another's batch; a huge batch does not starve a small one."""

from __future__ import annotations

from tests.conftest import LADDER
from tests.faults.kit import instant_tiers, wait_final, write_batch
from tests.platform.kit import job_rows, submit

BIG = 600


def test_a_tenant_cannot_read_another_tenants_batch(cluster, ledger, tmp_path):
    # Given a batch of tenant acme
    c = cluster({"tiers": instant_tiers(1), "tenants": {"acme": {}, "globex": {}}})
    c.start_workers([1])
    batch = submit(c, write_batch(tmp_path / "a.jsonl", 3, "acme"), "acme")
    wait_final(ledger, batch, timeout=60)
    # When globex asks for its status or its results
    status = c.ladder("status", str(batch), "--tenant", "globex", "--json", check=False)
    export = c.ladder("export", str(batch), "--tenant", "globex", "-o", str(tmp_path / "stolen.jsonl"), check=False)
    # Then both are refused as if the batch did not exist, and nothing is written
    assert status.returncode != 0 and f"no batch {batch} for tenant 'globex'" in status.stderr
    assert export.returncode != 0 and f"no batch {batch} for tenant 'globex'" in export.stderr
    assert not (tmp_path / "stolen.jsonl").exists() or (tmp_path / "stolen.jsonl").read_text() == ""
    # And acme itself gets its answers
    assert c.ladder("status", str(batch), "--tenant", "acme", "--json").returncode == 0
    c.ladder("export", str(batch), "--tenant", "acme", "-o", str(tmp_path / "own.jsonl"))
    assert len((tmp_path / "own.jsonl").read_text().splitlines()) == 3


def test_a_small_batch_is_not_starved_by_a_huge_one(cluster, ledger, tmp_path):
    # Given two tenants, and tier calls slow enough that a big batch keeps the workers busy for seconds
    c = cluster({"tiers": instant_tiers(2, delay_s=0.05), "tenants": {"bulk": {}, "team": {}},
                 "fairness": {"large_batch_jobs": 200, "large_batch_penalty": 3}})
    c.start_workers([1, 2], concurrency=2)
    # (Route messages are sent without a priority by the producer, so routing is first come first served:
    # enough route processes keep routing ahead of the tiers, where the priorities order the work.)
    c.supervisor.spawn("route-more", LADDER + ["worker", "--route", "-c", "4", "-n", "route-more@test"], c.env)
    # When the bulk tenant submits 600 jobs and the other tenant 10 jobs just after
    big = submit(c, write_batch(tmp_path / "big.jsonl", BIG, "bulk"), "bulk")
    small = submit(c, write_batch(tmp_path / "small.jsonl", 10, "team"), "team")
    assert wait_final(ledger, small, timeout=120)["unfinished"] == 0
    assert wait_final(ledger, big, timeout=300)["unfinished"] == 0
    # Then the small batch was done long before the big one: before half of the big batch was
    small_done = max(j.finished_at for j in job_rows(ledger, small))
    big_finishes = sorted(j.finished_at for j in job_rows(ledger, big))
    big_done_before_small = sum(1 for f in big_finishes if f <= small_done)
    print(f"\n[fairness] big jobs finished before the small batch was done: {big_done_before_small}/{BIG}; "
          f"small done {(small_done - big_finishes[0]).total_seconds():.1f}s after the first big job, "
          f"big done {(big_finishes[-1] - big_finishes[0]).total_seconds():.1f}s after it")
    assert small_done < big_finishes[len(big_finishes) // 2]
    # And the big batch kept making progress all along: it is not frozen out either
    assert big_done_before_small > 0
