"""A/B experiments: which arm a job is in, and the strategy its tenant and arm add up to.

The arm is a pure function of the experiment's name and the job id (a
BLAKE2 hash mapped to [0, 1) against the arms' cumulative shares), so a
retry, a redelivery or another worker always puts a job in the same arm,
and two experiments never split the jobs the same way. The arm is written to
``jobs.experiment`` / ``jobs.arm`` when the job is routed; ``ladder
experiments`` compares the arms from the ledger.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from ladder.config import Arm, Experiment, LadderConfig


@dataclass(frozen=True)
class Assignment:
    experiment: str
    arm: str


@dataclass(frozen=True)
class Plan:
    """The strategy a job runs under: arm over tenant over the global routing."""

    routing_strategy: str
    start_tier: int | None = None
    thresholds: dict[int, float] = field(default_factory=dict)

    def threshold(self, tier: int, default: float) -> float:
        return self.thresholds.get(tier, default)


def _unit_hash(*parts: object) -> float:
    digest = hashlib.blake2b(":".join(str(p) for p in parts).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64


def experiment_for(config: LadderConfig, tenant: str) -> Experiment | None:
    """The experiment the tenant's jobs take part in (one at a time, by config validation)."""
    for experiment in config.experiments:
        if experiment.tenant in (None, tenant):
            return experiment
    return None


def assign(config: LadderConfig, tenant: str, job_id: int) -> Assignment | None:
    """The job's arm, or None when the job is outside every experiment."""
    experiment = experiment_for(config, tenant)
    if experiment is None:
        return None
    point, upper = _unit_hash(experiment.name, job_id), 0.0
    for arm in experiment.arms:
        upper += arm.share
        if point < upper:
            return Assignment(experiment.name, arm.name)
    return None


def find_arm(config: LadderConfig, experiment: str | None, arm: str | None) -> Arm | None:
    for candidate in config.experiments:
        if candidate.name == experiment:
            return next((a for a in candidate.arms if a.name == arm), None)
    return None


def plan_for(config: LadderConfig, tenant: str, experiment: str | None = None, arm: str | None = None) -> Plan:
    """Resolve the job's strategy: each field from the arm, else the tenant, else the defaults."""
    layers = [s for s in (find_arm(config, experiment, arm), config.tenants.get(tenant)) if s is not None]
    strategy = next((s.routing_strategy for s in layers if s.routing_strategy), config.routing.router)
    start = next((s.start_tier for s in layers if s.start_tier), None)
    thresholds: dict[int, float] = {}
    for layer in reversed(layers):  # the arm's thresholds win over the tenant's, tier by tier
        thresholds |= layer.thresholds
    return Plan(strategy, start, thresholds)
