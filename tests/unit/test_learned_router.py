"""The learned router and the learned answer scorer: training, the JSON artifact, speed,
the live route task's use of it, and training from the ledger's own history."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from sqlalchemy import insert

from ladder.cli.main import cli
from ladder.config import parse_config
from ladder.errors import ConfigError
from ladder.ledger.schema import attempts, batches, jobs
from ladder.offline.outcomes import ledger_history, read_outcomes
from worker.route.choose import choose_start
from worker.route.learned import LearnedRouter
from worker.score.learned import LearnedScorer

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "gsm8k_sample.csv"
CHEAP, TOP = "mistralai/Mixtral-8x7B-Instruct-v0.1", "gpt-4-1106-preview"

EASY = ["Translate 'hello' to French.", "Say hi.", "What colour is the sky?", "Name a fruit.", "Spell cat."]
HARD = ["A train leaves at 3:15 pm going 84 km/h; another leaves at 4:05 pm at 112 km/h. When and where does "
        "the second catch up if the track is 640 km and both stop 12 minutes every 150 km?",
        "Compute the compound interest on $12,500 at 4.35% a year, compounded monthly, over 7 years and 3 months, "
        "after a 2.5% fee on each of 3 withdrawals of $1,200."]


def synthetic_history(n: int = 120) -> tuple[list[str], list[list[bool]]]:
    """Short plain requests succeed at tier 1; long multi-number problems do not."""
    rng = np.random.default_rng(0)
    prompts, successes = [], []
    for i in range(n):
        if i % 2:
            numbers = ", ".join(str(int(x)) for x in rng.integers(10, 9999, size=6))
            prompts.append(f"Given the quantities {numbers} and rates of {rng.integers(2, 40)}% per period, "
                           f"work out the total after {rng.integers(3, 20)} periods, step {i}.")
            successes.append([False])
        else:
            prompts.append(f"{EASY[i % len(EASY)]} (request {i})")
            successes.append([True])
    return prompts, successes


@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> Path:
    prompts, successes = synthetic_history()
    path = tmp_path_factory.mktemp("router") / "router.json"
    LearnedRouter.train(prompts, successes, tiers=[1, 4]).save(path)
    return path


def test_a_saved_router_predicts_like_the_trained_one(tmp_path):
    # Given a router trained on the sample's cheap-model outcomes
    data = read_outcomes(SAMPLE, [CHEAP, TOP])
    router = LearnedRouter.train(data.prompts, data.correct[:, :1].tolist(), tiers=[1, 2])
    # When it is saved as JSON and loaded again
    router.save(tmp_path / "r.json")
    loaded = LearnedRouter.load(tmp_path / "r.json")
    # Then its scores agree to the precision of the artifact, and tiers are the configured ones
    for prompt in data.prompts[:20]:
        assert loaded.score(prompt) == pytest.approx(router.score(prompt), abs=1e-4)
        assert loaded.predict_tier(prompt) in (1, 2)


def test_the_live_route_task_starts_a_hard_prompt_above_tier_1_and_an_easy_one_at_tier_1(trained):
    # Given a four-tier config whose routing uses the trained router (tiers 1 and 4) and no rules
    tier = {"provider": "instant", "model": "m"}
    config = parse_config({"tiers": [{"name": f"t{i}", **tier} for i in range(1, 5)],
                           "routing": {"router": "learned", "router_path": str(trained)}})
    # When the route step chooses the starting tiers
    hard = [choose_start(config, p, None, "default") for p in HARD]
    easy = choose_start(config, "Say hello in Spanish.", None, "default")
    # Then the hard prompts skip tier 1 and the easy one starts there
    assert all(choice.tier > 1 and choice.reason == "learned" for choice in hard)
    assert easy.tier == 1


def test_routing_adds_well_under_5_ms_per_job(trained):
    # Given the trained router loaded as the route task loads it
    router = LearnedRouter.load(trained)
    prompts = read_outcomes(SAMPLE, [CHEAP]).prompts
    # When every sample prompt is routed, one at a time, timing the CPU the process spends
    # (wall time on a shared CI machine also counts whoever else holds the cores)
    seconds = []
    for prompt in prompts:
        started = time.process_time()
        router.predict_tier(prompt)
        seconds.append(time.process_time() - started)
    # Then the 95th percentile stays below 5 ms
    assert np.percentile(seconds, 95) < 0.005


def test_a_wrong_artifact_is_refused_with_a_hint(tmp_path):
    (tmp_path / "scorer.json").write_text('{"format": "ladder-linear/1", "kind": "scorer"}')
    with pytest.raises(ConfigError, match="not a learned router"):
        LearnedRouter.load(tmp_path / "scorer.json")
    with pytest.raises(ConfigError, match="train-router"):
        LearnedRouter.load(tmp_path / "missing.json")


def test_the_scorer_prefers_a_checked_answer_to_a_hedged_wrong_one(tmp_path):
    # Given a scorer trained on the sample's recorded cheap answers and saved
    data = read_outcomes(SAMPLE, [CHEAP, TOP])
    LearnedScorer.train(data.prompts, data.responses[CHEAP], data.correct[:, 0]).save(tmp_path / "s.json")
    scorer = LearnedScorer.load(tmp_path / "s.json")
    prompt = "Tom has 3 boxes of 12 pens and gives away 5 pens. How many pens does he have left?"
    clean = "Tom has 3 * 12 = 36 pens.\nHe gives away 5, so 36 - 5 = 31 pens are left.\n#### 31"
    shaky = "I think Tom has 3 * 12 = 38 pens, but I am not sure. Maybe he has approximately 33.5 left, however"
    # Then the arithmetic that holds and ends with a clear result scores higher
    assert 0.0 <= scorer.score(prompt, shaky) < scorer.score(prompt, clean) <= 1.0


def insert_job(conn, batch_id: int, custom_id: str, prompt: str, visits: list[tuple[int, str]]) -> None:
    job_id = conn.execute(insert(jobs).values(batch_id=batch_id, custom_id=custom_id, tenant="t", prompt=prompt,
                                              max_tokens=16, status="done").returning(jobs.c.id)).scalar_one()
    for tier, outcome in visits:
        conn.execute(insert(attempts).values(job_id=job_id, tier=tier, model="m", provider="instant", outcome=outcome))


@pytest.mark.integration
def test_train_router_from_the_ledger_labels_the_lowest_accepted_tier(ledger, monkeypatch, tmp_path):
    # Given ledger history: easy jobs accepted at tier 1, hard ones escalated from 1 and accepted at 2,
    # and one job that started at tier 2 (its tier-1 outcome is unknown)
    prompts, successes = synthetic_history(60)
    with ledger.begin() as conn:
        batch_id = conn.execute(insert(batches).values(name="b", tenant="t", input_format="jsonl")
                                .returning(batches.c.id)).scalar_one()
        for i, (prompt, (ok,)) in enumerate(zip(prompts, successes)):
            insert_job(conn, batch_id, f"job-{i}", prompt, [(1, "accepted")] if ok else [(1, "escalated"), (2, "accepted")])
        insert_job(conn, batch_id, "job-high", "started high", [(2, "accepted")])
    # When the labels are read and `ladder train-router --from-ledger` trains on them
    history = ledger_history(ledger)
    monkeypatch.setenv("LADDER_DATABASE_URL", ledger.url.render_as_string(hide_password=False))
    from ladder.ledger import db
    from ladder.settings import get_settings

    get_settings.cache_clear()
    db.dispose_engine()
    result = CliRunner().invoke(cli, ["train-router", "--from-ledger", "-o", str(tmp_path / "r.json")])
    db.dispose_engine()
    get_settings.cache_clear()
    # Then labels follow the lowest accepted tier, unknown below the start, and the router learned them
    assert history.tiers == [1, 2]
    assert history.successes[history.prompts.index("started high")] == [None, True]
    assert [row[0] for row in history.successes[:60]] == [row[0] for row in successes]
    assert result.exit_code == 0, result.output
    router = LearnedRouter.load(tmp_path / "r.json")
    assert router.tiers == [1, 2]
    assert router.predict_tier(HARD[1]) == 2 and router.predict_tier("Say hello in Spanish.") == 1
