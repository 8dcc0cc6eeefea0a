"""Offline commands on recorded outcomes: ``ladder eval``, ``ladder tune``, ``ladder train-router``."""

from __future__ import annotations

import json
from pathlib import Path

import click

ROUTER_NAMES = ("random", "oracle", "learned", "cascade")
_models = click.option("--models", default=None,
                       help="model columns, cheapest first: CHEAP,EXPENSIVE[,...] (default: every column, by list price or weakest first)")
_seed = click.option("--seed", type=int, default=0, show_default=True, help="seed of the train/test split")
_fraction = click.option("--train-fraction", type=float, default=0.5, show_default=True, help="share of rows to train on")
_prices = click.option("--prices", default=None, help="MODEL=IN/OUT,... USD per 1M tokens (known list prices by default)")


def _load(file: str, models: str | None):
    from ladder.offline.metrics import cheapest_first
    from ladder.offline.outcomes import read_outcomes

    if models:
        return read_outcomes(file, [m.strip() for m in models.split(",") if m.strip()])
    every = read_outcomes(file)
    order = cheapest_first(every.accuracy())
    click.echo(f"models, cheapest first (pass --models to choose): {','.join(order)}", err=True)
    return read_outcomes(file, order)


def _fmt(value, digits: int = 3) -> str:
    return "–" if value is None else f"{value:.{digits}f}"


def _results_table(results: list[dict]):
    from rich.table import Table

    models = results[0]["models"]
    table = Table(title=f"routing on {results[0]['n_test']} test prompts (trained on {results[0]['n_train']})")
    table.add_column("router")
    for column in ("top share @95%", "cost ratio @95%", "CPT(50%)", "CPT(80%)", "APGR"):
        table.add_column(column, justify="right")
    for r in results:
        table.add_row(r["router"], *(_fmt(r[k]) for k in ("top_share_at_95", "cost_ratio_at_95", "cpt50", "cpt80", "apgr")))
    accuracy = ", ".join(f"{m} {results[0]['accuracy'][m]:.3f}" for m in models)
    table.caption = f"test accuracy: {accuracy}. Shares are fractions of test prompts."
    return table


@click.command("eval")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@_models
@click.option("--router", default="all", show_default=True, type=click.Choice([*ROUTER_NAMES, "all"]))
@_fraction
@_seed
@_prices
@click.option("--json", "as_json", is_flag=True, help="print one JSON object")
def eval_(file, models, router, train_fraction, seed, prices, as_json):
    """Replay routing policies on a recorded-outcomes FILE and measure cost against quality."""
    from rich.console import Console

    from ladder.offline.metrics import parse_prices, prices_for
    from ladder.offline.routers import evaluate

    outcomes = _load(file, models)
    price_table = prices_for(outcomes.models, parse_prices(prices))
    names = list(ROUTER_NAMES) if router == "all" else [router]
    if router == "all" and not outcomes.has_responses(outcomes.models[:-1]):
        names.remove("cascade")  # a query-only file has no answers to judge
    results = [evaluate(outcomes, name, price_table, train_fraction=train_fraction, seed=seed) for name in names]
    if as_json:
        click.echo(json.dumps(results[0] if router != "all" else {"results": results}))
    else:
        Console().print(_results_table(results))


