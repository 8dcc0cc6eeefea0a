"""``ladder bench pipeline``: Ladder's jobs/s against raw Celery's no-op tasks/s, same run.

Both sides get one worker, ``-c N`` prefork (default 2), on the same private
redis-server, and are timed end to end: from the first line read (Ladder:
file → ledger → route → tier 1 → 30% on to tier 2 → ledger) or the first
message sent (Celery) until the last job is final (task has run). The tiers
are ``instant`` providers, which answer at once, so what is timed is Ladder
itself. A third worker runs the no-op task with Ladder's delivery settings,
to separate what those settings cost from what Ladder's code costs. The
workers idle on their own queues while another side runs.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from ladder.bench.measure import growth, percentile, scaled_runs, write_jobs_file
from ladder.bench.noop_app import NOOP_QUEUE, RELIABLE_QUEUE
from ladder.bench.services import BenchServices, wait_until

ESCALATE_SHARE = 0.3
RAW_WORKER = ["-m", "celery", "-A", "ladder.bench.noop_app", "worker", "-P", "prefork", "--without-mingle",
              "--without-gossip"]


def instant_config(escalate_share: float = ESCALATE_SHARE) -> dict:
    """Two instant tiers: tier 1 sends ``escalate_share`` of the jobs up, tier 2 (the top) accepts all."""
    return {
        "tiers": [
            {"name": "instant-1", "provider": "instant", "model": "instant", "threshold": 0.5,
             "options": {"escalate_share": escalate_share}},
            {"name": "instant-2", "provider": "instant", "model": "instant", "threshold": 0.0,
             "options": {"escalate_share": 0.0}},
        ],
        "routing": {"default_tier": 1},
        "audit": {"share": 0.0},  # no audit worker runs: do not queue audits nobody takes
        "tenants": {"default": {}},
    }


class PipelineBench:
    """Started workers on private services; ``ladder(n)`` and ``raw(n)`` time one run each."""

    def __init__(self, services: BenchServices, concurrency: int = 2, loglevel: str = "WARNING", *, with_raw: bool = True):
        self.services = services
        self.files = services.home / "batches"
        self.files.mkdir(exist_ok=True)
        self.with_raw = with_raw
        self._numbers = 0
        services.spawn_ladder_worker(["--route", "--tier", "1", "--tier", "2", "--loglevel", loglevel], concurrency)
        if with_raw:
            services.spawn("noop", [sys.executable, *RAW_WORKER, "-Q", NOOP_QUEUE, "-c", str(concurrency),
                                    "-n", "noop@bench", "--loglevel", loglevel])
            services.spawn("noop-reliable", [sys.executable, *RAW_WORKER, "-Q", RELIABLE_QUEUE, "-c", str(concurrency),
                                             "-n", "noop-reliable@bench", "--loglevel", loglevel],
                           extra_env={"LADDER_BENCH_RELIABLE": "1"})

    def next_numbers(self, count: int) -> range:
        """Job numbers not used before in this run, so that every prompt (and custom_id) is new."""
        numbers = range(self._numbers, self._numbers + count)
        self._numbers += count
        return numbers

    def cpu_seconds(self, child_name: str) -> float:
        """CPU time so far of a worker (its pool processes included), to compare work done whatever the load."""
        import psutil

        child = next(c for c in self.services.supervisor.children if c.name == child_name)
        root = psutil.Process(child.pid)
        total = 0.0
        for process in [root, *root.children(recursive=True)]:
            try:
                times = process.cpu_times()
                total += times.user + times.system
            except psutil.Error:
                pass
        return total

    def warm_up(self) -> None:
        """A few jobs each way: workers forked, connections open, code paths imported."""
        self.ladder(20, timeout=120)
        if self.with_raw:
            self.raw(20, timeout=120)
            self.raw(20, timeout=120, reliable=True)

    def ladder(self, count: int, timeout: float = 3600) -> dict:
        from ladder.config import get_config
        from producer.formats import parse_any
        from producer.submit import enqueue_batch, write_batch

        numbers = self.next_numbers(count)
        path = write_jobs_file(self.files / f"batch-{numbers.start}.jsonl", count, start=numbers.start)
        config = get_config()
        cpu_before = self.cpu_seconds("ladder")
        started = time.monotonic()
        fmt, items = parse_any(path, config.limits)
        batch_id = write_batch(items, name=path.stem, tenant="default", input_format=fmt, source=str(path)).batch_id
        stored = time.monotonic()
        enqueue_batch(batch_id)
        enqueued = time.monotonic()
        finished = self.wait_for_batch(batch_id, count, timeout)
        worker_cpu = self.cpu_seconds("ladder") - cpu_before
        return {"jobs": count, "seconds": finished - started, "jobs_per_s": count / (finished - started),
                "worker_cpu_ms_per_job": worker_cpu * 1000 / count,
                "store_s": stored - started, "enqueue_s": enqueued - stored, **self._batch_facts(batch_id)}

    def wait_for_batch(self, batch_id: int, count: int, timeout: float) -> float:
        """The monotonic time at which all ``count`` jobs of the batch were seen final."""
        from sqlalchemy import text

        from ladder.ledger.db import get_engine

        finals = text("select count(*) from jobs where batch_id = :b and status in ('done', 'failed')")

        def all_final() -> bool:
            with get_engine().connect() as conn:
                return conn.execute(finals, {"b": batch_id}).scalar_one() >= count

        return wait_until(all_final, timeout, self.services, poll=0.1)

    def _batch_facts(self, batch_id: int) -> dict:
        from sqlalchemy import text

        from ladder.ledger.db import get_engine

        with get_engine().connect() as conn:
            latencies = [row[0] for row in conn.execute(text(
                "select extract(epoch from finished_at - created_at)::float8 from jobs where batch_id = :b"), {"b": batch_id})]
            escalated, attempts, failed = conn.execute(text(
                "select count(*) filter (where final_tier > start_tier), "
                "(select count(*) from attempts a join jobs j on j.id = a.job_id where j.batch_id = :b), "
                "count(*) filter (where status = 'failed') from jobs where batch_id = :b"), {"b": batch_id}).one()
        return {"batch_id": batch_id, "escalated_share": escalated / len(latencies), "attempts": attempts,
                "failed": failed, "latency_p50_s": float(percentile(latencies, 0.5)),
                "latency_p95_s": float(percentile(latencies, 0.95))}

    def raw(self, count: int, timeout: float = 3600, *, reliable: bool = False) -> dict:
        """No-op tasks; ``reliable``: with Ladder's delivery settings (late acks, prefetch 1)."""
        from ladder.bench import noop_app
        from ladder.shared_state import get_redis

        worker, queue = ("noop-reliable", RELIABLE_QUEUE) if reliable else ("noop", NOOP_QUEUE)
        app = noop_app.app
        redis = get_redis()
        redis.set(noop_app.COUNTER_KEY, 0)
        cpu_before = self.cpu_seconds(worker)
        started = time.monotonic()
        with app.producer_or_acquire() as producer:
            for number in range(count):
                app.send_task(noop_app.NOOP_TASK, args=(number,), queue=queue, producer=producer)
        enqueued = time.monotonic()
        finished = wait_until(lambda: int(redis.get(noop_app.COUNTER_KEY) or 0) >= count, timeout, self.services, poll=0.02)
        worker_cpu = self.cpu_seconds(worker) - cpu_before
        return {"tasks": count, "seconds": finished - started, "tasks_per_s": count / (finished - started),
                "worker_cpu_ms_per_task": worker_cpu * 1000 / count,
                "enqueue_s": enqueued - started}


