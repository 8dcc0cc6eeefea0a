"""Platform ledger and cache writes on real PostgreSQL and Redis: one charge per member, one hit per job."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import func, insert, select

from ladder.config import parse_config
from ladder.ledger.schema import attempts, batches, jobs
from ladder.shared_state import reset_redis
from worker import cache
from worker.ensemble.ledger import begin_ensemble, record_member
from worker.record import AttemptRecord, record_cache_hit

CONFIG = parse_config({"tiers": [{"name": "a", "provider": "instant", "model": "m"}],
                       "tenants": {"acme": {"response_cache": True}}, "cache": {"lease_s": 30}})


def make_job(engine, prompt="p") -> int:
    with engine.begin() as conn:
        batch = conn.execute(insert(batches).values(name="b", tenant="acme", input_format="ladder").returning(batches.c.id)).scalar()
        return conn.execute(insert(jobs).values(batch_id=batch, custom_id="c", tenant="acme", prompt=prompt, max_tokens=8)
                            .returning(jobs.c.id)).scalar()


def test_each_member_is_its_own_attempt_and_a_redelivered_member_is_charged_once(ledger, ladder_env):
    # Given a job waiting for a two-member ensemble
    job = make_job(ledger)
    assert begin_ensemble(job, 1, experiment=None, arm=None, priority=0)
    one = AttemptRecord(job_id=job, tier=1, try_no=1, member=1, model="m", provider="instant", cost_usd=Decimal("0.1"), output="x")
    two = AttemptRecord(job_id=job, tier=1, try_no=1, member=2, model="m", provider="instant", cost_usd=Decimal("0.2"), output="x")
    # When member 1 is recorded, redelivered, and member 2 arrives
    counts = [record_member(one), record_member(one), record_member(two)]
    # Then the redelivery wrote nothing, the last member saw the full set, and the job paid each call once
    assert counts == [1, 0, 2]
    with ledger.connect() as conn:
        assert conn.execute(select(func.count()).select_from(attempts)).scalar() == 2
        assert conn.execute(select(jobs.c.total_cost_usd).where(jobs.c.id == job)).scalar() == Decimal("0.3")


def test_a_cache_hit_is_one_free_accepted_attempt_however_often_it_is_delivered(ledger, ladder_env):
    job = make_job(ledger)
    assert record_cache_hit(job, 2, "m2", "the answer", 0.9)
    assert not record_cache_hit(job, 2, "m2", "the answer", 0.9)
    with ledger.connect() as conn:
        (hit,) = conn.execute(select(attempts).where(attempts.c.job_id == job)).all()
        done = conn.execute(select(jobs).where(jobs.c.id == job)).one()
    assert (hit.cache_hit, hit.cost_usd, hit.outcome, hit.tier) == (True, Decimal(0), "accepted", 2)
    assert (done.status, done.output, done.total_cost_usd, done.final_tier) == ("done", "the answer", Decimal(0), 2)


def test_the_first_of_identical_prompts_leads_and_the_rest_wait_for_its_answer(ladder_env, redis_url):
    reset_redis()
    key = cache.answer_key("acme", None, 8, "an identical prompt")
    cache.get_redis().delete(key, key + ":lease")
    # Given job 1 took the lease
    assert cache.take_lease(CONFIG, key, 1)
    # Then job 2 waits, job 1's redelivery still leads, and a non-holder cannot release the lease
    assert not cache.take_lease(CONFIG, key, 2) and cache.take_lease(CONFIG, key, 1)
    cache.release_lease(key, 2)
    assert not cache.take_lease(CONFIG, key, 2)
    # When job 1's answer is remembered, the waiting job finds it
    cache.remember_answer(CONFIG, key, cache.CachedAnswer(1, "m", "hello", 0.8))
    assert cache.cached_answer(key) == cache.CachedAnswer(1, "m", "hello", 0.8)
    # And the same prompt for another tenant or with other case is another key
    assert cache.answer_key("other", None, 8, "an identical prompt") != key
    assert cache.answer_key("acme", None, 8, "An identical prompt") != key
    reset_redis()
