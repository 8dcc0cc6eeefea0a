"""The whole cascade on real parts: a GGUF model in tier 1, an OpenAI-compatible server in tier 2.

submit → route → tier1 (llama-cpp-python, token log-probs) → low confidence →
tier2 (openai client → llama_cpp.server over HTTP) → ledger.
"""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from sqlalchemy import text

pytestmark = pytest.mark.e2e

PROMPTS = [
    ("faq", "What is the return policy for unopened items? Answer in one sentence."),
    ("product_description", "Write a one-sentence product description for a stainless steel water bottle."),
    ("summary", "Summarise in one sentence: The meeting moved the launch to May because the supplier was late."),
    ("format_conversion", "Convert to title case: the quick brown fox jumps over the lazy dog"),
    ("faq", "How long does standard shipping take? Answer briefly."),
]


def two_tier_config(openai_url: str, threshold: float) -> dict:
    return {
        "tiers": [
            {"name": "tiny", "provider": "llama_cpp", "model": "smollm2-local", "threshold": threshold,
             "prices": {"machine_per_hour": "0.05"},
             "options": {"model_path": "SmolLM2-135M-Instruct.Q4_1.gguf", "n_threads": 1, "n_ctx": 1024}},
            {"name": "remote", "provider": "openai", "model": "smollm2-remote", "threshold": 0.0,
             "prices": {"input_per_1m": "10", "output_per_1m": "30"},
             "options": {"base_url": openai_url, "api_key_env": "LADDER_TEST_KEY", "mode": "chat", "logprobs": True}},
        ],
        "tenants": {"acme": {}},
        "limits": {"default_max_tokens": 24},
    }


def write_jobs(path, n):
    with path.open("w") as out:
        for i in range(n):
            task, prompt = PROMPTS[i % len(PROMPTS)]
            out.write(json.dumps({"custom_id": f"job-{i}", "prompt": f"{prompt} (#{i})", "max_tokens": 24, "task": task}) + "\n")
    return path


def test_unsure_tier1_answer_escalates_to_tier2_and_both_attempts_are_in_the_ledger(cluster, openai_server, ledger, tmp_path):
    # Given a tier 1 that trusts almost nothing (threshold 0.99) and a tier 2 behind the openai client
    c = cluster(two_tier_config(openai_server, threshold=0.99))
    c.start_workers([1, 2])
    # When a small batch is submitted and waited for
    result = c.ladder("submit", str(write_jobs(tmp_path / "jobs.jsonl", 3)), "--tenant", "acme", "--wait", "--timeout", "300")
    batch = int(result.stdout.strip().splitlines()[-1])
    # Then each job has a tier-1 attempt escalated for low confidence and a tier-2 attempt accepted
    with ledger.connect() as conn:
        rows = conn.execute(text(
            "select j.custom_id, a.tier, a.outcome, a.reason, a.confidence, a.provider, a.completion_tokens, a.cost_usd "
            "from attempts a join jobs j on j.id = a.job_id where j.batch_id = :b order by j.custom_id, a.tier"), {"b": batch}).all()
    by_job: dict[str, list] = {}
    for row in rows:
        by_job.setdefault(row.custom_id, []).append(row)
    assert len(by_job) == 3
    for job_rows in by_job.values():
        tier1, tier2 = job_rows
        assert (tier1.tier, tier1.outcome, tier1.reason, tier1.provider) == (1, "escalated", "low_confidence", "llama_cpp")
        assert 0.0 <= tier1.confidence < 0.99
        assert (tier2.tier, tier2.outcome, tier2.provider) == (2, "accepted", "openai")
        assert tier2.completion_tokens > 0 and tier2.cost_usd > 0


def test_fifty_jobs_all_final_costs_add_up_with_a_readable_summary(cluster, openai_server, ledger, tmp_path):
    # Given a realistic threshold, so that some jobs stay on tier 1 and some climb
    c = cluster(two_tier_config(openai_server, threshold=0.5))
    c.start_workers([1, 2])
    # When 50 jobs are submitted with --wait
    result = c.ladder("submit", str(write_jobs(tmp_path / "jobs.jsonl", 50)), "--tenant", "acme", "--name", "fifty",
                      "--wait", "--timeout", "900")
    batch = int(result.stdout.strip().splitlines()[-1])
    # Then every job is final, the batch total is the sum of its attempts, and some escalated
    with ledger.connect() as conn:
        counts = dict(conn.execute(text("select status, count(*) from jobs where batch_id = :b group by status"), {"b": batch}).all())
        job_total, attempt_total, escalated, per_call = conn.execute(text(
            "select (select sum(total_cost_usd) from jobs where batch_id = :b), sum(a.cost_usd), "
            "count(*) filter (where a.outcome = 'escalated'), count(*) = count(distinct (a.job_id, a.tier, a.try_no, a.member)) "
            "from attempts a join jobs j on j.id = a.job_id where j.batch_id = :b"), {"b": batch}).one()
    assert sum(counts.values()) == 50 and set(counts) <= {"done", "failed"}
    assert isinstance(job_total, Decimal) and job_total == attempt_total
    assert escalated >= 1 and per_call
    # And the summary on stderr names the tiers
    assert "tier" in result.stderr.lower()
    status = json.loads(c.ladder("status", str(batch), "--json").stdout)
    assert status["complete"] and status["jobs"] == 50
    exported = c.ladder("export", str(batch), "-o", str(tmp_path / "out.jsonl"))
    lines = [json.loads(line) for line in (tmp_path / "out.jsonl").read_text().splitlines()]
    assert len(lines) == 50 and all(line["attempts"] for line in lines), exported.stderr
