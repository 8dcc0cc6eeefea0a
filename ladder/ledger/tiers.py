"""The ``tiers`` table: the config's tiers and prices, copied into the ledger.

With the prices next to the attempts, the views price the all-top-tier
baseline themselves, and someone in psql can read which model each tier
number meant. Migration 0002 creates the table; :func:`sync_tiers` keeps it
equal to the config (``ladder migrate`` and every worker start call it).
"""

from __future__ import annotations

from sqlalchemy import CheckConstraint, Column, Connection, DateTime, Integer, Numeric, Table, Text, delete, func
from sqlalchemy.dialects.postgresql import insert

from ladder.config import LadderConfig
from ladder.ledger.schema import metadata

tiers = Table(
    "tiers",
    metadata,
    Column("tier", Integer, primary_key=True, autoincrement=False),
    Column("name", Text, nullable=False),
    Column("model", Text, nullable=False),
    Column("provider", Text, nullable=False),
    Column("input_per_1m", Numeric, nullable=False, server_default="0"),
    Column("output_per_1m", Numeric, nullable=False, server_default="0"),
    Column("machine_per_hour", Numeric, nullable=False, server_default="0"),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    CheckConstraint("tier >= 1", name="ck_tiers_tier"),
)


def sync_tiers(conn: Connection, config: LadderConfig) -> None:
    """Make the table equal to ``config``: upsert tiers 1..N, delete any above N.

    A tier removed from the config must go, or the views would keep pricing
    the baseline at a top tier that no longer exists.
    """
    rows = [
        dict(
            tier=number,
            name=tier.name,
            model=tier.model,
            provider=tier.provider,
            input_per_1m=tier.prices.input_per_1m,
            output_per_1m=tier.prices.output_per_1m,
            machine_per_hour=tier.prices.machine_per_hour,
        )
        for number, tier in enumerate(config.tiers, start=1)
    ]
    upsert = insert(tiers).values(rows)
    changed = {name: upsert.excluded[name] for name in rows[0] if name != "tier"}
    conn.execute(upsert.on_conflict_do_update(index_elements=[tiers.c.tier], set_={**changed, "updated_at": func.now()}))
    conn.execute(delete(tiers).where(tiers.c.tier > config.top_tier))
