"""Fault 5: many workers race for a small budget; the overshoot stays within the stated bound.

The bound: reservations are the call's worst case (prompt + max_tokens at
list price), so spent + reserved never passes the limit at reservation time
and, with actual <= reserved, the final spend cannot pass it either.
"""

from decimal import Decimal

from sqlalchemy import text

from tests.faults.kit import instant_tiers, report_line, wait_final, write_batch

LIMIT = Decimal("0.0200")


def test_concurrent_workers_do_not_overspend_a_tenant_budget(cluster, ledger, tmp_path):
    # Given one tier priced so that the budget covers only part of the batch, and six worker processes
    tier = instant_tiers(1, delay_s=0.02)[0] | {"prices": {"input_per_1m": "20", "output_per_1m": "40"}}
    c = cluster({"tiers": [tier], "tenants": {"tight": {"budget_usd": str(LIMIT)}}})
    c.ladder("migrate")
    c.start_workers([], concurrency=1)
    for n in range(3):
        c.start_tier_worker(1, concurrency=2, name=f"tier1-{n}")
    # When 200 jobs of that tenant arrive at once
    batch = int(c.ladder("submit", str(write_batch(tmp_path / "jobs.jsonl", 200)), "--tenant", "tight").stdout.split()[-1])
    result = wait_final(ledger, batch, timeout=180)
    report_line("budget race", result)
    with ledger.connect() as conn:
        spent, reserved, limit = conn.execute(text("select spent_usd, reserved_usd, limit_usd from budgets where tenant = 'tight'")).one()
        charged = conn.execute(text("select coalesce(sum(cost_usd), 0) from attempts")).scalar()
        stopped = conn.execute(text("select count(*) from jobs where stop_reason like 'budget%'")).scalar()
    print(f"[budget race] limit={limit} spent={spent} charged={charged} stopped_for_budget={stopped}")
    # Then every job is final, the money charged never passes the limit, and the books balance
    assert result["lost"] == 0 and result["duplicated"] == 0
    assert charged <= LIMIT and spent == charged and reserved == 0
    assert stopped > 0, "the budget should have run out before the batch did"
    assert result["job_total"] == result["attempt_total"]
