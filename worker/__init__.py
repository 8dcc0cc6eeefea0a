"""The worker side of the data flow: route → tier → score → decide → record.

``worker.app`` is the Celery app; ``worker.route`` picks the starting tier;
``worker.tier`` runs one model call; ``worker.providers`` are the backends;
``worker.score`` turns an answer into a confidence; ``worker.decide`` is the
pure Accept | Escalate | GiveUp decision; ``worker.record`` writes the ledger.
"""
