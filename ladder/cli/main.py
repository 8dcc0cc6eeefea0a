"""Entry point of the ``ladder`` command.

Subcommand modules export ``COMMANDS`` (a list of click commands); they import
only click at module level so that ``ladder --help`` stays instant.
"""

from __future__ import annotations

import sys

import click

from ladder.cli import evaluate, pipeline, report, stack
from ladder.errors import LadderError


class _Group(click.Group):
    def invoke(self, ctx):
        # Ladder's own errors already say what to do: print them, no traceback.
        try:
            return super().invoke(ctx)
        except LadderError as exc:
            click.secho(f"error: {exc}", fg="red", err=True)
            sys.exit(2)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="ladder")
def cli() -> None:
    """Ladder: cascade bulk LLM jobs through four tiers, and prove the saving."""


for module in (pipeline, stack, report, evaluate):
    for command in module.COMMANDS:
        cli.add_command(command)
