"""Audits on a real PostgreSQL and Redis: re-run on the top tier, billed to the audit account, measured."""

from __future__ import annotations

from decimal import Decimal

import pytest
import yaml
from sqlalchemy import func, insert, select

from ladder.config import load_config
from ladder.ledger.schema import attempts, batches, jobs
from worker.audit import AUDIT_QUEUE, selected_for_audit
from worker.audit.accuracy import routing_accuracy, wilson_interval
from ladder.ledger.schema import audits

pytestmark = pytest.mark.integration

TOP_PRICES = {"input_per_1m": "10", "output_per_1m": "30"}


@pytest.fixture()
def instant_tiers(tmp_path, ladder_env):
    """Three instant tiers; the top one is priced like a flagship model."""
    path = tmp_path / "ladder.yaml"
    path.write_text(yaml.safe_dump({"tiers": [
        {"name": "tiny", "provider": "instant", "model": "i1", "threshold": 0.5},
        {"name": "small", "provider": "instant", "model": "i2", "threshold": 0.5},
        {"name": "top", "provider": "instant", "model": "i3", "threshold": 0.0, "prices": TOP_PRICES},
    ]}))
    ladder_env(path)
    yield load_config(path)
    from worker.tier.runtime import close_tier_provider

    close_tier_provider()


def instant_answer(prompt: str) -> str:
    # What worker/providers/instant.py answers: the top tier agrees with exactly this text.
    return f"instant answer to {len(prompt.split())} words"


def finished_jobs(engine, specs: list[tuple[int, str, bool]]) -> tuple[int, list[int]]:
    """A batch of done jobs, each (final tier, route reason, answer agrees with the top tier)."""
    with engine.begin() as conn:
        batch = conn.execute(insert(batches).values(name="audited", tenant="acme", input_format="ladder")
                             .returning(batches.c.id)).scalar()
        ids = []
        for i, (tier, reason, agrees) in enumerate(specs):
            prompt = f"question number {i} about the product catalogue"
            ids.append(conn.execute(insert(jobs).values(
                batch_id=batch, custom_id=f"job-{i}", tenant="acme", prompt=prompt, max_tokens=16, status="done",
                start_tier=tier, current_tier=tier, final_tier=tier, route_reason=reason,
                output=instant_answer(prompt) if agrees else "a different answer", total_cost_usd=Decimal("0.0000001000"),
            ).returning(jobs.c.id)).scalar())
    return batch, ids


SPECS = ([(1, "default", True)] * 5 + [(1, "default", False)] * 3 + [(1, "rule:code", True)] * 2
         + [(2, "rule:code", True)] * 4 + [(2, "rule:code", False)] + [(3, "rule:reasoning", True)])


def test_an_audited_batch_reports_routing_accuracy_per_tier_and_rule_with_an_interval(ledger, instant_tiers):
    from worker.audit.task import audit

    # Given a finished batch: answers accepted on tiers 1 and 2 (some wrong), and one from the top tier
    batch, ids = finished_jobs(ledger, SPECS)
    # When every job is audited
    results = [audit.apply(args=(job_id,)).get() for job_id in ids]
    # Then jobs below the top tier were re-run and judged, the top tier's own answer was not
    expected = ["agreed" if agrees else "disagreed" for tier, _, agrees in SPECS[:-1]] + ["skipped"]
    assert results == expected
    with ledger.connect() as conn:
        accuracy = routing_accuracy(conn, batch=batch)
    # And the accuracy per tier and per rule counts exactly those verdicts, with a Wilson 95 % interval
    for group, key_of in ((accuracy.by_tier, lambda s: s[0]), (accuracy.by_rule, lambda s: s[1])):
        audited_specs = SPECS[:-1]
        for key in {key_of(s) for s in audited_specs}:
            mine = [s for s in audited_specs if key_of(s) == key]
            agreed = sum(1 for s in mine if s[2])
            rate = group[key]
            assert (rate.audited, rate.agreed) == (len(mine), agreed)
            assert rate.rate == pytest.approx(agreed / len(mine))
            assert (rate.low, rate.high) == pytest.approx(wilson_interval(agreed, len(mine)))
            assert rate.low <= rate.rate <= rate.high
    assert 3 not in accuracy.by_tier and "rule:reasoning" not in accuracy.by_rule


def test_the_audit_is_billed_to_the_audit_account_only_and_once(ledger, instant_tiers):
    from worker.audit.task import audit

    # Given a job accepted on tier 1
    _, (job_id,) = finished_jobs(ledger, [(1, "default", True)])
    with ledger.connect() as conn:
        bill_before = conn.execute(select(jobs.c.total_cost_usd).where(jobs.c.id == job_id)).scalar()
    # When it is audited, and the audit message is delivered a second time
    first, second = audit.apply(args=(job_id,)).get(), audit.apply(args=(job_id,)).get()
    # Then one audit row priced at the top tier's rates, exactly, as NUMERIC
    with ledger.connect() as conn:
        rows = conn.execute(select(audits).where(audits.c.job_id == job_id)).all()
        bill_after = conn.execute(select(jobs.c.total_cost_usd).where(jobs.c.id == job_id)).scalar()
        attempt_rows = conn.execute(select(func.count()).select_from(attempts)).scalar()
    assert (first, second) == ("agreed", "skipped")
    (row,) = rows
    top = instant_tiers.tier(3)
    assert row.cost_usd == top.prices.cost(row.prompt_tokens, row.completion_tokens, 0.0) > 0
    assert isinstance(row.cost_usd, Decimal) and (row.tier_accepted, row.audit_tier, row.method) == (1, 3, "exact")
    # And the job's own bill and its attempts are untouched
    assert bill_after == bill_before and attempt_rows == 0


def test_only_hash_chosen_jobs_accepted_below_the_top_tier_are_sent_to_the_audit_queue(ledger, instant_tiers, redis_url):
    import redis

    from worker.audit.task import maybe_audit

    # Given enough jobs that a 2 % hash sample picks some, accepted on tier 1 or on the top tier
    _, ids = finished_jobs(ledger, [(1, "default", True)] * 300)
    client = redis.Redis.from_url(redis_url)
    client.delete(AUDIT_QUEUE)
    # When each acceptance asks for an audit, and the top tier's acceptances too
    sent = [job_id for job_id in ids if maybe_audit(job_id, accepted_tier=1)]
    top_sent = [job_id for job_id in ids if maybe_audit(job_id, accepted_tier=3)]
    # Then exactly the hash-chosen tier-1 jobs wait on the audit queue, none of the top tier's
    assert sent == [job_id for job_id in ids if selected_for_audit(job_id, 0.02)] and sent
    assert top_sent == []
    assert client.llen(AUDIT_QUEUE) == len(sent)
    client.delete(AUDIT_QUEUE)
