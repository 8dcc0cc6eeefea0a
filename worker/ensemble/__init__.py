"""Ensembles: a critical job asks several members at once and trusts their agreement.

A job is critical when its task or a keyword is listed under ``ensemble:``,
or its metadata says ``critical: true``. Its members (``ensemble.members``,
one tier each; a tier listed twice gives two samples) run in parallel as a
Celery group, each on its own tier's queue so the worker that holds that
model answers. Each member call is an attempt row (``attempts.member`` =
1..n). The last member in sends ``ladder.ensemble.fuse``, which votes
(``vote``): majority for short answers, pairwise agreement (token F1, or a
judge tier's yes/no) for long ones. Agreement is the job's confidence: at
``ensemble.min_agreement`` or more the answer is accepted at the members'
tier; below it the job escalates to the next tier above the members and
climbs the cascade as usual.
"""

from __future__ import annotations

from collections.abc import Mapping

from ladder.config import LadderConfig


def is_critical(config: LadderConfig, prompt: str, task: str | None, metadata: Mapping | None) -> bool:
    ensemble = config.ensemble
    if len(ensemble.members) < 2:
        return False
    if metadata and metadata.get("critical") is True:
        return True
    lowered = prompt.lower()
    return (task is not None and task in ensemble.tasks) or any(k.lower() in lowered for k in ensemble.keywords)
