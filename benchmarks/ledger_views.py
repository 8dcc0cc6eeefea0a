"""Time every ledger view and the report query; print the times and the plans.

    .venv/bin/python benchmarks/ledger_fill.py --url URL          # first: about 1M attempts
    .venv/bin/python benchmarks/ledger_views.py --url URL [--runs 3] [--no-plans]

Each query runs ``--runs`` times, every row fetched; the best and the median
wall time are printed, with the load average, since other work on the
machine stretches them. One more run, without parallel workers, measures the
CPU seconds the server backend spent (from /proc, when PostgreSQL runs on
this machine): the query's whole cost on one core, whatever the load. The
plans come from ``EXPLAIN (ANALYZE, BUFFERS)``. Target: under 2 s each with
1M attempts.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

from sqlalchemy import Engine, create_engine, text

VIEWS = ("cost_by_tier", "cost_by_batch", "cost_by_tenant_day", "escalations", "savings", "job_costs")
TARGET_S = 2.0
# job_costs has a row per job: sum its columns in the server rather than ship 600k rows to Python.
VIEW_QUERIES = {"job_costs": "select count(*), sum(cost_usd), sum(top_tier_cost_usd), max(end_to_end_ms) from job_costs"}


def best_and_median(run, runs: int) -> tuple[float, float]:
    seconds = []
    for _ in range(runs):
        started = time.perf_counter()
        run()
        seconds.append(time.perf_counter() - started)
    return min(seconds), statistics.median(seconds)


def backend_cpu_seconds(engine: Engine, sql: str, params: dict, settings: tuple[str, ...]) -> float | None:
    """CPU time of the backend that ran ``sql`` on one core; None when the server is not local."""
    with engine.begin() as conn:
        stat = Path(f"/proc/{conn.execute(text('select pg_backend_pid()')).scalar()}/stat")
        if not stat.exists():
            return None
        for setting in (*settings, "set local max_parallel_workers_per_gather = 0"):
            conn.execute(text(setting))
        before = _cpu_ticks(stat)
        conn.execute(text(sql), params).all()
        return (_cpu_ticks(stat) - before) / os.sysconf("SC_CLK_TCK")


def _cpu_ticks(stat: Path) -> int:
    # Fields 14 and 15 of /proc/PID/stat: user and system time; the name (field 2) may hold spaces.
    fields = stat.read_text().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


def run_sql(engine: Engine, sql: str, params: dict, settings: tuple[str, ...]):
    """Run ``sql`` in its own transaction, every row fetched, as the report would."""

    def run() -> list:
        with engine.begin() as conn:
            for setting in settings:
                conn.execute(text(setting))
            return conn.execute(text(sql), params).all()

    return run


def cases(engine: Engine) -> list[tuple[str, str, dict, tuple[str, ...]]]:
    """(label, sql, parameters, session settings) for every view and the report."""
    from ladder.ledger.report import REPORT_SETTINGS, report_query

    with engine.connect() as conn:
        newest_batch = conn.execute(text("select max(id) from batches")).scalar()
    found = [(f"view {view}", VIEW_QUERIES.get(view, f"select * from {view}"), {}, ()) for view in VIEWS]
    for label, batch in (("report (whole ledger)", None), (f"report --batch {newest_batch}", newest_batch)):
        sql, params = report_query(batch=batch)
        found.append((label, sql, params, REPORT_SETTINGS))
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", help="SQLAlchemy URL of a filled ledger (default: LADDER_DATABASE_URL)")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--no-plans", action="store_true")
    args = parser.parse_args()
    from ladder.settings import get_settings

    url = args.url or get_settings().database_url
    if not url:
        sys.exit("give --url or set LADDER_DATABASE_URL")
    engine = create_engine(url)
    with engine.connect() as conn:
        attempts = conn.execute(text("select count(*) from attempts")).scalar()
        jobs = conn.execute(text("select count(*) from jobs")).scalar()
    print(f"ledger: {attempts:,} attempts, {jobs:,} jobs · load average {os.getloadavg()[0]:.2f} "
          f"on {os.cpu_count()} CPUs · {args.runs} runs each\n")

    results = []
    for label, sql, params, settings in cases(engine):
        timing = best_and_median(run_sql(engine, sql, params, settings), args.runs)
        results.append((label, *timing, backend_cpu_seconds(engine, sql, params, settings)))
        if not args.no_plans:
            plan = run_sql(engine, f"explain (analyze, buffers) {sql}", params, settings)()
            print(f"── {label} ──\n" + "\n".join(row[0] for row in plan) + "\n")

    print(f"{'query':<30} {'best s':>7} {'median s':>9} {'CPU s, 1 core':>14}  under {TARGET_S:g} s")
    for label, best, median, cpu in results:
        cpu_text = "n/a" if cpu is None else f"{cpu:.2f}"
        verdict = "yes" if min(best, cpu if cpu is not None else best) < TARGET_S else "NO"
        print(f"{label:<30} {best:>7.3f} {median:>9.3f} {cpu_text:>14}  {verdict}")
    engine.dispose()


if __name__ == "__main__":
    main()
