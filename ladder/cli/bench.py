"""``ladder bench NAME``: the performance benchmarks (see benchmarks/README.md)."""

from __future__ import annotations

import json
from pathlib import Path

import click

DEFAULT_JOBS = {"pipeline": 5000, "submit": 6250, "local": 4, "latency": 250}
WHAT = {
    "pipeline": "Ladder jobs/s (instant tiers, 30% escalate) against raw Celery no-op tasks/s, same broker and workers",
    "submit": "a generated file to the queue: jobs/s and the producer's peak RSS",
    "local": "tier-1 SmolLM2 tokens/s with confidence against plain llama-cpp-python",
    "latency": "end-to-end latency under load, and what predictive routing saves against a pure cascade",
}


def _scales(raw: str) -> tuple[int, ...]:
    try:
        scales = tuple(int(part) for part in raw.split(",") if part.strip())
    except ValueError:
        raise click.BadParameter(f"{raw!r}: give whole numbers separated by commas, e.g. 1,4,16") from None
    if not scales or min(scales) < 1:
        raise click.BadParameter(f"{raw!r}: give at least one multiple, each 1 or more")
    return scales


@click.command()
@click.argument("name", type=click.Choice(list(DEFAULT_JOBS)))
@click.option("--jobs", type=int, default=None, help="base job count (pipeline 5,000; submit 6,250, so that 16x is the 100,000-line target; local 4 prompts; "
                                                      "latency 250)")
@click.option("--scales", default="1,4,16", show_default=True, help="multiples of --jobs to run, to show how cost grows")
@click.option("--concurrency", "-c", type=int, default=2, show_default=True, help="worker processes (pipeline, latency)")
@click.option("--threads", type=int, default=1, show_default=True, help="llama.cpp threads (local; the bundled tiers use 1)")
@click.option("--loglevel", default="WARNING", show_default=True, help="log level of the benchmark's workers")
@click.option("--outcomes", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help="recorded outcomes for the routing saving (latency; default: the GSM8K file)")
@click.option("--json", "as_json", is_flag=True, help="print the result as one JSON object")
def bench(name: str, jobs: int | None, scales: str, concurrency: int, threads: int, loglevel: str, outcomes: Path | None,
          as_json: bool) -> None:
    """Run one benchmark: pipeline, submit, local or latency."""
    jobs = jobs or DEFAULT_JOBS[name]
    multiples = _scales(scales)
    echo = (lambda *_: None) if as_json else click.echo
    echo(f"{name}: {WHAT[name]}")
    if name == "pipeline":
        from ladder.bench.pipeline import run_pipeline
        from ladder.bench.summary import print_pipeline

        result = run_pipeline(jobs, multiples, concurrency, loglevel)
        printer = print_pipeline
    elif name == "submit":
        from ladder.bench.submit import run_submit
        from ladder.bench.summary import print_submit

        result = run_submit(jobs, multiples)
        printer = print_submit
    elif name == "local":
        from ladder.bench.local import run_local
        from ladder.bench.summary import print_local

        result = run_local(jobs, multiples, threads)
        printer = print_local
    else:
        from ladder.bench.latency import run_latency
        from ladder.bench.summary import print_latency

        result = run_latency(jobs, multiples, concurrency, loglevel, outcomes)
        printer = print_latency
    from ladder.bench.measure import machine

    result["machine"] = machine()
    if as_json:
        click.echo(json.dumps(result, default=str))
    else:
        printer(result, click.echo)


COMMANDS = [bench]
