"""Platform-test kit: batch files with chosen prompts, per-job ledger rows, submitting without waiting."""

from __future__ import annotations

import json

from sqlalchemy import text


def write_lines(path, lines: list[dict]):
    with path.open("w") as out:
        for line in lines:
            out.write(json.dumps(line) + "\n")
    return path


def submit(cluster, path, tenant: str = "default") -> int:
    return int(cluster.ladder("submit", str(path), "--tenant", tenant).stdout.split()[-1])


def job_rows(engine, batch: int) -> list:
    with engine.connect() as conn:
        return conn.execute(text("select * from jobs where batch_id = :b order by id"), {"b": batch}).all()


def attempt_rows(engine, job_id: int) -> list:
    with engine.connect() as conn:
        return conn.execute(text("select * from attempts where job_id = :j order by id"), {"j": job_id}).all()
