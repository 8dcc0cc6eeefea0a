"""Confidence: geometric-mean token probability, vetoed by validators."""

import math

import pytest

from worker.providers.base import Generation, Request
from worker.score import confidence
from worker.score.logprob import geometric_mean_probability
from worker.tier.backoff import retry_delay


def gen(text, logprobs=None, **extra):
    return Generation(text=text, prompt_tokens=1, completion_tokens=1, compute_seconds=0, model="m",
                      token_logprobs=logprobs, extra=extra)


def test_geometric_mean_of_token_probabilities():
    assert geometric_mean_probability([math.log(0.5), math.log(0.5)]) == pytest.approx(0.5)
    assert geometric_mean_probability([math.log(0.9), math.log(0.1)]) == pytest.approx(0.3)


def test_no_tokens_means_no_confidence():
    assert geometric_mean_probability([]) == 0.0


@pytest.mark.parametrize("text", ["", "   ", "I'm sorry, I cannot help with that.", "As an AI, I can't"])
def test_empty_or_refusing_answers_score_zero_whatever_the_logprobs(text):
    assert confidence(Request("q", 8), gen(text, [0.0, 0.0])) == 0.0


def test_json_task_needs_parseable_json():
    assert confidence(Request("q", 8, task="json"), gen("{'a': 1}", [0.0])) == 0.0
    assert confidence(Request("q", 8, task="json"), gen('```json\n{"a": 1}\n```', [0.0])) == 1.0


def test_without_logprobs_the_provider_may_give_a_confidence():
    assert confidence(Request("q", 8), gen("fine", None, confidence=0.4)) == 0.4


def test_backoff_grows_and_honours_retry_after():
    import random

    rng = random.Random(0)
    assert all(retry_delay(0, rng=rng) <= 0.5 for _ in range(50))
    assert all(retry_delay(3, rng=rng) <= 4.0 for _ in range(50))
    assert retry_delay(0, retry_after=7, rng=rng) >= 7
    assert retry_delay(20, rng=rng) <= 60


def test_learned_scorer_is_a_second_opinion_beside_logprobs(tmp_path):
    # Given a scorer trained to trust answers that end in a number
    from ladder.config import Tier
    from worker.score.learned import LearnedScorer

    prompts = [f"What is {i} + {i}?" for i in range(40)]
    answers = [f"The answer is {2 * i}." if i % 2 else "I think maybe it is something" for i in range(40)]
    scorer = LearnedScorer.train(prompts, answers, [bool(i % 2) for i in range(40)])
    path = tmp_path / "scorer.json"
    scorer.save(path)
    tier = Tier(name="t", provider="instant", model="m", options={"scorer_path": str(path)})
    request = Request("What is 7 + 7?", 8)
    # When it scores a generation without log-probabilities, it decides alone
    alone = confidence(request, gen("The answer is 14."), tier)
    assert alone == pytest.approx(scorer.score(request.prompt, "The answer is 14."))
    # And beside log-probabilities, the two are averaged
    both = confidence(request, gen("The answer is 14.", [math.log(0.5)]), tier)
    assert both == pytest.approx((0.5 + alone) / 2)
