"""Entry point of the ``ladder`` command.

Subcommand modules export ``COMMANDS`` (a list of click commands); they import
only click at module level so that ``ladder --help`` stays instant.
"""

from __future__ import annotations

import sys

import click

from ladder.cli import bench, evaluate, observe, operate, pipeline, platform, report, stack
from ladder.errors import LadderError


class _Group(click.Group):
    def invoke(self, ctx):
        # Ladder's own errors already say what to do: print them, no traceback.
        try:
            return super().invoke(ctx)
        except LadderError as exc:
            click.secho(f"error: {exc}", fg="red", err=True)
            sys.exit(2)
        except Exception as exc:  # services that are down get a message, not a traceback
            message = unreachable_service_message(exc)
            if message is None:
                raise
            click.secho(f"error: {message}", fg="red", err=True)
            sys.exit(3)


def unreachable_service_message(exc: Exception) -> str | None:
    from sqlalchemy.exc import OperationalError as DatabaseDown

    if isinstance(exc, DatabaseDown):
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
        return (f"cannot reach the ledger database ({reason}). Is PostgreSQL running and LADDER_DATABASE_URL right? "
                "`ladder up` starts an embedded one.")
    import kombu.exceptions
    import redis.exceptions

    if isinstance(exc, (kombu.exceptions.OperationalError, redis.exceptions.ConnectionError)):
        return f"cannot reach Redis ({exc}). Is it running and LADDER_REDIS_URL right? `ladder up` starts an embedded one."
    return None


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="ladder")
def cli() -> None:
    """Ladder: cascade bulk LLM jobs through four tiers, and prove the saving."""


for module in (pipeline, operate, observe, platform, stack, report, evaluate, bench):
    for command in module.COMMANDS:
        cli.add_command(command)


if __name__ == "__main__":
    cli()
