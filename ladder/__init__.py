"""Ladder: a four-tier LLM cascade on Celery with a Postgres cost ledger.

The package is split by the data flow: ``producer`` (submit) → ``worker.route``
→ ``worker.tier`` → ``worker.score`` → ``worker.decide`` → ``worker.record``.
``ladder`` itself holds what every stage shares: settings, the validated
config, the ledger schema, the errors, the command line and the embedded stack.
"""

__version__ = "0.1.0"