def _front_table(tuning, target: float):
    from rich.table import Table

    table = Table(title=f"cost / quality Pareto front (target {target:.0%} of the top model = {tuning.goal:.3f})")
    for column in ("threshold", "share at top", "quality", "cost USD", "cost vs all-top"):
        table.add_column(column, justify="right")
    step = max(1, len(tuning.front) // 25)  # a readable table: every step-th point, and always the chosen one
    for index, point in enumerate(tuning.front):
        if point is not tuning.chosen and index % step:
            continue
        style = "bold green" if point is tuning.chosen else None
        ratio = float(point.cost / tuning.all_top_cost) if tuning.all_top_cost else None
        table.add_row(f"{point.threshold:.4f}", _fmt(point.share_top), _fmt(point.quality), f"{point.cost:.6f}",
                      _fmt(ratio), style=style)
    return table


@click.command("tune")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@_models
@click.option("--router", default="cascade", show_default=True, type=click.Choice(["cascade", "learned"]))
@click.option("--target", type=float, default=0.95, show_default=True, help="share of the top model's quality to reach")
@_fraction
@_seed
@_prices
@click.option("--out", "-o", type=click.Path(dir_okay=False), required=True, help="thresholds file (.yaml or .json)")
@click.option("--sweep", type=click.Path(dir_okay=False), default=None, help="write every swept point as JSON")
@click.option("--plot", type=click.Path(dir_okay=False), default=None, help="save the Pareto front as a PNG")
def tune(file, models, router, target, train_fraction, seed, prices, out, sweep, plot):
    """Sweep thresholds on recorded outcomes; write the cheapest ones that reach --target."""
    from rich.console import Console

    from ladder.errors import InputError
    from ladder.offline import tune as tuning_
    from ladder.offline.metrics import parse_prices, prices_for

    outcomes = _load(file, models)
    out = Path(out)
    tuning = tuning_.tune(outcomes, prices_for(outcomes.models, parse_prices(prices)), out, router=router,
                          target=target, train_fraction=train_fraction, seed=seed)
    console = Console()
    console.print(_front_table(tuning, target))
    if sweep:
        tuning_.write_sweep(tuning.points, Path(sweep), tuning.settings["tuned_on"]["rows"])
    if plot:
        tuning_.plot_front(tuning, Path(plot), f"{router} on {Path(file).name}")
    tuning_.write_settings(tuning.settings, out)
    if tuning.chosen is None:
        raise InputError(f"no threshold reaches {target:.0%} of the top model's quality; lower --target")
    console.print(f"wrote {out} (thresholds {tuning.settings['thresholds']}) and {tuning.settings['artifact']}")


@click.command("train-router")
@click.argument("file", type=click.Path(exists=True, dir_okay=False), required=False)
@_models
@click.option("--from-ledger", is_flag=True, help="train on the ledger's accepted / escalated attempts instead of FILE")
@click.option("--tiers", default=None, help="live tier numbers of the models, e.g. 1,4 (default 1..N)")
@click.option("--threshold", type=float, default=0.5, show_default=True, help="start at the lowest tier with P(success) >= this")
@_seed
@click.option("--out", "-o", type=click.Path(dir_okay=False), required=True, help="router artifact (JSON)")
def train_router(file, models, from_ledger, tiers, threshold, seed, out):
    """Train the learned router the route task loads (routing.router: learned, routing.router_path)."""
    from ladder.errors import InputError
    from worker.route.learned import LearnedRouter

    tier_numbers = [int(t) for t in tiers.split(",")] if tiers else None
    if from_ledger:
        from ladder.ledger.db import get_engine
        from ladder.offline.outcomes import ledger_history

        history = ledger_history(get_engine(), tier_numbers)
        prompts, successes, tier_numbers = history.prompts, history.successes, history.tiers
    elif file:
        outcomes = _load(file, models)
        prompts, successes = outcomes.prompts, outcomes.correct[:, :-1].tolist()
        tier_numbers = tier_numbers or list(range(1, len(outcomes.models) + 1))
        if len(tier_numbers) != len(outcomes.models):
            raise InputError(f"--tiers names {len(tier_numbers)} tiers for {len(outcomes.models)} models")
    else:
        raise InputError("give a recorded-outcomes FILE, or --from-ledger")
    router = LearnedRouter.train(prompts, successes, tier_numbers, threshold=threshold, seed=seed)
    router.save(out)
    click.echo(f"trained on {len(prompts)} prompts for tiers {tier_numbers}; wrote {out}")


COMMANDS = [eval_, tune, train_router]
