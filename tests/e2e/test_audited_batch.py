"""An audited batch: jobs accepted below the top tier are re-run there in the background,
and `ladder report` shows the measured routing accuracy per tier with an interval."""

import json
import sys
import time

import pytest
from sqlalchemy import text

from tests.faults.kit import instant_tiers, wait_final, write_batch

pytestmark = pytest.mark.e2e


def test_report_shows_routing_accuracy_from_audits(cluster, ledger, tmp_path):
    # Given every job accepted below the top tier is audited on it, by an audit worker
    c = cluster({"tiers": instant_tiers(3), "audit": {"share": 1.0}})
    c.start_workers([1, 2, 3])
    c.supervisor.spawn("audit", [sys.executable, "-m", "ladder.cli.main", "worker", "--audit", "-n", "audit@test"], c.env)
    # When a batch runs
    batch = int(c.ladder("submit", str(write_batch(tmp_path / "jobs.jsonl", 30))).stdout.split()[-1])
    assert wait_final(ledger, batch, timeout=90)["lost"] == 0
    with ledger.connect() as conn:
        below_top = conn.execute(text("select count(*) from jobs where batch_id = :b and final_tier < 3"), {"b": batch}).scalar()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        with ledger.connect() as conn:
            audited = conn.execute(text("select count(*) from audits")).scalar()
        if audited >= below_top:
            break
        time.sleep(0.5)
    # Then every such job has an audit, billed to the audit account and not to the job
    assert audited == below_top > 0
    with ledger.connect() as conn:
        job_total, attempt_total = conn.execute(text(
            "select (select sum(total_cost_usd) from jobs where batch_id = :b), "
            "(select sum(a.cost_usd) from attempts a join jobs j on j.id = a.job_id where j.batch_id = :b)"), {"b": batch}).one()
    assert job_total == attempt_total
    # And the report gives the agreement per tier with a 95% interval
    accuracy = json.loads(c.ladder("report", "--batch", str(batch), "--json").stdout)["routing_accuracy"]
    assert accuracy["audits"] == audited
    for tier, rate in accuracy["by_tier"].items():
        assert int(tier) < 3 and rate["audited"] > 0
        assert 0.0 <= rate["low"] <= rate["rate"] <= rate["high"] <= 1.0
    text_report = c.ladder("report", "--batch", str(batch)).stdout
    assert "routing accuracy" in text_report and "95% interval" in text_report
