"""``ladder report`` against sums computed directly in SQL over ``attempts``.

The ledger is random (seeded) but every cost is an exact 10-place decimal of
up to a few dollars, so an error of a cent, or of the last digit, shows.
"""

from __future__ import annotations

import json
import random
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest
from click.testing import CliRunner
from sqlalchemy import insert, text

from ladder.cli.report import report
from ladder.config import parse_config
from ladder.ledger.schema import attempts, batches, jobs
from ladder.ledger.tiers import sync_tiers

pytestmark = pytest.mark.integration

CONFIG = parse_config({"tiers": [
    {"name": f"t{n}", "provider": "instant", "model": f"m{n}", "prices": {"input_per_1m": n * n, "output_per_1m": 3 * n * n}}
    for n in (1, 2, 3, 4)
]})
START = datetime(2026, 11, 20, tzinfo=timezone.utc)
LAST_DIGIT = Decimal("0.0000000001")


def fill(engine, seed: int = 4) -> dict[str, int]:
    """Two batches of random jobs climbing 1-4 tiers; a few still running. Returns the batch ids."""
    rng = random.Random(seed)
    with engine.begin() as conn:
        sync_tiers(conn, CONFIG)
        ids = {}
        for name, tenant, day in (("first", "acme", 0), ("second", "globex", 5)):
            created = START + timedelta(days=day)
            batch = conn.execute(insert(batches).values(name=name, tenant=tenant, input_format="ladder", created_at=created)
                                 .returning(batches.c.id)).scalar()
            ids[name] = batch
            for n in range(40):
                start, last = rng.randint(1, 2), rng.randint(2, 4)
                running = n % 9 == 0
                costs = [Decimal(rng.randint(1, 5 * 10**10)) / 10**10 for _ in range(start, last + 1)]
                job = conn.execute(insert(jobs).values(
                    batch_id=batch, custom_id=f"{name}-{n}", tenant=tenant, prompt="p", max_tokens=8,
                    status="running" if running else rng.choice(["done", "done", "done", "failed"]),
                    start_tier=start, final_tier=None if running else last, total_cost_usd=sum(costs),
                    created_at=created, finished_at=None if running else created + timedelta(seconds=rng.randint(1, 90)),
                ).returning(jobs.c.id)).scalar()
                conn.execute(insert(attempts), [
                    dict(job_id=job, tier=tier, model="m", provider="p", cost_usd=cost, reason=None,
                         prompt_tokens=rng.randint(10, 500), completion_tokens=rng.randint(1, 80),
                         latency_ms=rng.uniform(50, 3000), created_at=created,
                         outcome="accepted" if tier == last and not running else "escalated")
                    for tier, cost in zip(range(start, last + 1), costs)
                ])
    return ids


def sql_one(engine, sql: str, **params):
    with engine.connect() as conn:
        return conn.execute(text(sql), params).one()


def run_report(*args: str) -> dict:
    result = CliRunner().invoke(report, ["--json", *args])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def test_report_json_agrees_with_sql_over_attempts_to_the_last_digit(ledger, ladder_env):
    # Given a ledger with two batches
    batch = fill(ledger)["first"]
    # When the report of one batch is asked for as JSON
    figures = run_report("--batch", str(batch))
    # Then its total is the exact sum of that batch's attempts
    spent = sql_one(ledger, "select sum(a.cost_usd) from attempts a join jobs j on j.id = a.job_id "
                            "where j.batch_id = :b", b=batch)[0]
    assert Decimal(figures["total_cost_usd"]) == spent
    # And per final tier: job counts, exact costs, and Cᵢ to the last digit
    by_tier = {t["tier"]: t for t in figures["tiers"]}
    with ledger.connect() as conn:
        rows = conn.execute(text(
            "select j.final_tier, count(distinct j.id) as jobs, sum(a.cost_usd) as cost "
            "from jobs j join attempts a on a.job_id = j.id "
            "where j.batch_id = :b and j.status in ('done', 'failed') group by j.final_tier"), {"b": batch}).all()
    finished = sum(row.jobs for row in rows)
    assert figures["jobs_finished"] == finished
    for tier, jobs_there, cost in rows:
        line = by_tier[tier]
        assert line["jobs_finished"] == jobs_there
        assert Decimal(line["cost_usd"]) == cost
        assert abs(Decimal(line["mean_cost_usd"]) - cost / jobs_there) <= LAST_DIGIT
        assert Decimal(line["share"]) == (Decimal(jobs_there) / finished).quantize(LAST_DIGIT)
    # And Σ Pᵢ·Cᵢ is the mean cost of a finished job
    finished_cost = sum(row.cost for row in rows)
    assert Decimal(figures["finished_cost_usd"]) == finished_cost
    assert abs(Decimal(figures["expected_cost_per_job_usd"]) - finished_cost / finished) <= LAST_DIGIT


