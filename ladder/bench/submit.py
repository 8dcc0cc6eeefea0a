"""``ladder bench submit``: a generated batch file from disk to the route queue.

Each run is a fresh subprocess (``python -m ladder.bench.submit FILE``) so
that its peak RSS (``getrusage``) is the producer's alone. It times the two
halves of ``submit_file``: parse + COPY into the ledger, then the enqueue of
one route message per job. No worker runs: the messages stay queued, and
the queue is emptied between runs.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

from ladder.bench.measure import growth, scaled_runs, write_jobs_file
from ladder.bench.pipeline import instant_config
from ladder.bench.services import BenchServices

TARGET_JOBS_PER_S = 5000
TARGET_RSS_MB = 300


def probe(path: Path) -> dict:
    """In the probe process: submit ``path`` the way ``ladder submit`` does, timing each half."""
    import resource

    from ladder.config import get_config
    from producer.formats import parse_any
    from producer.submit import check_tenant, enqueue_batch, write_batch
    from worker.app import app

    config = get_config()
    app.loader.import_default_modules()  # task modules imported now, not inside the timed enqueue
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    started, cpu_started = time.monotonic(), time.process_time()
    check_tenant(config, "default")
    fmt, items = parse_any(path, config.limits)
    submitted = write_batch(items, name=path.stem, tenant="default", input_format=fmt, source=str(path))
    stored = time.monotonic()
    sent = enqueue_batch(submitted.batch_id)
    finished, cpu = time.monotonic(), time.process_time() - cpu_started
    return {"jobs": submitted.job_count, "sent": sent, "seconds": finished - started, "store_s": stored - started,
            "cpu_s": cpu, "jobs_per_cpu_s": submitted.job_count / cpu,
            "enqueue_s": finished - stored, "jobs_per_s": submitted.job_count / (finished - started),
            "rss_after_imports_mb": rss_before, "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def _one_run(services: BenchServices, count: int) -> dict:
    from ladder.shared_state import get_redis
    from worker.app import ROUTE_QUEUE

    path = write_jobs_file(services.home / f"submit-{count}.jsonl", count)
    result = subprocess.run([sys.executable, "-m", "ladder.bench.submit", str(path)], env=services.env,
                            capture_output=True, text=True, timeout=3600)
    path.unlink()
    if result.returncode != 0:
        raise RuntimeError(f"the submit probe failed:\n{result.stderr[-3000:]}")
    measured = json.loads(result.stdout.strip().splitlines()[-1])
    queued = get_redis().llen(ROUTE_QUEUE)
    get_redis().delete(ROUTE_QUEUE)
    if queued != count:
        raise RuntimeError(f"{count} jobs submitted but {queued} route messages queued")
    return measured


def run_submit(jobs: int = 6250, scales: tuple[int, ...] = (1, 4, 16), home: Path | None = None) -> dict:
    with BenchServices(instant_config(), home) as services:
        _one_run(services, 100)  # warm the server's caches and the file system
        runs = scaled_runs(jobs, scales, lambda count: _one_run(services, count))
    largest = runs[-1]
    return {
        "benchmark": "submit",
        "jobs": largest["jobs"],
        "jobs_per_s": largest["jobs_per_s"],
        "peak_rss_mb": largest["peak_rss_mb"],
        "target_jobs_per_s": TARGET_JOBS_PER_S,
        "target_rss_mb": TARGET_RSS_MB,
        "runs": runs,
        "growth": growth(runs, "seconds"),
    }


if __name__ == "__main__":
    print(json.dumps(probe(Path(sys.argv[1]))))
