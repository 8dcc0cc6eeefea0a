"""Agreement between an accepted answer and its audit, the Wilson interval, the audit sample."""

from __future__ import annotations

import math
from types import SimpleNamespace

import pytest

from worker.audit import audit_policy, selected_for_audit
from worker.audit.accuracy import Z_95, agreement_rate, wilson_interval
from worker.audit.agreement import SIMILAR_ENOUGH, compare_answers, normalise, token_f1

LONG_A = "This stainless steel bottle keeps drinks cold for a full day and fits in any cup holder."
LONG_B = "A stainless steel bottle that keeps your drinks cold for a full day and fits any cup holder."
LONG_OTHER = "Our return policy allows unopened items to be sent back within thirty days for a refund."


@pytest.mark.parametrize("accepted, audit", [
    ("Paris.", "paris"),
    ("The answer is 42", "answer is 42"),
    ("  Positive!! ", "positive"),
    ("42", "42.0"),
])
def test_short_answers_that_differ_only_in_form_agree_exactly(accepted, audit):
    verdict = compare_answers(accepted, audit)
    assert (verdict.agree, verdict.method, verdict.score) == (True, "exact", 1.0)


@pytest.mark.parametrize("accepted, audit", [("Paris", "Lyon"), ("negative", "positive"), ("3.5", "35")])
def test_short_answers_with_different_content_disagree(accepted, audit):
    verdict = compare_answers(accepted, audit)
    assert (verdict.agree, verdict.method) == (False, "exact")


def test_long_answers_are_compared_by_word_overlap():
    # Given two phrasings of one description, and an unrelated answer
    same, different = compare_answers(LONG_A, LONG_B), compare_answers(LONG_A, LONG_OTHER)
    # Then the paraphrase agrees, the unrelated answer does not, both by token F1
    assert same.method == different.method == "token_f1"
    assert same.agree and same.score >= SIMILAR_ENOUGH
    assert not different.agree and different.score < SIMILAR_ENOUGH


def test_token_f1_is_the_harmonic_mean_of_overlap_precision_and_recall():
    a, b = normalise("red green blue"), normalise("red green yellow purple")
    precision, recall = 2 / 3, 2 / 4
    assert token_f1(a, b) == pytest.approx(2 * precision * recall / (precision + recall))
    assert token_f1(a, a) == 1.0 and token_f1(a, "") == 0.0


def test_a_judge_decides_long_answers_and_falls_back_to_overlap_without_a_verdict():
    # Given a judge that says "different" to a paraphrase, and one that cannot decide
    asked = []
    verdict = compare_answers(LONG_A, LONG_B, judge=lambda a, b: asked.append((a, b)) or 0.0)
    undecided = compare_answers(LONG_A, LONG_B, judge=lambda a, b: None)
    # Then the judge's word is final when given, token F1 decides otherwise
    assert asked == [(LONG_A, LONG_B)] and (verdict.agree, verdict.method) == (False, "judge")
    assert (undecided.agree, undecided.method) == (True, "token_f1")
    # And short answers never cost a judge call
    compare_answers("yes", "no", judge=lambda a, b: asked.append("short") or 1.0)
    assert "short" not in asked


@pytest.mark.parametrize("agreed, n", [(0, 5), (8, 10), (45, 50), (50, 50), (1, 1)])
def test_wilson_bounds_are_where_the_score_test_is_exactly_significant(agreed, n):
    # The Wilson interval is {p: |p̂ - p| <= z·sqrt(p(1-p)/n)}: at each bound inside (0, 1) equality holds.
    low, high = wilson_interval(agreed, n)
    p_hat = agreed / n
    assert 0.0 <= low <= p_hat <= high <= 1.0
    for bound in (low, high):
        if 0.0 < bound < 1.0:
            assert abs(p_hat - bound) == pytest.approx(Z_95 * math.sqrt(bound * (1 - bound) / n), rel=1e-9)


def test_no_audits_give_no_rate_and_the_widest_interval():
    rate = agreement_rate(0, 0)
    assert (rate.rate, rate.low, rate.high) == (None, 0.0, 1.0)


def test_the_audit_sample_is_deterministic_and_close_to_the_configured_share():
    # Given 20,000 consecutive job ids and a 2 % share
    ids, share = range(1, 20_001), 0.02
    chosen = [job_id for job_id in ids if selected_for_audit(job_id, share)]
    # Then the same ids are chosen every time, and their share is within 4 standard errors of 2 %
    assert chosen == [job_id for job_id in ids if selected_for_audit(job_id, share)]
    standard_error = math.sqrt(share * (1 - share) / len(ids))
    assert abs(len(chosen) / len(ids) - share) < 4 * standard_error
    assert not any(selected_for_audit(job_id, 0.0) for job_id in ids)


def test_the_audit_tier_top_is_the_configs_highest_tier():
    config = SimpleNamespace(top_tier=4, audit=SimpleNamespace(share=0.1, tier="top", judge=False))
    assert audit_policy(config).tier == 4
    assert audit_policy(SimpleNamespace(top_tier=4, audit=SimpleNamespace(share=0.1, tier=3, judge=True))).tier == 3
    # A config without an audit section audits 2 % on the top tier
    assert audit_policy(SimpleNamespace(top_tier=2)) == audit_policy(
        SimpleNamespace(top_tier=2, audit=SimpleNamespace(share=0.02, tier="top", judge=False)))


def test_the_audit_tiers_judge_reads_yes_or_no_and_keeps_the_bill_of_asking():
    from decimal import Decimal

    from ladder.config import Prices
    from worker.audit.task import AuditJudge
    from worker.providers.base import Generation

    class Replies:
        """A provider that answers from a list, as the audit tier would."""

        def __init__(self, *texts):
            self.texts, self.prompts = list(texts), []

        def generate(self, request):
            self.prompts.append(request.prompt)
            return Generation(text=self.texts.pop(0), prompt_tokens=100, completion_tokens=1, compute_seconds=0.0,
                              model="judge", token_logprobs=None, extra={})

    # Given a judge on a tier priced per token, that answers "Yes.", then "No", then rambles
    prices = Prices(input_per_1m=Decimal("10"), output_per_1m=Decimal("30"))
    provider = Replies("Yes.", " no", "Both answers are fine")
    judge = AuditJudge(provider, "Describe the bottle", prices)
    # When it judges three pairs
    verdicts = [judge(LONG_A, LONG_B), judge(LONG_A, LONG_OTHER), judge(LONG_A, LONG_B)]
    # Then it reads yes/no, gives no verdict otherwise, asked with both answers and the question, and billed each call
    assert verdicts == [1.0, 0.0, None]
    assert all("Describe the bottle" in p and LONG_A in p for p in provider.prompts)
    assert judge.cost_usd == 3 * prices.cost(100, 1, 0.0)
