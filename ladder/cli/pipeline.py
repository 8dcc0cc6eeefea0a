"""Commands of the pipeline itself: migrate, submit, status, export, worker, flower."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import click

ROOT = Path(__file__).resolve().parent.parent.parent


def run_migrations(url: str | None = None, revision: str = "head") -> None:
    from alembic import command
    from alembic.config import Config

    from ladder.settings import get_settings

    cfg = Config(str(ROOT / "alembic.ini"))
    cfg.attributes["url"] = url or get_settings().require_database_url()
    cfg.attributes["configure_logger"] = False
    command.upgrade(cfg, revision)


@click.command()
def migrate() -> None:
    """Create or upgrade the ledger schema (alembic upgrade head)."""
    run_migrations()
    sync_config_to_ledger()
    click.echo("ledger is at the latest schema; tiers and budgets synced from the config")


def sync_config_to_ledger() -> None:
    """Copy the config's tiers (prices) and tenant budgets into the ledger."""
    from ladder.config import get_config
    from ladder.ledger.db import get_engine
    from ladder.ledger.tiers import sync_tiers
    from worker.budget import sync_budgets

    config = get_config()
    with get_engine().begin() as conn:
        sync_tiers(conn, config)
        sync_budgets(conn, config)


@click.command()
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--tenant", default="default", show_default=True)
@click.option("--name", help="batch name (default: the file name)")
@click.option("--format", "fmt", type=click.Choice(["ladder", "openai", "csv"]), default=None,
              help="input format (default: detected: .csv or a CSV header → csv; JSONL whose first object has body and method → openai; else ladder)")
@click.option("--wait", is_flag=True, help="show a progress bar until every job is final, then a summary")
@click.option("--timeout", type=float, default=None, help="with --wait: give up waiting after this many seconds")
def submit(file: Path, tenant: str, name: str | None, fmt: str | None, wait: bool, timeout: float | None) -> None:
    """Submit a batch file; prints the batch id."""
    from rich.console import Console

    from ladder.config import get_config
    from producer.submit import submit_file

    err = Console(stderr=True)
    submitted = submit_file(file, get_config(), tenant=tenant, name=name, fmt=fmt)
    for problem in submitted.errors[:50]:
        err.print(f"[yellow]skipped[/] {file}: {problem}", soft_wrap=True, markup=True, highlight=False)
    if len(submitted.errors) > 50:
        err.print(f"[yellow]… and {len(submitted.errors) - 50} more bad lines[/]")
    err.print(f"batch {submitted.batch_id}: {submitted.job_count} jobs queued, {len(submitted.errors)} lines rejected")
    if wait:
        from ladder.ledger.db import get_engine
        from ladder.ledger.report import print_report
        from producer.progress import wait_for_batch

        status = wait_for_batch(submitted.batch_id, timeout=timeout, console=err)
        print_report(get_engine(), batch=submitted.batch_id, console=err)
        if not status.complete:
            err.print(f"[red]timed out[/]: {status.jobs - status.finished} jobs not final yet; `ladder status {submitted.batch_id}`")
            click.echo(submitted.batch_id)
            sys.exit(1)
    click.echo(submitted.batch_id)


@click.command()
@click.argument("batch", type=int)
@click.option("--tenant", default=None, help="only answer if the batch belongs to this tenant")
@click.option("--json", "as_json", is_flag=True)
def status(batch: int, tenant: str | None, as_json: bool) -> None:
    """Counts of a batch's jobs by status and by final tier."""
    from rich.console import Console
    from rich.table import Table

    from ladder.ledger.db import get_engine
    from ladder.ledger.queries import batch_status

    with get_engine().connect() as conn:
        st = batch_status(conn, batch, tenant)
    if as_json:
        click.echo(json.dumps(st.as_json()))
        return
    table = Table(title=f"batch {st.batch_id} · {st.name} · tenant {st.tenant}")
    table.add_column("")
    table.add_column("jobs", justify="right")
    for state in ("queued", "routed", "running", "done", "failed"):
        table.add_row(state, str(st.by_status.get(state, 0)))
    for tier, count in sorted(st.by_final_tier.items()):
        table.add_row(f"final tier {tier}", str(count))
    table.add_row("attempts", str(st.attempts))
    table.add_row("cost (USD)", f"{st.cost_usd:.10f}".rstrip("0"))
    Console().print(table)


@click.command()
@click.argument("batch", type=int)
@click.option("-o", "--output", type=click.Path(path_type=Path), default=None, help="file to write (default: stdout)")
@click.option("--errors", "errors_file", type=click.Path(path_type=Path), default=None,
              help="OpenAI-format batches: file for the requests without an answer "
                   "(default: OUTPUT's name with .errors.jsonl, or batch-BATCH.errors.jsonl)")
