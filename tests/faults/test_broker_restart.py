"""Fault 2: restart Redis (no persistence) in the middle of a batch; the sweeper recovers from Postgres."""

import time

from ladder.stack.redis import RedisServer
from tests.faults.kit import figures, instant_tiers, report_line, unfinished_breakdown, wait_final, write_batch


def test_jobs_lost_with_the_broker_are_recovered_by_the_sweeper(cluster, ledger, tmp_path):
    # Given a broker of our own that keeps nothing on disk
    broker = RedisServer(tmp_path / "redis", persist=False).start()
    try:
        c = cluster({"tiers": instant_tiers(2, delay_s=0.05), "sweeper": {"interval_s": 1, "stale_after_s": 3}},
                    broker_url=broker.url)
        c.start_workers([1, 2], concurrency=2, beat=True)
        batch = int(c.ladder("submit", str(write_batch(tmp_path / "jobs.jsonl", 200))).stdout.split()[-1])
        deadline = time.monotonic() + 60
        while figures(ledger, batch)["final"] < 30 and time.monotonic() < deadline:
            time.sleep(0.1)
        # When Redis restarts empty: every queued and unacknowledged message is gone
        broker.restart()
        # Then the workers reconnect and the sweeper re-sends what Postgres says is unfinished
        result = wait_final(ledger, batch, timeout=240)
        report_line("redis restart", result)
        assert result["final"] == 200 and result["lost"] == 0, (
            unfinished_breakdown(ledger, batch),
            {child.name: c.supervisor.log_tail(child, 8) for child in c.supervisor.children})
        assert result["duplicated"] == 0
        assert result["job_total"] == result["attempt_total"]
    finally:
        broker.stop()