def run_pipeline(jobs: int = 5000, scales: tuple[int, ...] = (1, 4, 16), concurrency: int = 2,
                 loglevel: str = "WARNING", home: Path | None = None) -> dict:
    with BenchServices(instant_config(), home) as services:
        bench = PipelineBench(services, concurrency, loglevel)
        bench.warm_up()

        def one_scale(count: int) -> dict:
            raw = bench.raw(count)
            ladder = bench.ladder(count)
            reliable = bench.raw(count, reliable=True)
            return {"jobs": count, "raw": raw, "ladder": ladder, "raw_reliable": reliable,
                    "ratio": ladder["jobs_per_s"] / raw["tasks_per_s"],
                    "reliable_ratio": reliable["tasks_per_s"] / raw["tasks_per_s"],
                    "cpu_ratio": raw["worker_cpu_ms_per_task"] / ladder["worker_cpu_ms_per_job"]}

        runs = scaled_runs(jobs, scales, one_scale)
    first = runs[0]
    return {
        "benchmark": "pipeline",
        "jobs": jobs,
        "concurrency": concurrency,
        "escalate_share": ESCALATE_SHARE,
        "ladder_jobs_per_s": first["ladder"]["jobs_per_s"],
        "raw_tasks_per_s": first["raw"]["tasks_per_s"],
        # What Ladder's delivery settings cost by themselves, before any Ladder code runs.
        "raw_reliable_tasks_per_s": first["raw_reliable"]["tasks_per_s"],
        "ratio": first["ratio"],
        # Worker CPU per raw task / per Ladder job: the same comparison, less sensitive to other load on the machine
        # (the ledger's and the broker's own CPU are not in it).
        "cpu_ratio": first["cpu_ratio"],
        "target_ratio": 0.5,
        "latency_p50_s": first["ladder"]["latency_p50_s"],
        "latency_p95_s": first["ladder"]["latency_p95_s"],
        "runs": runs,
        "growth": {"ladder": growth([{"scale": r["scale"], "jobs": r["jobs"], "seconds": r["ladder"]["seconds"]} for r in runs],
                                    "seconds"),
                   "raw": growth([{"scale": r["scale"], "jobs": r["jobs"], "seconds": r["raw"]["seconds"]} for r in runs],
                                 "seconds")},
    }
