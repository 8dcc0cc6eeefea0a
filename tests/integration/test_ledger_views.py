"""The ledger's SQL views on a real PostgreSQL, against figures worked out by hand.

The ledger: three tiers (top tier 3) and five jobs.

    batch A (acme)    job 1: t1 accepted
                      job 2: t1 escalated (low_confidence) → t2 accepted
                      job 3: t1 escalated (error) → t2 try 1 failed, try 2 escalated (low_confidence) → t3 accepted
    batch B (globex)  job 4: t3 accepted (started there by a rule)
                      job 5: t1 escalated (low_confidence), tier 2 not run yet
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest
from sqlalchemy import insert, text

from ladder.config import parse_config
from ladder.ledger.schema import attempts, batches, jobs
from ladder.ledger.tiers import sync_tiers

pytestmark = pytest.mark.integration

CONFIG = parse_config({"tiers": [
    {"name": "tiny", "provider": "instant", "model": "m1", "prices": {"machine_per_hour": "0.05"}},
    {"name": "mid", "provider": "openai", "model": "m2", "prices": {"input_per_1m": "0.5", "output_per_1m": "1.5"}},
    {"name": "top", "provider": "openai", "model": "m3", "prices": {"input_per_1m": "10", "output_per_1m": "30"}},
]})
DAY_1 = datetime(2026, 11, 30, 10, tzinfo=timezone.utc)
DAY_2 = DAY_1 + timedelta(days=1)


@dataclass(frozen=True)
class Try:
    tier: int
    outcome: str
    reason: str | None = None
    try_no: int = 1
    prompt_tokens: int = 100
    completion_tokens: int = 20
    latency_ms: int = 500

    @property
    def cost(self) -> Decimal:
        prices = CONFIG.tier(self.tier).prices
        return prices.cost(self.prompt_tokens, self.completion_tokens, self.latency_ms / 1000)


JOB_TRIES = {
    1: [Try(1, "accepted", prompt_tokens=80, completion_tokens=12, latency_ms=300)],
    2: [Try(1, "escalated", "low_confidence"), Try(2, "accepted", prompt_tokens=110, completion_tokens=33)],
    3: [Try(1, "escalated", "error", completion_tokens=0), Try(2, "failed", try_no=1, completion_tokens=0),
        Try(2, "escalated", "low_confidence", try_no=2), Try(3, "accepted", prompt_tokens=120, completion_tokens=40)],
    4: [Try(3, "accepted", "rule", prompt_tokens=60, completion_tokens=25, latency_ms=900)],
    5: [Try(1, "escalated", "low_confidence")],
}
JOB_BATCH = {1: "A", 2: "A", 3: "A", 4: "B", 5: "B"}


@pytest.fixture()
def filled(ledger):
    with ledger.begin() as conn:
        sync_tiers(conn, CONFIG)
        batch_ids = {name: conn.execute(insert(batches).values(name=name, tenant=tenant, input_format="ladder")
                                        .returning(batches.c.id)).scalar()
                     for name, tenant in (("A", "acme"), ("B", "globex"))}
        for job, tries in JOB_TRIES.items():
            created = DAY_1 if job == 1 else DAY_2
            finished = job != 5
            conn.execute(insert(jobs).values(
                id=job, batch_id=batch_ids[JOB_BATCH[job]], custom_id=f"c{job}", tenant=_tenant(job),
                prompt="p", max_tokens=64, status="done" if finished else "routed", start_tier=tries[0].tier,
                final_tier=tries[-1].tier if finished else None, total_cost_usd=sum(t.cost for t in tries),
                created_at=created, finished_at=created + timedelta(seconds=job) if finished else None))
            for step, attempt in enumerate(tries):
                conn.execute(insert(attempts).values(
                    job_id=job, tier=attempt.tier, try_no=attempt.try_no, model="m", provider="p",
                    prompt_tokens=attempt.prompt_tokens, completion_tokens=attempt.completion_tokens,
                    cost_usd=attempt.cost, latency_ms=attempt.latency_ms, outcome=attempt.outcome,
                    reason=attempt.reason, created_at=created + timedelta(milliseconds=step)))
    return ledger


def _tenant(job: int) -> str:
    return "acme" if JOB_BATCH[job] == "A" else "globex"


def _rows(engine, sql: str) -> list:
    with engine.connect() as conn:
        return conn.execute(text(sql)).mappings().all()


def test_cost_by_tier_counts_outcomes_and_sums_cost_per_tier(filled):
    # When the per-tier view is read
    rows = {row["tier"]: row for row in _rows(filled, "select * from cost_by_tier")}
    # Then each tier's counts and exact cost match the attempts written
    for tier in (1, 2, 3):
        tries = [t for ts in JOB_TRIES.values() for t in ts if t.tier == tier]
        row = rows[tier]
        assert row["tier_name"] == CONFIG.tier(tier).name
        assert row["attempts"] == len(tries)
        assert row["jobs_reached"] == sum(t.try_no == 1 for t in tries)
        for outcome in ("accepted", "escalated", "failed"):
            assert row[outcome] == sum(t.outcome == outcome for t in tries)
        assert row["cost_usd"] == sum(t.cost for t in tries)
        assert row["prompt_tokens"] == sum(t.prompt_tokens for t in tries)
        assert row["p50_latency_ms"] <= row["p95_latency_ms"]


def test_cost_by_batch_totals_are_the_sum_of_their_attempts(filled):
    rows = {row["name"]: row for row in _rows(filled, "select * from cost_by_batch")}
    for name in ("A", "B"):
        batch_jobs = [job for job, batch in JOB_BATCH.items() if batch == name]
        assert rows[name]["cost_usd"] == sum(t.cost for job in batch_jobs for t in JOB_TRIES[job])
        assert rows[name]["jobs"] == len(batch_jobs)
        assert rows[name]["attempts"] == sum(len(JOB_TRIES[job]) for job in batch_jobs)
    assert (rows["B"]["done"], rows["B"]["in_flight"]) == (1, 1)


def test_cost_by_tenant_day_splits_spend_by_the_day_it_was_spent(filled):
    rows = {(row["tenant"], row["day"]): row for row in _rows(filled, "select * from cost_by_tenant_day")}
    assert set(rows) == {("acme", DAY_1.date()), ("acme", DAY_2.date()), ("globex", DAY_2.date())}
    assert rows[("acme", DAY_1.date())]["cost_usd"] == sum(t.cost for t in JOB_TRIES[1])
    assert rows[("acme", DAY_2.date())]["cost_usd"] == sum(t.cost for job in (2, 3) for t in JOB_TRIES[job])
    assert rows[("globex", DAY_2.date())]["jobs_finished"] == 1


def test_escalations_count_each_climb_by_tier_pair_and_reason(filled):
    # When the escalations view is read
    climbs = {(r["from_tier"], r["to_tier"], r["reason"]): r["jobs"] for r in _rows(filled, "select * from escalations")}
    # Then every move to another tier is counted once, a retry on the same tier is no climb,
    # and an escalation whose next tier has not run yet has no destination
    assert climbs == {
        (1, 2, "low_confidence"): 1,
        (1, 2, "error"): 1,
        (2, 3, "low_confidence"): 1,
        (1, None, "low_confidence"): 1,
    }


def test_savings_prices_each_kept_answer_at_the_top_tier(filled):
    top = CONFIG.tier(CONFIG.top_tier).prices
    # The kept answer of jobs 1 and 2 is priced at tier 3; job 3's came from tier 3: its real cost
    kept = {1: JOB_TRIES[1][0], 2: JOB_TRIES[2][1]}
    expected_baseline = sum(top.cost(t.prompt_tokens, t.completion_tokens, t.latency_ms / 1000) for t in kept.values())
    expected_baseline += JOB_TRIES[3][-1].cost
    actual = sum(t.cost for job in (1, 2, 3) for t in JOB_TRIES[job])
    rows = {row["name"]: row for row in _rows(filled, "select * from savings")}
    a = rows["A"]
    assert (a["finished_jobs"], a["top_tier"]) == (3, 3)
    assert a["actual_usd"] == actual
    assert a["baseline_usd"] == expected_baseline
    assert a["saving_usd"] == expected_baseline - actual
    assert a["cost_ratio"] == round(actual / expected_baseline, 6)
    assert rows["B"]["baseline_usd"] == JOB_TRIES[4][0].cost, "only the finished job 4 counts; it ran on the top tier"


def test_job_costs_agree_with_the_jobs_running_totals(filled):
    rows = _rows(filled, "select jc.job_id, jc.cost_usd, j.total_cost_usd, jc.attempts "
                         "from job_costs jc join jobs j on j.id = jc.job_id")
    assert len(rows) == len(JOB_TRIES)
    for row in rows:
        assert row["cost_usd"] == row["total_cost_usd"] == sum(t.cost for t in JOB_TRIES[row["job_id"]])
        assert row["attempts"] == len(JOB_TRIES[row["job_id"]])


def test_a_shrunk_config_leaves_no_stale_top_tier(filled):
    # Given the config loses its top tier
    two_tiers = parse_config({"tiers": [t.model_dump() for t in CONFIG.tiers[:2]]})
    with filled.begin() as conn:
        sync_tiers(conn, two_tiers)
    # Then the ledger prices its baseline at the new top, tier 2
    assert [r["tier"] for r in _rows(filled, "select tier from tiers order by tier")] == [1, 2]
    assert {r["top_tier"] for r in _rows(filled, "select top_tier from job_costs")} == {2}
