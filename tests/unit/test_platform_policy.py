"""Pure platform decisions: experiment arms, strategy layering, message priority, config validation."""

from __future__ import annotations

import pytest

from ladder.config import parse_config
from ladder.errors import ConfigError
from worker.experiments import assign, plan_for
from worker.fairness import message_priority

TIERS = [{"name": f"t{i}", "provider": "instant", "model": f"m{i}", "threshold": 0.5} for i in (1, 2, 3)]


def config(**sections):
    return parse_config({"tiers": TIERS} | sections)


def test_a_job_keeps_its_arm_and_the_arms_take_their_shares():
    # Given a 30/70 experiment
    cfg = config(tenants={"acme": {}}, experiments=[{"name": "e", "tenant": "acme", "arms": [
        {"name": "a", "share": 0.3}, {"name": "b", "share": 0.7}]}])
    # When 10,000 job ids are assigned, twice
    first = [assign(cfg, "acme", job_id).arm for job_id in range(10_000)]
    second = [assign(cfg, "acme", job_id).arm for job_id in range(10_000)]
    # Then every job lands in the same arm both times, and the split is close to the shares
    assert first == second
    assert abs(first.count("a") / 10_000 - 0.3) < 0.02
    # And another tenant's jobs are in no experiment
    assert assign(cfg, "other", 1) is None


def test_shares_below_one_leave_jobs_outside_the_experiment():
    cfg = config(experiments=[{"name": "e", "arms": [{"name": "a", "share": 0.1}, {"name": "b", "share": 0.1}]}])
    outside = sum(assign(cfg, "anyone", job_id) is None for job_id in range(5_000))
    assert abs(outside / 5_000 - 0.8) < 0.03


def test_the_arm_overrides_the_tenant_which_overrides_the_defaults():
    # Given a tenant with its own strategy and an arm that changes part of it
    cfg = config(tenants={"acme": {"routing_strategy": "cheapest", "thresholds": {1: 0.6, 2: 0.7}}},
                 experiments=[{"name": "e", "tenant": "acme", "arms": [
                     {"name": "control", "share": 0.5}, {"name": "bold", "share": 0.5, "start_tier": 2, "thresholds": {1: 0.9}}]}])
    # Then the control arm runs the tenant's plan, and the bold arm the tenant's with its own changes on top
    control, bold = plan_for(cfg, "acme", "e", "control"), plan_for(cfg, "acme", "e", "bold")
    assert (control.routing_strategy, control.start_tier, control.thresholds) == ("cheapest", None, {1: 0.6, 2: 0.7})
    assert (bold.start_tier, bold.thresholds) == (2, {1: 0.9, 2: 0.7})
    # And a tier without an override keeps the tier's own threshold
    assert bold.threshold(3, 0.5) == 0.5
    # And a tenant without a strategy follows routing.router
    assert plan_for(cfg, "nobody").routing_strategy == "rules"


def test_large_batches_and_low_priority_tenants_wait_behind_small_batches():
    cfg = config(tenants={"vip": {"priority": 0}, "bulk": {"priority": 6}}, fairness={"large_batch_jobs": 100})
    assert message_priority(cfg, "vip", 10) == 0
    assert message_priority(cfg, "vip", 100) == 3
    assert message_priority(cfg, "bulk", 100_000) == 9  # capped at the lowest priority


@pytest.mark.parametrize("sections, message", [
    ({"experiments": [{"name": "e", "arms": [{"name": "a", "share": 0.6}, {"name": "b", "share": 0.6}]}]}, "more than 1"),
    ({"tenants": {"acme": {}}, "experiments": [{"name": "e", "tenant": "ghost", "arms": [
        {"name": "a", "share": 0.5}, {"name": "b", "share": 0.5}]}]}, "not under `tenants:`"),
    ({"experiments": [{"name": "e", "arms": [{"name": "a", "share": 0.5}, {"name": "b", "share": 0.5, "start_tier": 9}]}]},
     "outside 1..3"),
    ({"ensemble": {"tasks": ["x"], "members": [1]}}, "at least two members"),
    ({"ensemble": {"members": [1, 7]}}, "ensemble names tier 7"),
    ({"tenants": {"acme": {"thresholds": {1: 1.5}}}}, "thresholds are in"),
    ({"tenants": {"acme": {"start_tier": 4}}}, "names tier 4"),
])
def test_platform_sections_that_cannot_work_are_refused_with_the_reason(sections, message):
    with pytest.raises(ConfigError, match=message):
        config(**sections)
