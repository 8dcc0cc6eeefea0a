"""Per-tenant budgets: reserve before the call, settle after it, in Postgres.

Reservation is one conditional UPDATE, so fifty concurrent workers cannot
together reserve past the limit: spent + reserved <= limit always holds at
reservation time. The overshoot is bounded by how much the calls in flight
cost *beyond* their reservations, which the upper-bound estimate keeps at
zero for token-priced tiers (prompt + max_tokens at list price).
"""

from __future__ import annotations

import enum
import math
from decimal import Decimal

from sqlalchemy import delete, func, select, update
from sqlalchemy.dialects.postgresql import insert

from ladder.config import LadderConfig, Tier
from ladder.ledger.db import get_engine
from ladder.ledger.schema import budget_reservations, budgets

# Local tiers are priced by machine time; bound it from the token budget at a
# pessimistic speed (tier.options.min_tokens_per_s, default 10 tokens/s).
DEFAULT_MIN_TOKENS_PER_S = 10.0
CHARS_PER_TOKEN_LOWER_BOUND = 2.0


def estimate_cost(tier: Tier, prompt: str, max_tokens: int) -> Decimal:
    prompt_tokens = math.ceil(len(prompt) / CHARS_PER_TOKEN_LOWER_BOUND) + 16
    seconds = (prompt_tokens / 200.0) + max_tokens / float(tier.options.get("min_tokens_per_s", DEFAULT_MIN_TOKENS_PER_S))
    return tier.prices.cost(prompt_tokens, max_tokens, seconds)


def sync_budgets(conn, config: LadderConfig) -> None:
    """Upsert each tenant's limit from the config (spent and reserved are kept)."""
    rows = [dict(tenant=name, limit_usd=t.budget_usd) for name, t in config.tenants.items() if t.budget_usd is not None]
    if rows:
        stmt = insert(budgets).values(rows)
        conn.execute(stmt.on_conflict_do_update(index_elements=[budgets.c.tenant],
                                                set_={"limit_usd": stmt.excluded.limit_usd, "updated_at": func.now()}))


class Reservation(str, enum.Enum):
    GRANTED = "granted"
    BUSY = "busy"  # would fit once calls in flight settle: try again shortly
    EXHAUSTED = "exhausted"  # would not fit even then: the job stops climbing


def reserve(tenant: str, job_id: int, tier: int, try_no: int, amount: Decimal) -> Reservation:
    """Reserve ``amount`` for this call (GRANTED too when the tenant has no budget row)."""
    with get_engine().begin() as conn:
        budget = conn.execute(select(budgets.c.spent_usd, budgets.c.limit_usd).where(budgets.c.tenant == tenant)).first()
        if budget is None:
            return Reservation.GRANTED
        existing = conn.execute(
            insert(budget_reservations)
            .values(job_id=job_id, tier=tier, try_no=try_no, tenant=tenant, amount_usd=amount)
            .on_conflict_do_nothing()
            .returning(budget_reservations.c.job_id)
        ).first()
        if existing is None:
            return Reservation.GRANTED  # a redelivered task: this call's reservation is already held
        granted = conn.execute(
            update(budgets)
            .where(budgets.c.tenant == tenant, budgets.c.spent_usd + budgets.c.reserved_usd + amount <= budgets.c.limit_usd)
            .values(reserved_usd=budgets.c.reserved_usd + amount, updated_at=func.now())
        ).rowcount
        if granted:
            return Reservation.GRANTED
        conn.execute(delete(budget_reservations).where(
            budget_reservations.c.job_id == job_id, budget_reservations.c.tier == tier, budget_reservations.c.try_no == try_no))
        return Reservation.BUSY if budget.spent_usd + amount <= budget.limit_usd else Reservation.EXHAUSTED


def settle(conn, job_id: int, tier: int, try_no: int, actual: Decimal) -> None:
    """Inside the attempt's transaction: drop the reservation, book the real cost."""
    held = conn.execute(
        delete(budget_reservations)
        .where(budget_reservations.c.job_id == job_id, budget_reservations.c.tier == tier, budget_reservations.c.try_no == try_no)
        .returning(budget_reservations.c.tenant, budget_reservations.c.amount_usd)
    ).first()
    if held is not None:
        conn.execute(update(budgets).where(budgets.c.tenant == held.tenant).values(
            reserved_usd=budgets.c.reserved_usd - held.amount_usd, spent_usd=budgets.c.spent_usd + actual, updated_at=func.now()))