def test_report_baseline_and_saving_are_the_savings_view(ledger, ladder_env):
    batch = fill(ledger)["second"]
    figures = run_report("--batch", str(batch))
    baseline, actual = sql_one(ledger, "select baseline_usd, actual_usd from savings where batch_id = :b", b=batch)
    assert Decimal(figures["baseline_usd"]) == baseline
    assert Decimal(figures["saving_usd"]) == baseline - actual
    assert figures["top_tier"] == CONFIG.top_tier


def test_escalation_rate_is_the_share_of_jobs_leaving_each_tier(ledger, ladder_env):
    fill(ledger)
    figures = run_report()
    reached, escalated = sql_one(ledger, "select count(*), count(*) filter (where outcome = 'escalated') "
                                         "from attempts where tier = 2")
    tier_2 = next(t for t in figures["tiers"] if t["tier"] == 2)
    assert (tier_2["jobs_reached"], tier_2["jobs_escalated"]) == (reached, escalated)
    assert Decimal(tier_2["escalation_rate"]) == (Decimal(escalated) / reached).quantize(LAST_DIGIT)


@pytest.mark.parametrize("flags, where", [
    (["--tenant", "globex"], "j.tenant = 'globex'"),
    (["--since", "2026-11-22"], "j.created_at >= '2026-11-22T00:00:00+00:00'"),
])
def test_filters_narrow_the_report_to_the_matching_jobs(ledger, ladder_env, flags, where):
    fill(ledger)
    spent, job_count = sql_one(ledger, "select sum(a.cost_usd), count(distinct j.id) "
                                       f"from jobs j join attempts a on a.job_id = j.id where {where}")
    figures = run_report(*flags)
    assert (Decimal(figures["total_cost_usd"]), figures["jobs"]) == (spent, job_count)
    everything = run_report()
    assert figures["jobs"] < everything["jobs"], "the filter must leave some jobs out"


def test_the_table_shows_the_same_figures(ledger, ladder_env):
    fill(ledger)
    figures = run_report()
    result = CliRunner().invoke(report, [], terminal_width=120)
    assert result.exit_code == 0, result.output
    expected = Decimal(figures["expected_cost_per_job_usd"])
    assert f"Σ Pᵢ·Cᵢ = ${expected:.6f} per job" in result.output
    assert "saving" in result.output


def test_a_ledger_without_prices_says_how_to_get_a_baseline(ledger, ladder_env):
    fill(ledger)
    with ledger.begin() as conn:
        conn.execute(text("delete from tiers"))
    assert run_report()["baseline_usd"] is None
    output = CliRunner().invoke(report, []).output
    assert "ladder migrate" in output


def test_an_empty_ledger_reports_zero_jobs(ledger, ladder_env):
    figures = run_report()
    assert (figures["jobs"], figures["total_cost_usd"], figures["expected_cost_per_job_usd"]) == (0, "0", None)
    assert "no finished jobs" in CliRunner().invoke(report, []).output


def test_plot_writes_a_png_with_the_sweep_front(ledger, ladder_env, tmp_path):
    fill(ledger)
    sweep = tmp_path / "sweep.json"
    sweep.write_text(json.dumps([{"cost": c, "quality": q, "threshold": t}
                                 for c, q, t in ((0.5, 0.6, 0.2), (1.0, 0.7, 0.5), (2.0, 0.8, 0.9))]))
    picture = tmp_path / "front.png"
    result = CliRunner().invoke(report, ["--plot", str(picture), "--sweep", str(sweep)])
    assert result.exit_code == 0, result.output
    assert picture.read_bytes().startswith(b"\x89PNG")


def test_an_unmigrated_ledger_says_to_run_migrate(empty_database_url, monkeypatch):
    from ladder.cli.main import cli
    from ladder.ledger.db import dispose_engine
    from ladder.settings import get_settings

    # Given a database that was never migrated
    monkeypatch.setenv("LADDER_DATABASE_URL", empty_database_url)
    get_settings.cache_clear()
    dispose_engine()
    try:
        # When the report is asked for through the `ladder` command
        result = CliRunner().invoke(cli, ["report"])
    finally:
        get_settings.cache_clear()
        dispose_engine()
    # Then it fails with the command that fixes it, and no traceback
    assert result.exit_code == 2
    assert "run `ladder migrate`" in result.output


def test_print_report_renders_one_batch_on_the_given_console(ledger):
    from rich.console import Console

    from ladder.ledger.report import print_report

    batch = fill(ledger)["second"]
    console = Console(record=True, width=120)
    figures = print_report(ledger, batch=batch, console=console)
    shown = console.export_text()
    assert f"batch {batch}" in shown
    assert f"${figures.expected_cost_usd:.6f} per job" in shown
