"""Watch a batch until every job is final, with a progress bar."""

from __future__ import annotations

import time

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from ladder.ledger.db import get_engine
from ladder.ledger.queries import BatchStatus, batch_status


def _tiers_line(status: BatchStatus) -> str:
    tiers = " ".join(f"t{t}:{n}" for t, n in sorted(status.by_final_tier.items()))
    failed = status.by_status.get("failed", 0)
    return f"{tiers}{'  failed:' + str(failed) if failed else ''}  ${status.cost_usd:.6f}"


def wait_for_batch(batch_id: int, *, timeout: float | None = None, poll: float = 0.5, console: Console | None = None) -> BatchStatus:
    """Block until the batch is complete (or ``timeout`` seconds pass); returns the last status."""
    console = console or Console(stderr=True)
    deadline = time.monotonic() + timeout if timeout else None
    engine = get_engine()
    columns = (TextColumn("batch {task.fields[batch]}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
               TextColumn("{task.fields[tiers]}"))
    with Progress(*columns, console=console, transient=False) as progress:
        with engine.connect() as conn:
            status = batch_status(conn, batch_id)
        bar = progress.add_task("jobs", total=status.jobs, batch=batch_id, tiers="")
        while True:
            with engine.connect() as conn:
                status = batch_status(conn, batch_id)
            progress.update(bar, completed=status.finished, tiers=_tiers_line(status))
            if status.complete or (deadline and time.monotonic() > deadline):
                return status
            time.sleep(poll)
