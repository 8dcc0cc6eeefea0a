"""decide() is pure: every branch of the cascade, from facts alone."""

from worker.decide import Accept, Escalate, GiveUp, decide, next_tier


def test_confident_answer_is_accepted_where_it_is():
    assert decide(tier=1, top_tier=4, confidence=0.9, threshold=0.6) == Accept(1)


def test_answer_at_exactly_the_threshold_is_accepted():
    assert decide(tier=2, top_tier=4, confidence=0.6, threshold=0.6) == Accept(2)


def test_unsure_answer_climbs_one_rung():
    assert decide(tier=1, top_tier=4, confidence=0.2, threshold=0.6) == Escalate(1, 2, "low_confidence")


def test_unsure_answer_on_the_top_tier_is_final():
    assert decide(tier=4, top_tier=4, confidence=0.1, threshold=0.6) == GiveUp(4, "top_tier", keep_answer=True)


def test_failed_call_escalates_with_reason_error():
    assert decide(tier=2, top_tier=4, confidence=None, threshold=0.5, failed=True) == Escalate(2, 3, "error")


def test_failed_call_on_the_top_tier_fails_the_job():
    assert decide(tier=4, top_tier=4, confidence=0.99, threshold=0.5, failed=True) == GiveUp(4, "error", keep_answer=False)


def test_escalation_skips_tiers_the_tenant_may_not_use():
    assert decide(tier=1, top_tier=4, confidence=0.1, threshold=0.5, allowed={1, 3}) == Escalate(1, 3, "low_confidence")


def test_highest_allowed_tier_answer_is_final_even_below_the_top():
    decision = decide(tier=2, top_tier=4, confidence=0.1, threshold=0.5, allowed={1, 2})
    assert decision == GiveUp(2, "no_tier_left", keep_answer=True)


def test_next_tier_is_none_at_the_top():
    assert next_tier(4, 4) is None
    assert next_tier(1, 4) == 2
