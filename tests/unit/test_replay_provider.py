"""The replay provider answers from a recorded-outcomes file, by prompt or by row number."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from ladder.config import Tier
from ladder.errors import ConfigError, TierRejected
from ladder.offline.outcomes import estimate_tokens, read_outcomes
from worker.providers import Request, create_provider

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "gsm8k_sample.csv"
CHEAP = "mistralai/Mixtral-8x7B-Instruct-v0.1"


def replay_tier(file: Path) -> Tier:
    return Tier(name="replayed", provider="replay", model=CHEAP, options={"file": str(file)})


@pytest.fixture(scope="module")
def recorded():
    return read_outcomes(SAMPLE, [CHEAP])


def test_a_recorded_prompt_gets_its_recorded_answer_and_correctness(recorded):
    # Given a replay tier on the sample file for the cheap model
    provider = create_provider(replay_tier(SAMPLE))
    # When the fifth recorded prompt is sent
    generation = provider.generate(Request(prompt=recorded.prompts[4], max_tokens=256))
    # Then the answer, its correctness and its token estimates are the recorded ones
    assert generation.text == recorded.responses[CHEAP][4]
    assert generation.extra == {"correct": bool(recorded.correct[4, 0])}
    assert generation.prompt_tokens == estimate_tokens(recorded.prompts[4])
    assert generation.completion_tokens == estimate_tokens(generation.text) > 0
    assert generation.model == CHEAP and generation.compute_seconds < 0.1


def test_a_row_number_custom_id_finds_a_reworded_prompt(recorded):
    # Given a prompt wrapped in a template, so its text no longer matches the file
    provider = create_provider(replay_tier(SAMPLE))
    # When its custom_id is the row number
    generation = provider.generate(Request(prompt=f"Question: {recorded.prompts[7]}", max_tokens=64, custom_id="7"))
    # Then row 7's answer comes back
    assert generation.text == recorded.responses[CHEAP][7]


def test_an_unknown_prompt_is_rejected_with_a_hint():
    # Given a prompt the file never recorded and a custom_id that is not a row number / Then the tier rejects it
    provider = create_provider(replay_tier(SAMPLE))
    with pytest.raises(TierRejected, match="no recorded answer"):
        provider.generate(Request(prompt="never recorded", max_tokens=8, custom_id="job-1"))


def test_a_query_only_file_replays_empty_answers_with_correctness(tmp_path):
    # Given a file without response columns, and a model column chosen through options.model
    path = tmp_path / "q.csv"
    with path.open("w", newline="") as out:
        csv.writer(out).writerows([["prompt", "small", "big"], ["2+2?", "False", "True"]])
    tier = Tier(name="replayed", provider="replay", model="big-v1", options={"file": str(path), "model": "big"})
    provider = create_provider(tier)
    # When the prompt is sent
    generation = provider.generate(Request(prompt="2+2?", max_tokens=8))
    # Then the answer is empty, costs no completion tokens, and carries the recorded correctness
    assert (generation.text, generation.completion_tokens, generation.extra) == ("", 0, {"correct": True})


@pytest.mark.parametrize("options, complaint", [({}, "options.file"), ({"file": "/no/such.csv"}, "cannot read"),
                                                ({"file": str(SAMPLE), "model": "nope"}, "not found")])
def test_a_misconfigured_replay_tier_fails_at_load(options, complaint):
    # Given a replay tier without a file, with an unreadable one, or naming a missing column / Then loading says so
    tier = Tier(name="replayed", provider="replay", model=CHEAP, options=options)
    with pytest.raises(ConfigError, match=complaint):
        create_provider(tier)
