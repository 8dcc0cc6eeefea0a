"""`ladder eval` and `ladder tune` through the real command line on RouteLLM's recorded GSM8K outcomes.

The figures checked are the issue's targets with tolerances: a random router
needs about 0.80 of prompts at GPT-4 for 95% of its accuracy, the oracle about
0.18; the routers that learn must sit between them.
"""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import pytest

from ladder.offline.metrics import LIST_PRICES
from ladder.offline.outcomes import read_outcomes
from ladder.offline.tune import replay_thresholds

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
# CI copies shared/ beside the clone.
GSM8K = ROOT.parent / "shared" / "data" / "routellm" / "gsm8k_responses.csv"
MODELS = "mistralai/Mixtral-8x7B-Instruct-v0.1,gpt-4-1106-preview"
KEYS = {"router", "n_train", "n_test", "accuracy", "top_share_at_95", "cost_ratio_at_95", "cpt50", "cpt80", "apgr"}


def ladder(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "ladder.cli.main", *args], capture_output=True, text=True,
                          timeout=900, cwd=cwd)


def evaluate(file: Path, router: str) -> dict:
    result = ladder("eval", str(file), "--models", MODELS, "--router", router, "--seed", "0", "--train-fraction", "0.5", "--json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


@pytest.fixture(scope="module")
def gsm8k() -> Path:
    assert GSM8K.is_file(), f"{GSM8K} is missing: the shared data directory must sit beside the repository"
    return GSM8K


@pytest.fixture(scope="module")
def query_only(gsm8k, tmp_path_factory) -> Path:
    """The same outcomes with every '<model>_response' column dropped."""
    path = tmp_path_factory.mktemp("query-only") / "gsm8k_query_only.csv"
    with gsm8k.open(newline="") as source, path.open("w", newline="") as target:
        reader = csv.DictReader(source)
        keep = [c for c in reader.fieldnames if not c.endswith("_response")]
        writer = csv.DictWriter(target, fieldnames=keep, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(reader)
    return path


@pytest.fixture(scope="module")
def every_router(gsm8k) -> dict[str, dict]:
    result = ladder("eval", str(gsm8k), "--models", MODELS, "--router", "all", "--seed", "0", "--train-fraction", "0.5", "--json")
    assert result.returncode == 0, result.stderr
    return {r["router"]: r for r in json.loads(result.stdout)["results"]}


def test_eval_prints_every_figure_for_every_router(every_router):
    # Given `ladder eval --router all --json` on the GSM8K file
    # Then each router reports every key, on a half / half split, with both models' test accuracy
    assert set(every_router) == {"random", "oracle", "learned", "cascade"}
    for name, figures in every_router.items():
        assert KEYS <= set(figures), name
        assert figures["n_train"] + figures["n_test"] == 1319 and abs(figures["n_train"] - figures["n_test"]) <= 1
        assert set(figures["accuracy"]) == set(MODELS.split(","))


def test_the_figures_order_the_routers_sensibly(every_router):
    # Given every router's figures on the same seed-0 split
    random, oracle, learned, cascade = (every_router[n] for n in ("random", "oracle", "learned", "cascade"))
    # Then the baselines land where the issue says: random about 0.80 at GPT-4, the oracle about 0.18
    assert random["top_share_at_95"] == pytest.approx(0.80, abs=0.08)
    assert oracle["top_share_at_95"] == pytest.approx(0.18, abs=0.04)
    # And the learned routers sit between the oracle and (within noise) random
    for learned_router in (learned, cascade):
        assert oracle["top_share_at_95"] < learned_router["top_share_at_95"] <= random["top_share_at_95"] + 0.05
    # And the cascade, which reads the cheap answer, beats prompt-only routing on cost
    assert cascade["cost_ratio_at_95"] < learned["cost_ratio_at_95"]
    assert 0 < oracle["cpt50"] < oracle["cpt80"] < random["cpt80"] and oracle["apgr"] > cascade["apgr"] > random["apgr"] - 0.05


def test_one_router_prints_one_json_object(gsm8k):
    # Given one named router / When evaluated with --json / Then stdout is that router's one JSON object
    figures = evaluate(gsm8k, "oracle")
    assert figures["router"] == "oracle" and KEYS <= set(figures)


@pytest.mark.parametrize("router", ["random", "oracle", "learned"])
def test_a_query_only_file_works_for_routers_that_read_only_the_prompt(query_only, every_router, router):
    # Given the file without response columns / When evaluated / Then the same split gives the same test accuracy
    figures = evaluate(query_only, router)
    assert KEYS <= set(figures) and figures["accuracy"] == every_router[router]["accuracy"]
    assert 0 < figures["top_share_at_95"] <= 1 and 0 < figures["cost_ratio_at_95"] <= 1


def test_the_cascade_on_a_query_only_file_says_what_to_use_instead(query_only):
    # Given a file without answers / When the cascade is asked for / Then it fails, naming a router that works
    result = ladder("eval", str(query_only), "--models", MODELS, "--router", "cascade", "--json")
    assert result.returncode == 2 and "query-only" in result.stderr and "--router learned" in result.stderr


def test_tuned_thresholds_meet_their_target_when_replayed(gsm8k, tmp_path):
    # Given `ladder tune` on GSM8K for 95% of GPT-4's quality, with a sweep file and a plot
    out = tmp_path / "thresholds.yaml"
    result = ladder("tune", str(gsm8k), "--models", MODELS, "--target", "0.95", "--out", str(out),
                    "--sweep", str(tmp_path / "sweep.json"), "--plot", str(tmp_path / "front.png"), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    # When the written thresholds are replayed on the split they were tuned on
    _, tuned_on = read_outcomes(gsm8k, MODELS.split(",")).split(0.5, 0)
    point = replay_thresholds(out, tuned_on, LIST_PRICES)
    # Then they reach the target, and the sweep and the plot were written
    assert point.quality >= 0.95 * tuned_on.correct[:, -1].mean()
    sweep = json.loads((tmp_path / "sweep.json").read_text())
    assert {"threshold", "share_top", "quality", "cost"} <= set(sweep[0]) and len(sweep) > 10
    assert (tmp_path / "front.png").read_bytes()[:4] == b"\x89PNG"
