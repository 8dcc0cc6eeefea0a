"""Pure fusion and decomposition: votes, pairwise agreement, outlines, merging, experiment statistics."""

from __future__ import annotations

from decimal import Decimal

from ladder.config import parse_config
from ladder.ledger.experiments import jobs_still_needed, mean_interval, wilson_interval
from worker.compose.plan import composite_rule, merge_sections, parse_headings
from worker.ensemble.vote import fuse

LONG_A = "The kettle boils a full litre of water in under three minutes and switches itself off when done."
LONG_B = "The kettle boils a full litre of water in under three minutes, then switches itself off when done."
LONG_C = "Our return policy lets you send back unopened items within thirty days for a full refund."


def test_short_answers_are_a_majority_vote_on_the_normalised_text():
    verdict = fuse(["Paris.", "paris", "Lyon"])
    assert (verdict.chosen, round(verdict.agreement, 3), verdict.method) == (0, 0.667, "vote")


def test_long_answers_win_by_how_many_others_agree_with_them():
    verdict = fuse([LONG_C, LONG_A, LONG_B])
    assert verdict.chosen in (1, 2) and round(verdict.agreement, 3) == 0.667 and verdict.method == "token_f1"


def test_a_judge_decides_long_answers_when_given():
    asked = []

    def judge(a: str, b: str) -> float:
        asked.append((a, b))
        return 0.0

    verdict = fuse([LONG_A, LONG_B], judge)
    assert verdict.method == "judge" and verdict.agreement == 0.5 and len(asked) == 1


def test_headings_come_from_the_outline_lines_without_bullets_or_repeats():
    outline = "1. Overview\n- Features:\n\n* **Pricing**\nfeatures\n2) Support\n"
    assert parse_headings(outline, limit=3) == ["Overview", "Features", "Pricing"]


def test_a_job_is_composite_by_task_keyword_or_its_own_metadata():
    cfg = parse_config({"tiers": [{"name": "a", "provider": "instant", "model": "m"}],
                        "composite": [{"name": "article", "tasks": ["article"], "keywords": ["long read"]}]})
    assert composite_rule(cfg, "x", "article", None).name == "article"
    assert composite_rule(cfg, "Write a LONG READ on tea", None, None).name == "article"
    assert composite_rule(cfg, "x", None, {"composite": True}) is not None
    assert composite_rule(cfg, "x", "faq", None) is None


def test_sections_merge_under_their_headings_in_order():
    assert merge_sections([("A", " one "), ("B", "two")]) == "## A\n\none\n\n## B\n\ntwo"


def test_statistics_of_the_arm_comparison():
    # Wilson's interval for 30 of 100 (textbook value: 0.219 to 0.396)
    interval = wilson_interval(30, 100)
    assert (round(interval.low, 3), round(interval.high, 3)) == (0.219, 0.396)
    # Money keeps its type through the interval
    cost = mean_interval(Decimal("0.002"), Decimal("0.001"), 100)
    assert isinstance(cost.low, Decimal) and cost.low < Decimal("0.002") < cost.high
    # 30% against 40% escalation needs about 353 jobs per arm at 5% / 80% power
    assert jobs_still_needed(0.21, 0.24, 0.1, have=0) in range(350, 360)
    assert jobs_still_needed(0.21, 0.24, 0.1, have=1000) == 0
    assert jobs_still_needed(0.1, 0.1, 0.0, have=50) is None
