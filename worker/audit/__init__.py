"""Audits: routing accuracy measured by re-running accepted jobs on the top tier.

A fixed share of the jobs accepted below the audit tier is chosen by a hash
of the job id (deterministic: a redelivered task, a re-run, another worker
all choose the same jobs; and unrelated to which tier or rule sent the job
there, so every tier's sample is unbiased). The chosen job goes to the
``ladder.audit`` task on its own ``audit`` queue, off the critical path; its
answer is compared with the accepted one (``worker.audit.agreement``), and
the verdict and the call's cost go to the ``audits`` table, the audit
account, never to the job's bill. ``worker.audit.accuracy.routing_accuracy``
turns the verdicts into an agreement rate per tier and per routing rule.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

AUDIT_QUEUE = "audit"
AUDIT_TASK = "ladder.audit"


@dataclass(frozen=True)
class AuditPolicy:
    share: float  # of the jobs accepted below ``tier``
    tier: int  # the tier whose answer is taken as the reference
    judge: bool  # long answers: ask the audit tier to judge instead of comparing words


def audit_policy(config) -> AuditPolicy:
    """The config's ``audit`` section, with ``tier: top`` resolved to a number."""
    section = getattr(config, "audit", None)
    share = getattr(section, "share", 0.02)
    tier = getattr(section, "tier", "top")
    return AuditPolicy(share=share, tier=config.top_tier if tier == "top" else int(tier),
                       judge=bool(getattr(section, "judge", False)))


def selected_for_audit(job_id: int, share: float) -> bool:
    digest = hashlib.blake2b(str(job_id).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64 < share
