"""A/B experiments on real workers: arms by job id, compared with intervals and the sample size still needed."""

from __future__ import annotations

import json

from click.testing import CliRunner

from ladder.cli.platform import experiments
from ladder.config import load_config
from tests.conftest import LADDER
from tests.faults.kit import instant_tiers, wait_final, write_batch
from tests.platform.kit import job_rows, submit
from worker.experiments import assign

JOBS = 200


def test_two_arms_are_reported_with_intervals_and_the_difference_is_conclusive(cluster, ledger, ladder_env, tmp_path):
    # Given an experiment that sends half of acme's jobs to an arm that trusts nothing on tier 1, and audits of all
    # jobs accepted below the top tier
    c = cluster({"tiers": instant_tiers(2), "tenants": {"acme": {}},
                 "audit": {"share": 1.0},
                 "experiments": [{"name": "strict-t1", "tenant": "acme", "arms": [
                     {"name": "control", "share": 0.5}, {"name": "strict", "share": 0.5, "thresholds": {1: 0.99}}]}]})
    c.start_workers([1, 2], concurrency=2)
    c.supervisor.spawn("audit", LADDER + ["worker", "--audit", "-c", "1", "-n", "audit@test"], c.env)
    # When a batch runs
    batch = submit(c, write_batch(tmp_path / "jobs.jsonl", JOBS, "ab"), "acme")
    assert wait_final(ledger, batch, timeout=180)["unfinished"] == 0
    # Then each job's arm is the one its id hashes to (a retry would land in the same arm)
    config = load_config(tmp_path / "ladder.yaml")
    rows = job_rows(ledger, batch)
    assert all((j.experiment, j.arm) == (assign(config, "acme", j.id).experiment, assign(config, "acme", j.id).arm)
               for j in rows)
    # And `ladder experiments --json` reports both arms with 95% intervals around each figure
    ladder_env(tmp_path / "ladder.yaml")
    result = CliRunner().invoke(experiments, ["--json"], catch_exceptions=False)
    control, strict = json.loads(result.output)
    assert (control["arm"], strict["arm"]) == ("control", "strict") and control["control"] and not strict["control"]
    assert control["jobs"] + strict["jobs"] == JOBS and min(control["jobs"], strict["jobs"]) > JOBS // 4
    for arm in (control, strict):
        for figure in ("cost_per_job_usd", "escalation_rate", "confidence"):
            low, value, high = (float(arm[figure][k]) for k in ("low", "value", "high"))
            assert low <= value <= high
    # And the strict arm escalated every job, at a higher cost, which is already a conclusive difference
    assert strict["escalation_rate"]["value"] == 1.0 > control["escalation_rate"]["high"]
    assert float(strict["cost_per_job_usd"]["low"]) > float(control["cost_per_job_usd"]["high"])
    assert strict["jobs_needed"]["escalation"] == 0 and strict["jobs_needed"]["cost"] == 0
    # And the control's tier-1 answers were audited, so its audit agreement has an interval too
    assert control["audited"] > 0 and control["audit_agreement"]["value"] is not None
    # And the text table names both arms
    table = CliRunner().invoke(experiments, [], catch_exceptions=False).output
    assert "strict" in table and "control" in table and "conclusive" in table
