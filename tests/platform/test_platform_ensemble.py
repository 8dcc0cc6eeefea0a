"""Ensembles on real workers: every member an attempt, agreement accepts low, disagreement escalates."""

from __future__ import annotations

from tests.faults.kit import instant_tiers, wait_final
from tests.platform.kit import attempt_rows, job_rows, submit, write_lines

QUESTIONS = ["What is the capital of France? Answer with one word.",
             "Name a primary colour. One word.",
             "Is ice cold or hot? One word."]


def test_members_that_agree_are_accepted_at_their_tier_with_agreement_as_confidence(cluster, ledger, tmp_path):
    # Given critical jobs answered by two samples of tier 1 (a deterministic provider: they agree)
    config = {"tiers": instant_tiers(2, escalate_share=0.0), "ensemble": {"tasks": ["critical"], "members": [1, 1]}}
    c = cluster(config)
    c.start_workers([1, 2], concurrency=2)
    batch = submit(c, write_lines(tmp_path / "a.jsonl", [{"custom_id": f"q{i}", "prompt": q, "task": "critical"}
                                                          for i, q in enumerate(QUESTIONS)]))
    assert wait_final(ledger, batch, timeout=60)["unfinished"] == 0
    for job in job_rows(ledger, batch):
        attempts = sorted(attempt_rows(ledger, job.id), key=lambda a: a.member)
        # Then each member call is its own attempt row, both accepted, and the job stays on tier 1
        assert [(a.tier, a.member, a.outcome) for a in attempts] == [(1, 1, "accepted"), (1, 2, "accepted")]
        assert job.status == "done" and job.final_tier == 1 and job.confidence == 1.0
        assert job.total_cost_usd == sum(a.cost_usd for a in attempts) > 0


def test_members_that_disagree_escalate_the_job_up_the_cascade(cluster, ledger, tmp_path):
    # Given two different real models as members (SmolLM2 chat and Gemma 3 base) and a top tier above them
    tiers = [
        {"name": "smol", "provider": "llama_cpp", "model": "smollm2", "threshold": 0.5, "prices": {"machine_per_hour": "0.05"},
         "options": {"model_path": "SmolLM2-135M-Instruct.Q4_1.gguf", "n_threads": 1, "n_ctx": 512, "prompt_style": "chat"}},
        {"name": "gemma", "provider": "llama_cpp", "model": "gemma3-270m", "threshold": 0.5, "prices": {"machine_per_hour": "0.10"},
         "options": {"model_path": "gemma-3-270m-q4_k_m.gguf", "n_threads": 1, "n_ctx": 512, "prompt_style": "completion"}},
        instant_tiers(3)[2] | {"name": "top"},
    ]
    c = cluster({"tiers": tiers, "ensemble": {"tasks": ["critical"], "members": [1, 2], "min_agreement": 1.0},
                 "limits": {"default_max_tokens": 8}})
    c.start_workers([1, 2, 3])
    batch = submit(c, write_lines(tmp_path / "q.jsonl", [{"custom_id": f"q{i}", "prompt": q, "task": "critical",
                                                          "max_tokens": 8} for i, q in enumerate(QUESTIONS)]))
    assert wait_final(ledger, batch, timeout=300)["unfinished"] == 0
    escalated = 0
    for job in job_rows(ledger, batch):
        attempts = sorted(attempt_rows(ledger, job.id), key=lambda a: (a.member == 0, a.member))
        members = [a for a in attempts if a.member >= 1]
        # Then both models answered, each as an attempt on its own tier, and the bill is all of them
        assert [(a.tier, a.member) for a in members] == [(1, 1), (2, 2)] and all(a.output for a in members)
        assert job.total_cost_usd == sum(a.cost_usd for a in attempts)
        if job.confidence < 1.0:
            # Disagreement: the members are marked escalated and the top tier gave the answer
            escalated += 1
            assert {a.outcome for a in members} == {"escalated"} and {a.reason for a in members} == {"disagreement"}
            assert job.final_tier == 3 and [a.tier for a in attempts if a.member == 0] == [3]
        else:
            assert job.final_tier in (1, 2) and {a.outcome for a in members} == {"accepted"}
    # And two different small models disagreed on at least one question
    assert escalated >= 1
