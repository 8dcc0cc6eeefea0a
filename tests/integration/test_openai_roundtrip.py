"""An OpenAI Batch input file round-trips, on real Postgres, to output files the `openai` package parses."""

import json

import openai.types
import pytest
import redis
from click.testing import CliRunner
from openai.types.chat import ChatCompletion
from sqlalchemy import select

from ladder.cli.main import cli
from ladder.config import load_config
from ladder.ledger import export_openai
from ladder.ledger.schema import attempts, batches, jobs
from producer.submit import submit_file
from worker.decide import Accept, Escalate, GiveUp
from worker.record import AttemptRecord, record_attempt, set_start_tier

CONFIG = """
tiers:
  - {name: small, provider: instant, model: small-model}
  - {name: big, provider: instant, model: big-model}
tenants: {acme: {}, rival: {}}
"""


def request(custom_id, url="/v1/chat/completions", **body):
    return {"custom_id": custom_id, "method": "POST", "url": url, "body": {"model": "gpt-4o-mini", **body}}


INPUT = [
    request("accepted-low", messages=[{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Capital of France?"}],
            max_completion_tokens=16),
    request("escalated", messages=[{"role": "user", "content": "Prove that sqrt(2) is irrational."}], max_tokens=64),
    {"custom_id": "bad", "method": "POST", "url": "/v1/embeddings", "body": {"input": "x"}},
    request("completion", url="/v1/completions", prompt="Once upon a time", max_tokens=8),
    request("doomed", messages=[{"role": "user", "content": "An impossible request"}]),
]


@pytest.fixture()
def config_path(tmp_path, ladder_env):
    path = tmp_path / "ladder.yaml"
    path.write_text(CONFIG)
    ladder_env(path)
    return path


@pytest.fixture()
def submitted_batch(tmp_path, ledger, config_path, redis_url):
    """The INPUT file, submitted for tenant acme; the route messages are dropped (no worker runs here)."""
    path = tmp_path / "requests.jsonl"
    path.write_text("".join(json.dumps(line) + "\n" for line in INPUT))
    submitted = submit_file(path, load_config(config_path), tenant="acme")
    redis.Redis.from_url(redis_url).delete("route")
    return submitted


def answer(job_id, tier, model, prompt_tokens, completion_tokens, decision, output="an answer", error=None):
    record_attempt(AttemptRecord(job_id=job_id, tier=tier, try_no=1, model=model, provider="instant", prompt_tokens=prompt_tokens,
                                 completion_tokens=completion_tokens, confidence=0.9, output=output, error=error), decision)


def complete_the_jobs(engine, batch_id):
    """As the tier workers would: one accepted on tier 1, two after an escalation, one failed on the top tier."""
    with engine.connect() as conn:
        ids = dict(conn.execute(select(jobs.c.custom_id, jobs.c.id).where(jobs.c.batch_id == batch_id)).all())
    for job_id in ids.values():
        set_start_tier(job_id, 1, "test")
    answer(ids["accepted-low"], 1, "small-model", 21, 3, Accept(1), output="Paris.")
    for custom_id in ("escalated", "completion", "doomed"):
        answer(ids[custom_id], 1, "small-model", 30, 8, Escalate(1, 2, "low_confidence"))
    answer(ids["escalated"], 2, "big-model", 30, 57, Accept(2), output="Suppose sqrt(2) = p/q ...")
    answer(ids["completion"], 2, "big-model", 5, 8, Accept(2), output=" there was a kettle.")
    answer(ids["doomed"], 2, "big-model", 0, 0, GiveUp(2, "error", keep_answer=False), output=None,
           error="TierRejected: the model refused the request")


def final_attempts(engine, batch_id):
    with engine.connect() as conn:
        rows = conn.execute(
            select(jobs.c.custom_id, jobs.c.max_tokens, attempts.c.model, attempts.c.prompt_tokens, attempts.c.completion_tokens)
            .join(attempts, (attempts.c.job_id == jobs.c.id) & (attempts.c.tier == jobs.c.final_tier))
            .where(jobs.c.batch_id == batch_id)
        ).all()
    return {row.custom_id: row for row in rows}


def read_jsonl(path):
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_an_openai_batch_exports_to_openai_output_and_error_files(tmp_path, ledger, submitted_batch, monkeypatch):
    # Given an OpenAI Batch file submitted (one bad line rejected) whose jobs then ran, one failing,
    # and an export chunk smaller than the batch, so job details are fetched while the rows stream
    monkeypatch.setattr(export_openai, "_CHUNK", 2)
    batch_id = submitted_batch.batch_id
    assert [e.line_no for e in submitted_batch.errors] == [3]
    with ledger.connect() as conn:
        assert conn.execute(select(batches.c.input_format).where(batches.c.id == batch_id)).scalar() == "openai"
    complete_the_jobs(ledger, batch_id)
    # When it is exported
    out = tmp_path / "results.jsonl"
    result = CliRunner().invoke(cli, ["export", str(batch_id), "-o", str(out), "--tenant", "acme"])
    assert result.exit_code == 0, result.output
    # Then every answered job is an OpenAI Batch output line whose body the openai package parses
    outputs, errors = read_jsonl(out), read_jsonl(tmp_path / "results.errors.jsonl")
    ledger_final = final_attempts(ledger, batch_id)
    assert [line["custom_id"] for line in outputs] == ["accepted-low", "escalated", "completion"]
    for line in outputs:
        assert set(line) == {"id", "custom_id", "response", "error"} and line["error"] is None
        assert line["id"].startswith("batch_req_") and line["response"]["status_code"] == 200 and line["response"]["request_id"]
        body_type = openai.types.Completion if line["custom_id"] == "completion" else ChatCompletion
        body = body_type.model_validate(line["response"]["body"])
        final = ledger_final[line["custom_id"]]
        # ... naming the final tier's model, with the final attempt's real token counts
        assert body.model == final.model
        assert (body.usage.prompt_tokens, body.usage.completion_tokens) == (final.prompt_tokens, final.completion_tokens)
        assert body.usage.total_tokens == final.prompt_tokens + final.completion_tokens
        assert body.choices[0].finish_reason == ("length" if final.completion_tokens >= final.max_tokens else "stop")
    assert ChatCompletion.model_validate(outputs[0]["response"]["body"]).choices[0].message.content == "Paris."
    assert openai.types.Completion.model_validate(outputs[2]["response"]["body"]).choices[0].text == " there was a kettle."
    # And the failed job is in the error file, as the Batch API writes a request that could not run
    [failed] = errors
    assert (failed["custom_id"], failed["response"]) == ("doomed", None)
    error = openai.types.BatchError.model_validate(failed["error"])
    assert error.code == "job_failed" and "the model refused the request" in error.message and "big-model" in error.message


def test_a_job_still_running_is_reported_in_the_error_file_not_dropped(tmp_path, ledger, submitted_batch):
    out, errors_file = tmp_path / "partial.jsonl", tmp_path / "custom-errors.jsonl"
    result = CliRunner().invoke(cli, ["export", str(submitted_batch.batch_id), "-o", str(out), "--errors", str(errors_file)])
    assert result.exit_code == 0, result.output
    assert out.read_text() == ""
    assert {line["error"]["code"] for line in read_jsonl(errors_file)} == {"job_not_finished"}
    assert len(read_jsonl(errors_file)) == submitted_batch.job_count


@pytest.mark.parametrize("command", ["export", "status"])
def test_another_tenants_batch_is_answered_like_a_missing_one_and_nothing_is_written(tmp_path, ledger, submitted_batch, command):
    # Given acme's batch and a batch id that does not exist
    batch_id, missing = submitted_batch.batch_id, submitted_batch.batch_id + 1000
    runner, out = CliRunner(), tmp_path / "stolen.jsonl"
    extra = ["-o", str(out)] if command == "export" else []
    # When tenant rival asks for each
    theirs = runner.invoke(cli, [command, str(batch_id), "--tenant", "rival", *extra])
    nothing = runner.invoke(cli, [command, str(missing), "--tenant", "rival", *extra])
    # Then both are refused with the same words, and no file is created
    assert theirs.exit_code == nothing.exit_code == 2
    assert theirs.output.replace(str(batch_id), "N") == nothing.output.replace(str(missing), "N")
    assert f"no batch {batch_id} for tenant 'rival'" in theirs.output
    assert not out.exists() and not (tmp_path / "stolen.errors.jsonl").exists()
    # While the owner is answered
    assert runner.invoke(cli, [command, str(batch_id), "--tenant", "acme", *extra]).exit_code == 0


@pytest.mark.parametrize(
    "name, content, fmt, expected",
    [
        ("prompts.txt", "prompt,custom_id\nhello,a\n", [], "csv"),
        ("requests.jsonl", json.dumps(INPUT[0]) + "\n", [], "openai"),
        ("mislabelled.jsonl", "prompt\nhello\n", ["--format", "csv"], "csv"),
    ],
)
def test_submit_detects_or_is_told_the_format(tmp_path, ledger, config_path, redis_url, name, content, fmt, expected):
    path = tmp_path / name
    path.write_text(content)
    result = CliRunner().invoke(cli, ["submit", str(path), "--tenant", "acme", *fmt])
    redis.Redis.from_url(redis_url).delete("route")
    assert result.exit_code == 0, result.output
    batch_id = int(result.stdout.strip().splitlines()[-1])
    with ledger.connect() as conn:
        assert conn.execute(select(batches.c.input_format).where(batches.c.id == batch_id)).scalar() == expected
