"""``ladder demo``, ``ladder up`` and ``ladder down``: the embedded stack from the command line."""

from __future__ import annotations

import signal
import subprocess
import time
from pathlib import Path

import click

SAMPLE_BATCH = Path(__file__).resolve().parent.parent.parent / "config" / "sample_batch.jsonl"


def _new_stack(background: bool, flower_port: int):
    from ladder.config import get_config
    from ladder.settings import get_settings
    from ladder.stack.stack import Stack

    return Stack(get_settings(), get_config(), background=background, flower_port=flower_port)


flower_port_option = click.option("--flower-port", type=int, default=5555, show_default=True, help="Flower's port on 127.0.0.1")


def _start_with_progress(stack, console) -> None:
    started = time.monotonic()
    for label, action in stack.steps():
        step_started = time.monotonic()
        with console.status(f"[bold]{label}[/] …"):
            detail = action()
        console.print(f"[green]✓[/] {label:<18} [dim]{detail}  ({time.monotonic() - step_started:.1f}s)[/]", soft_wrap=True)
    console.print(f"[bold green]stack up[/] in {time.monotonic() - started:.1f}s; logs in {stack.home / 'logs'}", soft_wrap=True)


def _print_where(stack, console) -> None:
    from ladder.stack.postgres import psql_binary

    # soft_wrap: long paths stay on one line, so they can be copied as they are.
    console.print(f"\nFlower:  [bold]{stack.flower_url}[/]  (queues: {stack.flower_url}/broker)", soft_wrap=True)
    if stack.psql_uri:
        console.print(f"Ledger:  {psql_binary()} '{stack.psql_uri}'", soft_wrap=True)
    if stack.background:
        console.print(f"Shell:   source {stack.env_file}   # then `ladder submit FILE --wait`, `ladder report`", soft_wrap=True)
    console.print()


def _stop_on_signals() -> None:
    # SIGTERM or a closed terminal end the run like Ctrl-C does: through the finally that stops the stack.
    def _exit(signum, _frame):
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, _exit)
    signal.signal(signal.SIGHUP, _exit)


def _stop(stack, console) -> None:
    with console.status("stopping the stack …"):
        stopped = stack.stop()
    if stopped:
        console.print(f"stopped {', '.join(stopped)}")


@click.command()
@click.option("--keep", is_flag=True, help="leave the stack running afterwards (stop it with `ladder down`)")
@click.option("--file", "batch_file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              default=SAMPLE_BATCH, show_default="config/sample_batch.jsonl", help="the batch to run")
@flower_port_option
def demo(keep: bool, batch_file: Path, flower_port: int) -> None:
    """Start the embedded stack, run the sample batch through the cascade, print the cost report."""
    from rich.console import Console

    from ladder.stack.stack import ladder_command

    console = Console()
    stack = _new_stack(background=keep, flower_port=flower_port)
    stack.check_ports()
    _stop_on_signals()
    try:
        _start_with_progress(stack, console)
        _print_where(stack, console)  # before the batch, so Flower can be watched while it runs
        env = stack.child_env()
        # stdout carries only the batch id; the progress bar goes to the terminal on stderr.
        submitted = subprocess.run(ladder_command("submit", str(batch_file), "--name", "demo", "--wait"),
                                   env=env, stdout=subprocess.PIPE, text=True)
        lines = submitted.stdout.split()
        if submitted.returncode != 0 or not lines:
            raise click.ClickException(f"`ladder submit` failed (exit code {submitted.returncode}); logs in {stack.home / 'logs'}")
        # `submit --wait` has printed the cost report; say how to see it again.
        console.print(f"Report again any time: [bold]ladder report --batch {lines[-1]}[/] (with `source {stack.env_file}`)",
                      soft_wrap=True)
        if keep:
            console.print(f"The stack keeps running (`source {stack.env_file}` to use it): [bold]ladder down[/] stops it.",
                          soft_wrap=True)
        elif not stack.settings.database_url:
            console.print(f"The ledger stays in {stack.home / 'postgres'}: `ladder up` serves it again.", soft_wrap=True)
    except BaseException:
        if keep:
            from ladder.stack.stack import stop_background

            stop_background(stack.home)
        raise
    finally:
        _stop(stack, console)


@click.command()
@flower_port_option
def up(flower_port: int) -> None:
    """Start the embedded stack in the background (state under .ladder/)."""
    from rich.console import Console

    from ladder.stack.stack import stop_background

    console = Console()
    stack = _new_stack(background=True, flower_port=flower_port)
    stack.check_ports()
    try:
        _start_with_progress(stack, console)
    except BaseException:
        console.print("[red]start-up failed[/]: stopping what was started")
        stop_background(stack.home)
        raise
    _print_where(stack, console)
    console.print("Stop it with [bold]ladder down[/].")


@click.command()
def down() -> None:
    """Stop the stack that `ladder up` started."""
    from ladder.settings import get_settings
    from ladder.stack.stack import stop_background

    stopped = stop_background(get_settings().home)
    click.echo(f"stopped {', '.join(stopped)}" if stopped else "nothing was running")


@click.command("model-server")
@click.argument("name")
@click.option("--host", default=None, help="listen address (default: the entry's host, 127.0.0.1)")
def model_server(name: str, host: str | None) -> None:
    """Run one `model_servers` entry of the config in the foreground (what the containers run)."""
    import os

    from ladder.config import get_config
    from ladder.errors import ConfigError
    from ladder.settings import get_settings
    from ladder.stack.servers import served_model_name, server_command

    config = get_config()
    entry = next((s for s in config.model_servers if s.name == name), None)
    if entry is None:
        known = ", ".join(s.name for s in config.model_servers) or "none"
        raise ConfigError(f"no model server named {name!r} in the config's model_servers (known: {known})")
    if host:
        entry = entry.model_copy(update={"host": host})
    command = server_command(entry, get_settings().models_dir, served_model_name(config, entry))
    os.execv(command[0], command)  # the server itself receives the container's signals


COMMANDS = [demo, up, down, model_server]
