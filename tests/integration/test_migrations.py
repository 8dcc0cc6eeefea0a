"""Migrations from a blank database: upgrade, every view answering, downgrade and back."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import create_engine, insert, inspect, text

from ladder.config import load_config
from ladder.ledger.schema import attempts, batches, jobs
from ladder.ledger.tiers import sync_tiers
from ladder.settings import BUNDLED_CONFIG

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
VIEWS = {"job_costs", "cost_by_tier", "cost_by_batch", "cost_by_tenant_day", "escalations", "savings"}
TABLES = {"batches", "jobs", "attempts", "tiers"}


def alembic(url: str, action: str, revision: str) -> None:
    from alembic import command
    from alembic.config import Config

    cfg = Config(str(ROOT / "alembic.ini"))
    cfg.attributes.update(url=url, configure_logger=False)
    getattr(command, action)(cfg, revision)


@pytest.fixture()
def blank(empty_database_url):
    engine = create_engine(empty_database_url)
    yield empty_database_url, engine
    engine.dispose()


def schema_objects(engine) -> tuple[set[str], set[str]]:
    inspector = inspect(engine)
    return set(inspector.get_table_names()) - {"alembic_version"}, set(inspector.get_view_names())


def every_view_answers(engine) -> dict[str, int]:
    with engine.connect() as conn:
        return {view: len(conn.execute(text(f"select * from {view}")).all()) for view in VIEWS}


def fill_a_little(engine) -> None:
    with engine.begin() as conn:
        sync_tiers(conn, load_config(BUNDLED_CONFIG))
        batch = conn.execute(insert(batches).values(name="b", tenant="t", input_format="ladder").returning(batches.c.id)).scalar()
        job = conn.execute(insert(jobs).values(batch_id=batch, custom_id="c", tenant="t", prompt="p", max_tokens=8,
                                               status="done", final_tier=2, total_cost_usd="0.0003")
                           .returning(jobs.c.id)).scalar()
        conn.execute(insert(attempts), [
            dict(job_id=job, tier=1, model="m", provider="p", cost_usd="0.0001", outcome="escalated",
                 reason="low_confidence"),
            dict(job_id=job, tier=2, model="m", provider="p", cost_usd="0.0002", outcome="accepted", reason=None),
        ])


def test_upgrade_from_blank_creates_every_table_and_view(blank):
    url, engine = blank
    alembic(url, "upgrade", "head")
    tables, views = schema_objects(engine)
    assert TABLES <= tables
    assert VIEWS <= views


def test_every_view_answers_on_an_empty_and_on_a_filled_ledger(blank):
    url, engine = blank
    alembic(url, "upgrade", "head")
    # An empty ledger: the per-batch and per-tier views have nothing to say, and say it
    assert every_view_answers(engine) == dict.fromkeys(VIEWS, 0)
    fill_a_little(engine)
    answers = every_view_answers(engine)
    assert answers == {"job_costs": 1, "cost_by_tier": 2, "cost_by_batch": 1, "cost_by_tenant_day": 1,
                       "escalations": 1, "savings": 1}


def test_downgrade_to_base_then_upgrade_round_trips(blank):
    # Given a migrated ledger with rows
    url, engine = blank
    alembic(url, "upgrade", "head")
    fill_a_little(engine)
    # When it is downgraded to nothing
    alembic(url, "downgrade", "base")
    # Then nothing of Ladder's is left
    assert schema_objects(engine) == (set(), set())
    # And upgrading again gives the same schema, whose views answer
    alembic(url, "upgrade", "head")
    assert VIEWS <= schema_objects(engine)[1]
    assert every_view_answers(engine)["cost_by_tier"] == 0


def test_downgrading_the_views_revision_keeps_the_core_tables(blank):
    url, engine = blank
    alembic(url, "upgrade", "head")
    alembic(url, "downgrade", "0001")
    tables, views = schema_objects(engine)
    assert tables == {"batches", "jobs", "attempts"}
    assert views == set()
    assert "ix_attempts_tier_latency" not in {ix["name"] for ix in inspect(engine).get_indexes("attempts")}