@click.option("--tenant", default=None, help="only export if the batch belongs to this tenant")
def export(batch: int, output: Path | None, errors_file: Path | None, tenant: str | None) -> None:
    """A batch's results as JSONL: one line per job.

    A batch submitted in the OpenAI Batch format is exported in that API's
    output format, with the failed requests in a separate error file.
    """
    from contextlib import ExitStack

    from ladder.ledger.db import get_engine
    from ladder.ledger.queries import batch_status, export_rows

    with get_engine().connect() as conn, ExitStack() as files:
        # The tenant check comes first, so nothing is written for someone else's batch.
        input_format = batch_status(conn, batch, tenant).input_format
        out = files.enter_context(output.open("w", encoding="utf-8")) if output else sys.stdout
        if input_format == "openai":
            from ladder.ledger.export_openai import default_errors_path, write_openai_export

            errors_file = errors_file or default_errors_path(output, batch)
            errors = files.enter_context(errors_file.open("w", encoding="utf-8"))
            answered, unanswered = write_openai_export(conn, batch, tenant, out, errors)
            click.echo(f"wrote {answered} results to {output or 'stdout'} and {unanswered} errors to {errors_file}", err=True)
            return
        count = 0
        for row in export_rows(conn, batch, tenant):
            out.write(json.dumps(row, ensure_ascii=False) + "\n")
            count += 1
    if output:
        click.echo(f"wrote {count} results to {output}", err=True)


@click.command()
@click.option("--tier", "tiers", type=int, multiple=True, help="tier queue(s) to serve (repeatable)")
@click.option("--route", is_flag=True, help="serve the route queue")
@click.option("--audit", is_flag=True, help="serve the audit queue (re-runs a share of accepted jobs on the audit tier)")
@click.option("-c", "--concurrency", type=int, default=None, help="worker processes (default: the tier's `concurrency`)")
@click.option("--pool", default="prefork", show_default=True)
@click.option("--loglevel", default="INFO", show_default=True, envvar="LADDER_LOG_LEVEL",
              help="DEBUG also logs prompt text")
@click.option("-n", "--hostname", default=None)
@click.option("--beat", is_flag=True, help="also run Celery beat (the periodic sweeper); run exactly one of these")
def worker(tiers: tuple[int, ...], route: bool, audit: bool, concurrency: int | None, pool: str, loglevel: str,
           hostname: str | None, beat: bool) -> None:
    """A Celery worker on a tier's queue (or on the route queue)."""
    from ladder.config import get_config
    from worker.app import ROUTE_QUEUE, app, tier_queue
    from worker.audit import AUDIT_QUEUE, audit_policy

    if not tiers and not route and not audit:
        raise click.UsageError("give --tier N (one or more), --route or --audit")
    config = get_config()
    for tier in tiers:
        config.tier(tier)  # fail fast on a tier the config does not have
    queues = ([ROUTE_QUEUE] if route else []) + [tier_queue(t) for t in tiers] + ([AUDIT_QUEUE] if audit else [])
    # The processes load these tiers' models once, after fork (the audit tier's too).
    loaded = sorted(set(tiers) | ({audit_policy(config).tier} if audit else set()))
    os.environ["LADDER_WORKER_TIERS"] = ",".join(str(t) for t in loaded)
    if concurrency is None:
        concurrency = max([config.tier(t).concurrency for t in tiers] or [2])
    name = hostname or f"{'-'.join(queues)}@%h"
    from worker import keepalive

    if not keepalive.is_child():
        # This process only keeps the real worker alive (see worker/keepalive.py).
        sys.exit(keepalive.supervise([sys.executable, "-m", "ladder.cli.main", *sys.argv[1:]]))
    sync_config_to_ledger()
    argv = ["worker", "-Q", ",".join(queues), "-c", str(concurrency), "-P", pool, "-n", name,
            "--loglevel", loglevel, "--without-mingle", "--without-gossip"]
    if beat:
        from ladder.settings import get_settings

        schedule = get_settings().home / "celerybeat-schedule"
        schedule.parent.mkdir(parents=True, exist_ok=True)
        argv += ["-B", "-s", str(schedule)]
    app.worker_main(argv)


@click.command()
@click.option("--port", type=int, default=5555, show_default=True)
@click.option("--address", default="127.0.0.1", show_default=True)
def flower(port: int, address: str) -> None:
    """Flower on Ladder's Celery app (basic auth from LADDER_FLOWER_USER / _PASSWORD)."""
    from ladder.settings import get_settings
    from ladder.stack.ports import require_free
    from worker.app import app

    settings = get_settings()
    require_free(port, "Flower", address)
    args = ["flower", f"--port={port}", f"--address={address}"]
    if settings.flower_user and settings.flower_password:
        args.append(f"--basic-auth={settings.flower_user}:{settings.flower_password}")
    elif address in ("127.0.0.1", "localhost", "::1"):
        # Loopback only: the HTTP API may answer without auth (Flower 2.2 refuses otherwise).
        os.environ.setdefault("FLOWER_UNAUTHENTICATED_API", "true")
    else:
        raise click.UsageError("Flower on a non-loopback address needs LADDER_FLOWER_USER and LADDER_FLOWER_PASSWORD")
    app.start(args)


COMMANDS = [migrate, submit, status, export, worker, flower]
