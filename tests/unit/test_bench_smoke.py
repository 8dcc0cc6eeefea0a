"""The benchmarks run end to end at a tiny size and report what they promise.

Timings are not asserted (they depend on the machine); the shape of the
result is, and the facts that hold whatever the speed: every job final, the
instant tier escalating about the share it was asked to, ratios positive,
routing never adding calls to a cascade.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from ladder.bench.latency import routing_saving
from ladder.bench.measure import growth, percentile, write_jobs_file
from producer.formats import parse_any
from producer.parse import JobSpec

ROOT = Path(__file__).resolve().parent.parent.parent
BENCH = [sys.executable, "-c", "from ladder.cli.bench import bench; bench()"]
SAMPLE = ROOT / "tests" / "data" / "gsm8k_sample.csv"


def run_bench(*args: str, env: dict[str, str], timeout: float = 600) -> dict:
    result = subprocess.run(BENCH + list(args) + ["--json"], env=env, capture_output=True, text=True,
                            timeout=timeout, cwd=ROOT)
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.fixture()
def bench_env(pg_server_url):
    """The benchmark creates (and drops) its own database on the test server, and starts its own Redis."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("LADDER_")}
    return env | {"LADDER_DATABASE_URL": pg_server_url, "PYTHONPATH": str(ROOT)}


def test_percentile_interpolates_like_postgres():
    # Given four latencies / When the median and p95 are taken / Then they interpolate between ranks
    assert percentile([4.0, 1.0, 3.0, 2.0], 0.5) == 2.5
    assert percentile([1.0, 2.0, 3.0, 4.0], 0.95) == pytest.approx(3.85)


def test_growth_is_one_when_time_grows_with_the_work():
    # Given runs whose time grows exactly with their size, then one that takes twice as long per job
    runs = [{"scale": 1, "jobs": 10, "s": 1.0}, {"scale": 4, "jobs": 40, "s": 4.0}, {"scale": 16, "jobs": 160, "s": 32.0}]
    # When the growth table is made / Then linear reads 1.0 and the super-linear step shows
    assert [row["per_unit_vs_1x"] for row in growth(runs, "s")] == [1.0, 1.0, 2.0]


def test_generated_jobs_parse_and_spread_over_both_tiers(tmp_path):
    from ladder.bench.pipeline import instant_config
    from ladder.config import Limits, parse_config
    from worker.providers.base import Request
    from worker.providers.instant import InstantProvider

    # Given a generated batch file of 1,000 jobs
    fmt, items = parse_any(write_jobs_file(tmp_path / "jobs.jsonl", 1000), Limits())
    jobs = list(items)
    # When tier 1 of the benchmark's config answers them
    tier = parse_config(instant_config()).tier(1)
    provider = InstantProvider(tier)
    unsure = [j for j in jobs if provider.generate(Request(j.prompt, j.max_tokens)).extra["confidence"] < tier.threshold]
    # Then every line is a valid job and about 30% would escalate
    assert fmt == "ladder" and len(jobs) == 1000 and all(isinstance(j, JobSpec) for j in jobs)
    assert 0.25 < len(unsure) / len(jobs) < 0.35


def test_routing_never_adds_calls_to_a_cascade():
    # Given the recorded GSM8K sample / When predictive routing is compared with a pure cascade
    saving = routing_saving(SAMPLE, step_overhead_s=0.01)
    # Then a routed job makes at most the cascade's calls, and the oracle bounds the latency saved
    assert saving["calls_per_job_routed"] <= saving["calls_per_job_cascade"]
    assert 1.0 <= saving["calls_per_job_cascade"] <= 2.0
    assert saving["latency_saved_share"] <= saving["oracle_saved_share"] + 1e-9
    assert [row["threshold"] for row in saving["by_threshold"]] == sorted(row["threshold"] for row in saving["by_threshold"])


def test_pipeline_bench_runs_both_sides_on_real_services(bench_env):
    # When the pipeline benchmark runs 50 jobs against 50 raw Celery tasks
    result = run_bench("pipeline", "--jobs", "50", "--scales", "1", env=bench_env)
    run = result["runs"][0]
    # Then all jobs finished, some escalated, and every rate and ratio is a positive number
    assert run["ladder"]["failed"] == 0 and run["ladder"]["attempts"] > 50
    assert 0 < run["ladder"]["escalated_share"] < 1
    for key in ("ladder_jobs_per_s", "raw_tasks_per_s", "raw_reliable_tasks_per_s", "ratio", "cpu_ratio"):
        assert result[key] > 0, key
    assert result["latency_p95_s"] >= result["latency_p50_s"] > 0


def test_submit_bench_reports_rate_and_memory(bench_env):
    # When 300 lines are submitted at 1x and 2x
    result = run_bench("submit", "--jobs", "300", "--scales", "1,2", env=bench_env)
    # Then each run queued every job, and the rate and peak memory are measured
    assert [run["jobs"] for run in result["runs"]] == [300, 600]
    assert all(run["sent"] == run["jobs"] for run in result["runs"])
    assert result["jobs_per_s"] > 0 and result["peak_rss_mb"] > 0


def test_latency_bench_measures_paced_load_and_routing(bench_env):
    # When 40 jobs arrive at half the measured capacity
    result = run_bench("latency", "--jobs", "40", "--scales", "1", "--outcomes", str(SAMPLE), env=bench_env)
    # Then their latencies are measured and the routing saving is computed on the sample
    assert result["latency_p95_ms"] >= result["latency_p50_ms"] > 0
    assert result["load"]["offered_jobs_per_s"] > 0
    assert result["routing"]["file"] == SAMPLE.name


def test_local_bench_compares_with_plain_llama_cpp(bench_env, models_dir):
    # When one prompt runs through the provider and through plain llama-cpp-python
    result = run_bench("local", "--jobs", "1", "--scales", "1", env=bench_env | {"LADDER_HOME": str(models_dir.parent)})
    # Then both generated tokens and the ratios are positive
    assert result["plain"]["completion_tokens"] > 0 and result["ladder"]["completion_tokens"] > 0
    assert result["ratio"] > 0 and result["logits_all_ratio"] > 0
    assert result["ladder"]["prompt_tokens_per_s"] > 0
