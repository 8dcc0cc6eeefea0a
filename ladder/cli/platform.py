"""Platform commands: ``ladder experiments`` compares the arms of the config's A/B experiments."""

from __future__ import annotations

import json

import click


def _plain(value):
    from decimal import Decimal

    if isinstance(value, Decimal):
        return str(value.quantize(Decimal("0.0000000001")))
    if isinstance(value, float):
        return round(value, 6)
    return value


def _interval_json(interval) -> dict:
    return {"value": _plain(interval.value), "low": _plain(interval.low), "high": _plain(interval.high)}


def _interval_text(interval, money: bool = False) -> str:
    if interval.value is None:
        return "—"
    fmt = (lambda v: f"${v:.6f}") if money else (lambda v: f"{v:.3f}")
    return f"{fmt(interval.value)} [{fmt(interval.low)}, {fmt(interval.high)}]"


def _needed_text(needed: int | None) -> str:
    return "no difference yet" if needed is None else ("conclusive" if needed == 0 else f"{needed} more per arm")


# (label, cell(figures, is_control)) of the text table, one row per figure.
ROWS = [
    ("jobs", lambda f, _: str(f.jobs)),
    ("cost per job", lambda f, _: _interval_text(f.cost_per_job, money=True)),
    ("escalation rate", lambda f, _: _interval_text(f.escalation_rate)),
    ("confidence", lambda f, _: _interval_text(f.confidence)),
    ("audit agreement", lambda f, _: f"{_interval_text(f.audit_agreement)} of {f.audited}"),
    ("cost: jobs needed", lambda f, control: "" if control else _needed_text(f.needed_for_cost)),
    ("escalation: jobs needed", lambda f, control: "" if control else _needed_text(f.needed_for_escalation)),
]


@click.command()
@click.option("--experiment", help="only this experiment (its name in the config)")
@click.option("--tenant", help="only this tenant's jobs")
@click.option("--json", "as_json", is_flag=True, help="print the figures as JSON (money as exact decimal strings)")
def experiments(experiment: str | None, tenant: str | None, as_json: bool) -> None:
    """Per experiment arm: cost per job, escalation rate, confidence, audit agreement, with 95% intervals.

    Each arm is compared with the experiment's first arm (the control), with
    the sample size per arm still needed before the difference is conclusive.
    """
    from ladder.config import get_config
    from ladder.ledger.db import get_engine
    from ladder.ledger.experiments import arm_figures

    order = {e.name: [a.name for a in e.arms] for e in get_config().experiments}
    with get_engine().connect() as conn:
        figures = arm_figures(conn, order, experiment=experiment, tenant=tenant)
    if as_json:
        click.echo(json.dumps([{
            "experiment": f.experiment, "arm": f.arm, "control": order.get(f.experiment, [f.arm])[0] == f.arm,
            "jobs": f.jobs, "cost_per_job_usd": _interval_json(f.cost_per_job),
            "escalation_rate": _interval_json(f.escalation_rate), "confidence": _interval_json(f.confidence),
            "audited": f.audited, "audit_agreement": _interval_json(f.audit_agreement),
            "jobs_needed": {"cost": f.needed_for_cost, "escalation": f.needed_for_escalation},
        } for f in figures], indent=2))
        return
    from rich.console import Console
    from rich.table import Table

    if not figures:
        click.echo("no finished jobs in any experiment arm yet (see `experiments:` in the config)", err=True)
        return
    console = Console()
    # One table per experiment, an arm per column: figures stay readable however many arms there are.
    for name in dict.fromkeys(f.experiment for f in figures):
        arms = [f for f in figures if f.experiment == name]
        table = Table(title=f"experiment {name} · 95% intervals · each arm against {arms[0].arm}")
        table.add_column("")
        for f in arms:
            table.add_column(f.arm + (" (control)" if f is arms[0] else ""))
        for label, cell in ROWS:
            table.add_row(label, *(cell(f, f is arms[0]) for f in arms))
        console.print(table)


COMMANDS = [experiments]
