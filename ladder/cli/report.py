"""``ladder report``: the cost table per tier, as text, JSON or a picture."""

from __future__ import annotations

import json
from datetime import timezone
from pathlib import Path

import click


@click.command()
@click.option("--batch", type=int, help="only this batch (its id, as `ladder submit` printed it)")
@click.option("--tenant", help="only this tenant's jobs")
@click.option("--since", type=click.DateTime(["%Y-%m-%d", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S"]),
              help="only jobs created at or after this UTC date or time")
@click.option("--json", "as_json", is_flag=True, help="print the figures as JSON (money as exact decimal strings)")
@click.option("--plot", "plot_path", type=click.Path(dir_okay=False, path_type=Path),
              help="also draw the cost against the all-top-tier baseline into this PNG")
@click.option("--sweep", "sweep_path", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="threshold sweep from `ladder tune` (JSON list of {cost, quality, threshold}) for the plot's Pareto front")
@click.option("--by-arm", is_flag=True, help="compare the arms of the A/B experiments instead (same as `ladder experiments`)")
@click.pass_context
def report(ctx, batch, tenant, since, as_json, plot_path, sweep_path, by_arm):
    """Per tier: share of jobs Pᵢ, cost Cᵢ, Σ Pᵢ·Cᵢ, saving against all-top-tier, escalation, latency."""
    if by_arm:
        from ladder.cli.platform import experiments

        return ctx.invoke(experiments, tenant=tenant, as_json=as_json)
    from ladder.ledger.db import get_engine
    from ladder.ledger.report import build_report, render, to_json
    from worker.audit.accuracy import render_accuracy, routing_accuracy

    if sweep_path and not plot_path:
        raise click.UsageError("--sweep only feeds the picture: give --plot FILE as well")
    since = since.replace(tzinfo=timezone.utc) if since else None
    engine = get_engine()
    figures = build_report(engine, batch=batch, tenant=tenant, since=since)
    with engine.connect() as conn:
        accuracy = routing_accuracy(conn, batch)
    if as_json:
        click.echo(json.dumps(json.loads(to_json(figures)) | {"routing_accuracy": accuracy.as_json()}, indent=2))
    else:
        from rich.console import Console

        console = Console()
        render(figures, console)
        render_accuracy(accuracy, console)
    if plot_path:
        from ladder.ledger.plot import plot_front

        plot_front(figures, plot_path, sweep_path)
        click.echo(f"wrote {plot_path}", err=as_json)


COMMANDS = [report]
