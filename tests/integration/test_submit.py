"""Submitting writes the batch to Postgres first, then one route message per job to Redis."""

import json

import pytest
import redis
from sqlalchemy import select

from ladder.config import parse_config
from ladder.errors import InputError
from ladder.ledger.schema import batches, jobs
from producer.submit import submit_file

CONFIG = parse_config({"tiers": [{"name": "a", "provider": "instant", "model": "m"}], "tenants": {"acme": {}}})


def write(tmp_path, rows):
    path = tmp_path / "jobs.jsonl"
    path.write_text("\n".join(r if isinstance(r, str) else json.dumps(r) for r in rows) + "\n")
    return path


def test_good_lines_are_stored_and_enqueued_bad_ones_reported(tmp_path, ledger, ladder_env, redis_url):
    # Given a file with two good lines around a bad one
    path = write(tmp_path, [{"custom_id": "a", "prompt": "one", "metadata": {"k": 1}}, "{oops", {"custom_id": "b", "prompt": "two", "task": "faq"}])
    # When it is submitted
    submitted = submit_file(path, CONFIG, tenant="acme", name="spring")
    # Then the batch and both jobs are in the ledger, queued, and one message per job waits in `route`
    assert submitted.job_count == 2 and [e.line_no for e in submitted.errors] == [2]
    with ledger.connect() as conn:
        batch = conn.execute(select(batches)).one()
        rows = conn.execute(select(jobs).order_by(jobs.c.line_no)).all()
    assert (batch.name, batch.tenant, batch.job_count, batch.rejected_lines) == ("spring", "acme", 2, 1)
    assert [(r.custom_id, r.status, r.line_no, r.metadata, r.task) for r in rows] == [
        ("a", "queued", 1, {"k": 1}, None), ("b", "queued", 3, None, "faq")]
    assert redis.Redis.from_url(redis_url).llen("route") == 2
    redis.Redis.from_url(redis_url).delete("route")


def test_unknown_tenant_is_refused_before_anything_is_written(tmp_path, ledger, ladder_env):
    with pytest.raises(InputError, match="unknown tenant 'nobody'"):
        submit_file(write(tmp_path, [{"prompt": "x"}]), CONFIG, tenant="nobody")
    with ledger.connect() as conn:
        assert conn.execute(select(batches)).first() is None


def test_a_file_of_only_bad_lines_writes_nothing(tmp_path, ledger, ladder_env):
    with pytest.raises(InputError, match="no valid line"):
        submit_file(write(tmp_path, ["nope", "{}"]), CONFIG, tenant="acme")
    with ledger.connect() as conn:
        assert conn.execute(select(batches)).first() is None
