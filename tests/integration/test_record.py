"""Ledger writes on a real PostgreSQL: one charge per (job, tier, try), whatever happens."""

from decimal import Decimal

from sqlalchemy import func, insert, select

from ladder.ledger.schema import attempts, batches, jobs
from worker.decide import Accept, Escalate
from worker.record import AttemptRecord, claim, record_attempt, set_start_tier


def make_job(engine, prompt="p"):
    with engine.begin() as conn:
        batch = conn.execute(insert(batches).values(name="b", tenant="t", input_format="ladder").returning(batches.c.id)).scalar()
        return conn.execute(
            insert(jobs).values(batch_id=batch, custom_id="c", tenant="t", prompt=prompt, max_tokens=8).returning(jobs.c.id)
        ).scalar()


def test_a_redelivered_attempt_is_written_and_charged_once(ledger, ladder_env):
    # Given a routed job
    job = make_job(ledger)
    assert set_start_tier(job, 1, "default")
    attempt = AttemptRecord(job_id=job, tier=1, try_no=1, model="m", provider="instant", cost_usd=Decimal("0.0000012345"))
    # When the same attempt is recorded twice (a redelivered task)
    first = record_attempt(attempt, Escalate(1, 2, "low_confidence"))
    second = record_attempt(attempt, Escalate(1, 2, "low_confidence"))
    # Then one row, one charge, and the job moved to tier 2
    assert (first, second) == (True, False)
    with ledger.connect() as conn:
        assert conn.execute(select(func.count()).select_from(attempts)).scalar() == 1
        row = conn.execute(select(jobs).where(jobs.c.id == job)).first()
    assert row.total_cost_usd == Decimal("0.0000012345")
    assert (row.status, row.current_tier) == ("routed", 2)


def test_job_total_is_the_exact_sum_of_its_attempts(ledger, ladder_env):
    job = make_job(ledger)
    set_start_tier(job, 1, "default")
    record_attempt(AttemptRecord(job_id=job, tier=1, try_no=1, model="a", provider="x", cost_usd=Decimal("0.1")), Escalate(1, 2, "low_confidence"))
    record_attempt(AttemptRecord(job_id=job, tier=2, try_no=1, model="b", provider="x", cost_usd=Decimal("0.2"), output="ok", confidence=0.9), Accept(2))
    with ledger.connect() as conn:
        total = conn.execute(select(jobs.c.total_cost_usd, jobs.c.status, jobs.c.final_tier).where(jobs.c.id == job)).first()
        summed = conn.execute(select(func.sum(attempts.c.cost_usd)).where(attempts.c.job_id == job)).scalar()
    assert total == (Decimal("0.3"), "done", 2)
    assert summed == Decimal("0.3")  # float would give 0.30000000000000004


def test_claim_refuses_a_job_that_moved_on_or_is_final(ledger, ladder_env):
    job = make_job(ledger)
    set_start_tier(job, 1, "default")
    assert not set_start_tier(job, 3, "default"), "routing twice must not move a routed job"
    assert claim(job, 2) is None, "a message for another tier is stale"
    assert claim(job, 1).prompt == "p"
    record_attempt(AttemptRecord(job_id=job, tier=1, try_no=1, model="a", provider="x", output="y", confidence=1.0), Accept(1))
    assert claim(job, 1) is None
