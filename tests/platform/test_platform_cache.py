"""Caching on real workers: identical prompts answered once, a repeat served free, routing skipped."""

from __future__ import annotations

from decimal import Decimal

from tests.faults.kit import instant_tiers, wait_final
from tests.platform.kit import attempt_rows, job_rows, submit, write_lines

SAME = "Summarise our refund policy in one sentence."


def cache_config() -> dict:
    return {"tiers": instant_tiers(2, delay_s=0.2),
            "tenants": {"acme": {"response_cache": True}, "beta": {}},
            "cache": {"route_ttl_s": 600, "response_ttl_s": 600, "lease_s": 30}}


def test_identical_prompts_are_answered_once_and_a_repeat_is_free(cluster, ledger, tmp_path):
    # Given a tenant that opted in to the response cache, and tier calls that take a while
    c = cluster(cache_config())
    c.start_workers([1, 2], concurrency=4)
    # When a batch carries the same prompt six times (and one other), and a later batch repeats it
    lines = [{"custom_id": f"same-{i}", "prompt": SAME} for i in range(6)] + [{"custom_id": "other", "prompt": "Say hi."}]
    first = submit(c, write_lines(tmp_path / "a.jsonl", lines), "acme")
    assert wait_final(ledger, first, timeout=60)["unfinished"] == 0
    second = submit(c, write_lines(tmp_path / "b.jsonl", [{"custom_id": "again", "prompt": SAME}]), "acme")
    assert wait_final(ledger, second, timeout=60)["unfinished"] == 0
    # Then exactly one job paid for model calls; every other copy has one cache_hit attempt at zero cost
    same_jobs = [j for j in job_rows(ledger, first) if j.custom_id.startswith("same-")] + job_rows(ledger, second)
    attempts = {j.id: attempt_rows(ledger, j.id) for j in same_jobs}
    paid = [j for j in same_jobs if not any(a.cache_hit for a in attempts[j.id])]
    served = [j for j in same_jobs if j not in paid]
    assert len(paid) == 1 and len(served) == 6
    assert paid[0].total_cost_usd > 0
    for job in served:
        (hit,) = attempts[job.id]
        assert hit.cache_hit and hit.cost_usd == Decimal(0) and hit.provider == "cache" and hit.outcome == "accepted"
        assert job.status == "done" and job.total_cost_usd == Decimal(0) and job.output == paid[0].output


def test_a_repeated_prompt_skips_the_router_and_another_tenant_gets_no_cached_answer(cluster, ledger, tmp_path):
    # Given a tenant without the response cache
    c = cluster(cache_config())
    c.start_workers([1, 2])
    # When it sends a prompt, then the same prompt with other case and spacing
    first = submit(c, write_lines(tmp_path / "a.jsonl", [{"custom_id": "a", "prompt": "Name  three Colours."}]), "beta")
    wait_final(ledger, first, timeout=60)
    second = submit(c, write_lines(tmp_path / "b.jsonl", [{"custom_id": "b", "prompt": "name three colours."}]), "beta")
    wait_final(ledger, second, timeout=60)
    # Then the second routing decision came from the cache, and the answer from a real call
    (one,), (two,) = job_rows(ledger, first), job_rows(ledger, second)
    assert not one.route_reason.startswith("cache:") and two.route_reason == f"cache:{one.route_reason}"
    assert not any(a.cache_hit for a in attempt_rows(ledger, two.id)) and two.total_cost_usd > 0
