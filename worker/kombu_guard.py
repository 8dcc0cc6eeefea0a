"""Guard against a kombu 5.7 crash when Redis restarts under a worker.

When the broker connection drops while messages are unacknowledged, kombu
closes the channel and then uses it again — to push those messages back
(``QoS.restore_unacked``) or to ack a task that finishes afterwards
(``QoS.ack``) — through a client built from a connection already released:
``AttributeError: 'NoneType' object has no attribute 'hostname'`` (or
``'client'``). Celery reports an "Unrecoverable error" and the worker hangs
half-stopped (seen in tests/faults/test_broker_restart.py). With Redis just
restarted there is nothing to restore to or ack on: the messages went with
it, and Ladder's sweeper re-sends their jobs from Postgres. So exactly that
error is swallowed on those two paths, and the worker reconnects.
"""

from __future__ import annotations

import logging

log = logging.getLogger("ladder.worker")
_applied = False


def apply() -> None:
    global _applied
    if _applied:
        return
    from kombu.transport import redis as redis_transport

    qos = redis_transport.QoS
    original_restore, original_ack = qos.restore_unacked, qos.ack

    def restore_unacked(self, client=None):
        try:
            return original_restore(self, client)
        except AttributeError as exc:
            if not _released_connection(exc):
                raise
            log.warning("broker connection gone: %d unacknowledged messages not restored; "
                        "the sweeper re-sends their jobs from Postgres", len(self._delivered))
            self._delivered.clear()

    def ack(self, delivery_tag):
        try:
            return original_ack(self, delivery_tag)
        except AttributeError as exc:
            if not _released_connection(exc):
                raise
            log.warning("broker connection gone: cannot ack a message of the old connection (it went with Redis)")
            self._delivered.pop(delivery_tag, None)

    qos.restore_unacked, qos.ack = restore_unacked, ack
    _applied = True


def _released_connection(exc: AttributeError) -> bool:
    return "'NoneType' object has no attribute" in str(exc) and ("'hostname'" in str(exc) or "'client'" in str(exc))
