"""Fault-test kit: batch files, ledger figures (submitted / final / lost / duplicated), waiting."""

from __future__ import annotations

import json
import time

from sqlalchemy import text


def instant_tiers(n: int = 2, **tier1_options) -> list[dict]:
    tiers = []
    for i in range(1, n + 1):
        options = {"escalate_share": 0.3 if i < n else 0.0} | (tier1_options if i == 1 else {})
        tiers.append({"name": f"t{i}", "provider": "instant", "model": f"instant-{i}", "threshold": 0.5,
                      "timeout_s": 3, "max_retries": 1, "prices": {"input_per_1m": str(i), "output_per_1m": str(2 * i)},
                      "options": options})
    return tiers


def write_batch(path, n: int, prefix: str = "job"):
    with path.open("w") as out:
        for i in range(n):
            out.write(json.dumps({"custom_id": f"{prefix}-{i}", "prompt": f"{prefix} prompt {i} with some words", "max_tokens": 8}) + "\n")
    return path


def figures(engine, batch: int) -> dict:
    with engine.connect() as conn:
        row = conn.execute(text("""
            select (select job_count from batches where id = :b) as submitted,
                   count(*) filter (where j.status in ('done', 'failed')) as final,
                   count(*) filter (where j.status not in ('done', 'failed')) as unfinished,
                   (select count(*) - count(distinct (a.job_id, a.tier, a.try_no, a.member))
                      from attempts a join jobs j2 on j2.id = a.job_id where j2.batch_id = :b) as duplicated,
                   (select coalesce(sum(total_cost_usd), 0) from jobs where batch_id = :b) as job_total,
                   (select coalesce(sum(a.cost_usd), 0) from attempts a join jobs j3 on j3.id = a.job_id
                     where j3.batch_id = :b) as attempt_total
            from jobs j where j.batch_id = :b"""), {"b": batch}).one()
    result = dict(row._mapping)
    result["lost"] = result["submitted"] - result["final"]
    return result


def wait_final(engine, batch: int, timeout: float) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        current = figures(engine, batch)
        if current["unfinished"] == 0 or time.monotonic() > deadline:
            return current
        time.sleep(0.5)


def report_line(name: str, f: dict) -> None:
    print(f"\n[{name}] submitted={f['submitted']} final={f['final']} lost={f['lost']} "
          f"duplicated_charges={f['duplicated']} job_total={f['job_total']} attempt_total={f['attempt_total']}")


def unfinished_breakdown(engine, batch: int) -> dict:
    """Where the unfinished jobs of a batch stand, to explain a failure."""
    with engine.connect() as conn:
        rows = conn.execute(text(
            "select status, current_tier, count(*), min(updated_at), max(updated_at) from jobs "
            "where batch_id = :b and status not in ('done', 'failed') group by 1, 2"), {"b": batch}).all()
    return {f"{r[0]}@tier{r[1]}": (r[2], str(r[3]), str(r[4])) for r in rows}
