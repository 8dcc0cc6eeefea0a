"""Commands for operating a running cascade: health and sweep."""

from __future__ import annotations

import json

import click


@click.command()
@click.option("--json", "as_json", is_flag=True)
def health(as_json: bool) -> None:
    """Each tier's circuit: closed, open or half-open, and its failure count."""
    from rich.console import Console
    from rich.table import Table

    from ladder.config import get_config
    from worker.health import circuit

    config = get_config()
    circuits = circuit.read_all(range(1, config.top_tier + 1), config.health)
    if as_json:
        click.echo(json.dumps({t: {"state": c.state.value, "failures": c.failures, "opened_at": c.opened_at}
                               for t, c in circuits.items()}))
        return
    table = Table(title="tier health")
    for column in ("tier", "name", "provider", "circuit", "consecutive failures"):
        table.add_column(column)
    colour = {"closed": "green", "open": "red", "half_open": "yellow"}
    for tier, state in circuits.items():
        spec = config.tier(tier)
        table.add_row(str(tier), spec.name, spec.provider, f"[{colour[state.state.value]}]{state.state.value}[/]", str(state.failures))
    Console().print(table)


@click.command()
def sweep() -> None:
    """Re-send jobs whose state has not moved for too long (what beat runs periodically)."""
    from worker.sweep import sweep as run_sweep

    result = run_sweep()
    click.echo(f"re-sent {result.requeued_route} to route, {result.requeued_tier} to tiers; "
               f"released {result.released_reservations} stale budget reservations")


COMMANDS = [health, sweep]
