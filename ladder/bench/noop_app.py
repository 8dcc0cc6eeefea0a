"""Raw Celery, for the pipeline benchmark's ceiling: one no-op task on Ladder's broker.

    celery -A ladder.bench.noop_app worker -Q bench_noop -c 2 -P prefork
    LADDER_BENCH_RELIABLE=1 celery -A ladder.bench.noop_app worker -Q bench_noop_reliable -c 2 -P prefork

The task only counts itself (one Redis INCR) so that the benchmark can see
when the last one has run. ``LADDER_BENCH_RELIABLE=1`` gives it Ladder's own
delivery settings (late acks, redelivery of a dead worker's task, prefetch 1;
see ``worker.app``) instead of Celery's defaults, to show what those settings
cost by themselves.
"""

from __future__ import annotations

import os

from celery import Celery

NOOP_QUEUE = "bench_noop"
RELIABLE_QUEUE = "bench_noop_reliable"
NOOP_TASK = "bench.noop"
COUNTER_KEY = "ladder:bench:noop_done"

app = Celery("ladder_bench_noop")


@app.on_configure.connect
def _configure(sender: Celery, **_: object) -> None:
    reliable = os.environ.get("LADDER_BENCH_RELIABLE") == "1"
    sender.conf.update(
        broker_url=os.environ["LADDER_REDIS_URL"],
        task_default_queue=NOOP_QUEUE,
        task_ignore_result=True,
        broker_connection_retry_on_startup=True,
        worker_hijack_root_logger=False,
    )
    if reliable:
        sender.conf.update(task_acks_late=True, task_reject_on_worker_lost=True, worker_prefetch_multiplier=1)


_client = None


def _redis():
    global _client
    if _client is None:  # per pool process, after fork
        import redis

        _client = redis.Redis.from_url(os.environ["LADDER_REDIS_URL"])
    return _client


@app.task(name=NOOP_TASK)
def noop(number: int) -> None:
    _redis().incr(COUNTER_KEY)
