"""Write a parsed batch to the ledger in bulk, then enqueue one route task per job.

Postgres first, Redis second: a job exists (status ``queued``) before any
message names it, so a message lost in transit is found again by the sweeper.
Rows are streamed into ``COPY`` so memory stays flat for any file size.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import insert, select, update

from ladder.config import LadderConfig
from ladder.errors import InputError
from ladder.ledger.db import get_engine
from ladder.ledger.schema import batches, jobs
from producer.formats import parse_any
from producer.parse import JobSpec, LineError

# Redis commands per pipeline round trip: a message and its task-sent event are two.
PUBLISH_PIPELINE = 2000
COPY_COLUMNS = ("batch_id", "custom_id", "tenant", "line_no", "task", "prompt", "max_tokens", "metadata")


@dataclass
class Submitted:
    batch_id: int
    job_count: int
    errors: list[LineError] = field(default_factory=list)


def check_tenant(config: LadderConfig, tenant: str) -> None:
    if config.tenants and tenant not in config.tenants:
        known = ", ".join(sorted(config.tenants))
        raise InputError(f"unknown tenant {tenant!r}: add it under `tenants:` in the config (known: {known})")


def _copy_jobs(cursor, batch_id: int, tenant: str, items: Iterable[JobSpec | LineError], errors: list[LineError]) -> int:
    count = 0
    with cursor.copy(f"COPY jobs ({', '.join(COPY_COLUMNS)}) FROM STDIN") as copy:
        for item in items:
            if isinstance(item, LineError):
                errors.append(item)
                continue
            meta = json.dumps(item.metadata) if item.metadata is not None else None
            copy.write_row((batch_id, item.custom_id, tenant, item.line_no, item.task, item.prompt, item.max_tokens, meta))
            count += 1
    return count


def write_batch(items: Iterable[JobSpec | LineError], *, name: str, tenant: str, input_format: str, source: str) -> Submitted:
    """One transaction: the batch row and all its jobs, or nothing."""
    errors: list[LineError] = []
    engine = get_engine()
    with engine.begin() as conn:
        batch_id = conn.execute(
            insert(batches).values(name=name, tenant=tenant, input_format=input_format, source=source).returning(batches.c.id)
        ).scalar_one()
        raw = conn.connection.driver_connection  # psycopg 3: COPY is the fast path for bulk rows
        with raw.cursor() as cursor:
            count = _copy_jobs(cursor, batch_id, tenant, items, errors)
        if count == 0:
            reasons = "; ".join(str(e) for e in errors[:5])
            raise InputError(f"no valid line to submit ({len(errors)} rejected: {reasons})")
        conn.execute(update(batches).where(batches.c.id == batch_id).values(job_count=count, rejected_lines=len(errors)))
    return Submitted(batch_id, count, errors)


def job_ids(batch_id: int, chunk: int = 10_000) -> Iterator[int]:
    with get_engine().connect().execution_options(stream_results=True, yield_per=chunk) as conn:
        for (job_id,) in conn.execute(select(jobs.c.id).where(jobs.c.batch_id == batch_id, jobs.c.status == "queued")):
            yield job_id


def enqueue_batch(batch_id: int, pipeline_size: int = PUBLISH_PIPELINE) -> int:
    """One route message per queued job, sent in Redis pipelines of ``pipeline_size`` commands.

    A message lost to a failure part-way through is harmless: its job is still
    ``queued`` in the ledger, and the sweeper enqueues it again.
    """
    from worker.app import ROUTE_QUEUE, ROUTE_TASK, app

    sent = 0
    with app.producer_or_acquire() as producer, producer.batch(max_size=pipeline_size):
        # Declared once here rather than once per message, which Celery does by default.
        producer.maybe_declare(app.amqp.queues[ROUTE_QUEUE])
        # Celery publishes the task-sent events through a disabled dispatcher and our
        # producer, as here; this one's exchange is bound to the channel once, not once per event.
        events = app.events.Dispatcher(enabled=False)
        events.exchange = events.exchange(producer.channel)
        for job_id in job_ids(batch_id):
            app.send_task(ROUTE_TASK, args=(job_id,), queue=ROUTE_QUEUE, producer=producer, declare=[],
                          event_dispatcher=events)
            sent += 1
    return sent


def submit_file(path: Path, config: LadderConfig, *, tenant: str, name: str | None = None, fmt: str | None = None) -> Submitted:
    """Parse ``path`` (format ``fmt``, or detected: see ``producer.formats``), store it, enqueue it."""
    check_tenant(config, tenant)
    input_format, items = parse_any(path, config.limits, fmt)
    submitted = write_batch(items, name=name or Path(path).stem, tenant=tenant, input_format=input_format, source=str(path))
    enqueue_batch(submitted.batch_id)
    return submitted
