"""The report's arithmetic on Decimals, the Pareto front, and the JSON's exactness."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from ladder.errors import InputError
from ladder.ledger.plot import load_sweep
from ladder.ledger.report import Report, TierLine, _significant, ratio, to_json


def a_report(baseline: str | None = "1.2000000000") -> Report:
    # 10 finished jobs: 6 on tier 1, 3 on tier 2, 1 on tier 3; costs that do not divide evenly
    lines = (
        TierLine(1, "tiny", jobs_finished=6, cost_usd=Decimal("0.0000000007"), jobs_reached=10, jobs_escalated=4),
        TierLine(2, "mid", jobs_finished=3, cost_usd=Decimal("0.0100000001"), jobs_reached=4, jobs_escalated=1),
        TierLine(3, "top", jobs_finished=1, jobs_failed=1, cost_usd=Decimal("0.1234567891"), jobs_reached=1),
    )
    finished = sum(line.cost_usd for line in lines)
    return Report(jobs=12, jobs_finished=10, total_cost_usd=finished + Decimal("0.5"), finished_cost_usd=finished,
                  baseline_usd=None if baseline is None else Decimal(baseline), top_tier=3, tiers=lines)


def test_shares_sum_to_one_and_sigma_p_c_is_the_mean_finished_cost():
    report = a_report()
    assert sum(report.share(line) for line in report.tiers) == 1
    assert report.expected_cost_usd.quantize(Decimal("1e-20")) == (report.finished_cost_usd / 10).quantize(Decimal("1e-20"))


def test_mean_cost_and_escalation_rate_per_tier():
    tiny = a_report().tiers[0]
    assert tiny.mean_cost_usd == Decimal("0.0000000007") / 6
    assert tiny.escalation_rate == Decimal("0.4")


def test_saving_is_the_baseline_minus_what_was_spent_on_finished_jobs():
    report = a_report()
    assert report.saving_usd == Decimal("1.2") - report.finished_cost_usd
    assert report.saving_ratio == report.saving_usd / Decimal("1.2")
    assert report.baseline_per_job_usd == Decimal("0.12")


def test_without_a_baseline_or_finished_jobs_the_derived_figures_are_unknown():
    assert a_report(baseline=None).saving_ratio is None
    empty = Report(jobs=0, jobs_finished=0, total_cost_usd=Decimal(0), finished_cost_usd=Decimal(0),
                   baseline_usd=Decimal(0), top_tier=None)
    assert (empty.expected_cost_usd, empty.baseline_per_job_usd, empty.saving_ratio) == (None, None, None)
    assert ratio(Decimal(1), 0) is None


def test_json_money_is_exact_decimal_strings():
    report = a_report()
    document = json.loads(to_json(report))
    assert Decimal(document["finished_cost_usd"]) == report.finished_cost_usd
    assert Decimal(document["total_cost_usd"]) == report.total_cost_usd
    assert document["tiers"][2]["cost_usd"] == "0.1234567891"
    assert document["jobs_in_flight"] == 2


@pytest.mark.parametrize("value, shown", [
    (Decimal("0.0000042460"), "0.00000425"),
    (Decimal("0.00387"), "0.00387"),
    (Decimal("12.3456"), "12.3"),
    (Decimal("0"), "0"),
])
def test_per_job_costs_keep_three_significant_digits(value, shown):
    assert _significant(value) == shown


def test_a_malformed_sweep_file_says_what_is_expected(tmp_path):
    bad = tmp_path / "sweep.json"
    bad.write_text(json.dumps([{"cost": 1.0}]))
    with pytest.raises(InputError, match="cost, quality, threshold"):
        load_sweep(bad)
