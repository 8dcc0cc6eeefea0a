"""Offline evaluation: reading recorded outcomes, the threshold sweep, cost, RouteLLM's CPT / APGR, tuning."""

from __future__ import annotations

import csv
from decimal import Decimal
from pathlib import Path

import numpy as np
import pytest

from ladder.config import Prices
from ladder.errors import InputError
from ladder.offline import metrics
from ladder.offline.outcomes import CHARS_PER_TOKEN, Outcomes, iter_rows, read_outcomes
from ladder.offline.routers import fit_policy
from ladder.offline.tune import replay_thresholds, tune, write_settings

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "gsm8k_sample.csv"
CHEAP, TOP = "mistralai/Mixtral-8x7B-Instruct-v0.1", "gpt-4-1106-preview"
PRICES = {"cheap": Prices(input_per_1m=Decimal("1"), output_per_1m=Decimal("1")),
          "top": Prices(input_per_1m=Decimal("10"), output_per_1m=Decimal("30"))}


def write_csv(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    with path.open("w", newline="") as out:
        csv.writer(out).writerows([header, *rows])
    return path


def outcomes(correct: list[tuple[bool, bool]], prompt: str = "p" * 40) -> Outcomes:
    return Outcomes([prompt] * len(correct), ["cheap", "top"], np.array(correct, dtype=bool), None)


# --- reading files -----------------------------------------------------------------------------

def test_a_query_only_file_reads_without_responses(tmp_path):
    # Given a file with a prompt and two True/False model columns, no response columns
    path = write_csv(tmp_path / "q.csv", ["prompt", "a", "b"], [["x?", "True", "false"], ["y?", "0", "1"]])
    # When it is read
    data = read_outcomes(path)
    # Then the models come in file order, correctness is parsed and there are no responses
    assert data.models == ["a", "b"]
    assert data.correct.tolist() == [[True, False], [False, True]]
    assert data.responses is None and not data.has_responses(["a"])


@pytest.mark.parametrize("header, row, complaint", [
    (["question", "a"], ["x", "True"], "no 'prompt' column"),
    (["prompt", "a"], ["x", "maybe"], "must be True or False"),
    (["prompt", "b"], ["x", "True"], "not found"),
])
def test_a_bad_file_says_what_is_wrong(tmp_path, header, row, complaint):
    # Given a malformed outcomes file
    path = write_csv(tmp_path / "bad.csv", header, [row])
    # When it is read for model "a" / Then an InputError names the problem
    with pytest.raises(InputError, match=complaint):
        read_outcomes(path, ["a"])


def test_rows_stream_one_at_a_time():
    # Given the sample file / When its rows are iterated lazily
    rows = iter_rows(SAMPLE, [CHEAP])
    first = next(rows)
    # Then the first row comes with its response and correctness before the rest is read
    assert first.index == 0 and first.responses[CHEAP].strip() and isinstance(first.correct[CHEAP], bool)


def test_split_is_seeded_and_disjoint():
    # Given the sample / When it is split twice with one seed / Then the splits agree and do not overlap
    data = read_outcomes(SAMPLE, [CHEAP, TOP])
    train, test = data.split(0.5, seed=3)
    again, _ = data.split(0.5, seed=3)
    assert train.prompts == again.prompts
    assert len(train) + len(test) == len(data) and not set(train.prompts) & set(test.prompts)


# --- cost and the sweep ------------------------------------------------------------------------

def test_call_cost_uses_the_documented_chars_per_token_rule():
    # Given a query-only row whose prompt is 40 characters
    data = outcomes([(True, True)])
    # When its calls are costed
    costs = metrics.call_costs(data, PRICES)
    # Then the cost is that of 40 / CHARS_PER_TOKEN input tokens at each model's input price
    tokens = 40 // CHARS_PER_TOKEN
    assert Decimal(int(costs[0, 1])) * metrics.COST_UNIT == PRICES["top"].cost(tokens, 0, 0.0)


def test_a_cascade_pays_the_cheap_call_for_every_prompt_a_router_does_not():
    # Given two prompts, both sent to the top model (no value reaches the threshold)
    data = outcomes([(True, True), (False, True)])
    costs = metrics.call_costs(data, PRICES)
    values = np.array([[0.1], [0.2]])
    # When replayed as a router and as a cascade
    routed = metrics.replay(values, [0.9], data.correct, costs, cascade=False)
    cascaded = metrics.replay(values, [0.9], data.correct, costs, cascade=True)
    # Then the cascade also paid for both cheap attempts
    cheap_total = Decimal(int(costs[:, 0].sum())) * metrics.COST_UNIT
    assert routed.share_top == cascaded.share_top == 1.0
    assert cascaded.cost - routed.cost == cheap_total > 0


def test_the_sweep_runs_from_all_cheap_to_all_top():
    # Given four prompts and a cascade's confidences / When the threshold is swept
    data = outcomes([(True, True), (False, True), (False, False), (True, False)])
    points = metrics.sweep(np.array([[0.9], [0.2], [0.5], [0.7]]), data.correct, metrics.call_costs(data, PRICES), cascade=True)
    # Then the curve spans every prompt accepted cheaply to every prompt at the top, with their accuracies
    shares = [p.share_top for p in points]
    assert min(shares) == 0.0 and max(shares) == 1.0
    at_zero = next(p for p in points if p.share_top == 0.0)
    at_one = next(p for p in points if p.share_top == 1.0)
    assert at_zero.quality == data.correct[:, 0].mean() and at_one.quality == data.correct[:, 1].mean()


def linear_curve(weak: float, strong: float, steps: int = 11) -> list[metrics.Point]:
    """What a random router gives in expectation: quality rising linearly with the top share."""
    return [metrics.Point(0.0, s, weak + s * (strong - weak), Decimal(0)) for s in np.linspace(0, 1, steps)]


def test_cpt_and_apgr_of_a_linear_curve_match_routellm_definitions():
    # Given the expected curve of a random router between a weak 0.6 and a strong 0.9 model
    points = linear_curve(0.6, 0.9)
    # Then recovering x of the gap takes a share x of strong calls, and half the gap is recovered on average
    assert metrics.cpt(points, 0.6, 0.9, 0.5) == pytest.approx(0.5)
    assert metrics.cpt(points, 0.6, 0.9, 0.8) == pytest.approx(0.8)
    assert metrics.apgr(points, 0.6, 0.9) == pytest.approx(0.5)


def test_an_oracle_recovers_the_gap_with_the_fewest_top_calls():
    # Given prompts where the cheap model fails on a quarter that the top model gets right
    correct = [(False, True)] * 25 + [(True, True)] * 60 + [(True, False)] * 15
    data = outcomes(correct)
    # When the oracle's curve is swept
    policy = fit_policy("oracle", data, data, seed=0)
    points = metrics.sweep(policy.values, data.correct, metrics.call_costs(data, PRICES), cascade=False)
    # Then 80% of the gap needs 80% of those 25 prompts at the top, and never more than them
    weak, strong = data.correct[:, 0].mean(), data.correct[:, 1].mean()
    assert metrics.cpt(points, weak, strong, 0.8) <= 0.25
    assert metrics.summarise(points, data.correct, metrics.call_costs(data, PRICES))["apgr"] > 1.0


def test_pareto_front_keeps_only_undominated_points():
    # Given points of which (0.4, 2) and (0.7, 4) are beaten on both cost and quality / Then the front drops them
    p = [metrics.Point(0, 0, q, Decimal(c)) for q, c in [(0.5, 1), (0.4, 2), (0.7, 3), (0.7, 4), (0.8, 5)]]
    assert [(x.quality, int(x.cost)) for x in metrics.pareto_front(p)] == [(0.5, 1), (0.7, 3), (0.8, 5)]


def test_prices_parse_model_names_with_slashes():
    # Given a model name holding '/' / Then the price pair is split off the last '='
    prices = metrics.parse_prices("org/model-a=0.60/0.60,gpt-x=10/30")
    assert prices["org/model-a"].input_per_1m == Decimal("0.60") and prices["gpt-x"].output_per_1m == Decimal("30")
    with pytest.raises(InputError, match="MODEL=IN/OUT"):
        metrics.parse_prices("gpt-x=ten/thirty")


def test_unknown_models_need_prices(monkeypatch, tmp_path):
    # Given no config naming the model / Then its price must be given; the README's list prices are known
    monkeypatch.setenv("LADDER_CONFIG", str(tmp_path / "absent.yaml"))
    with pytest.raises(InputError, match="--prices"):
        metrics.prices_for(["no-such-model"], {})
    assert metrics.prices_for([CHEAP, TOP], {})[TOP] == metrics.LIST_PRICES[TOP]


# --- tuning ------------------------------------------------------------------------------------

def test_tuned_thresholds_replayed_meet_their_target(tmp_path):
    # Given the sample of recorded GSM8K outcomes, with answers
    data = read_outcomes(SAMPLE, [CHEAP, TOP])
    out = tmp_path / "thresholds.yaml"
    # When thresholds are tuned for 95% of the top model's quality
    tuning = tune(data, metrics.LIST_PRICES, out, target=0.95, train_fraction=0.5, seed=0)
    write_settings(tuning.settings, out)
    # Then replaying the written file on the split it was tuned on meets the target, at below all-top cost
    _, tuned_on = data.split(0.5, 0)
    point = replay_thresholds(out, tuned_on, metrics.LIST_PRICES)
    assert point.quality >= 0.95 * tuned_on.correct[:, 1].mean()
    assert point.cost <= tuning.all_top_cost
    assert point.share_top == pytest.approx(tuning.chosen.share_top)
