"""The Celery app: queues ``route`` and ``tier1``…``tierN``, reliable delivery.

Nothing connects at import: the broker URL is read from the settings when
Celery first configures the app. Per-process resources (the ledger engine,
the tier's model) are created in ``worker_process_init``, after fork.
"""

from __future__ import annotations

import os

from celery import Celery, signals
from kombu import Exchange, Queue

from worker.audit import AUDIT_QUEUE

app = Celery("ladder", include=["worker.route.task", "worker.tier.task", "worker.sweep", "worker.health.probe", "worker.audit.task",
                                "worker.compose.task", "worker.ensemble.task"])

ROUTE_QUEUE = "route"
ROUTE_TASK = "ladder.route"
TIER_TASK = "ladder.tier"


def tier_queue(tier: int) -> str:
    return f"tier{tier}"


def _queue(name: str) -> Queue:
    return Queue(name, Exchange(name, type="direct"), routing_key=name)


@app.on_configure.connect
def _configure(sender: Celery, **_: object) -> None:
    from ladder.config import get_config
    from ladder.settings import get_settings

    from worker import kombu_guard

    kombu_guard.apply()
    settings = get_settings()
    config = get_config()
    broker_url, _ = settings.require_urls()
    longest_call = max(t.timeout_s * (t.max_retries + 1) for t in config.tiers)
    sender.conf.update(
        broker_url=broker_url,
        task_queues=[_queue(ROUTE_QUEUE)] + [_queue(tier_queue(n)) for n in range(1, config.top_tier + 1)]
        + [_queue(AUDIT_QUEUE)],
        task_default_queue=ROUTE_QUEUE,
        task_serializer="json",
        accept_content=["json"],
        task_ignore_result=True,
        # A job is acknowledged only after its attempt is in the ledger; a worker
        # killed mid-call leaves the message to be redelivered, and the attempt's
        # unique key keeps the redelivery from charging twice.
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=int(os.environ.get("LADDER_PREFETCH", "1")),
        # Above the longest call (all retries included), or Redis would hand a
        # running task to a second worker; not far above it, so that a message
        # held by a killed worker comes back soon.
        broker_transport_options={"visibility_timeout": int(max(60, longest_call * 2))},
        broker_connection_retry_on_startup=True,
        worker_hijack_root_logger=False,
        # Worker events always on: Flower turns them on only every few seconds, and a
        # short batch would finish unseen. Task-sent events stay off: they would flood
        # Flower with every job of a batch and halve the producer's enqueue rate.
        worker_send_task_events=True,
        task_send_sent_event=False,
        beat_schedule={
            "sweep": {"task": "ladder.sweep", "schedule": config.sweeper.interval_s, "options": {"queue": ROUTE_QUEUE}},
            "health": {"task": "ladder.health_check", "schedule": config.health.probe_interval_s,
                       "options": {"queue": ROUTE_QUEUE}},
        },
    )


@signals.setup_logging.connect
def _logging(loglevel=None, **_: object) -> None:
    # Connected to setup_logging so that the pool processes inherit the JSON handler through fork.
    from worker.logs import configure_logging

    configure_logging(loglevel)


@signals.worker_process_init.connect
def _after_fork(**_: object) -> None:
    from ladder.ledger.db import dispose_engine
    from worker.tier.runtime import load_tier_provider

    dispose_engine()
    load_tier_provider()


@signals.worker_process_shutdown.connect
def _before_exit(**_: object) -> None:
    from worker.tier.runtime import close_tier_provider

    close_tier_provider()
