"""Private services for one benchmark run: a redis-server, a fresh ledger database, workers.

The database is created on the PostgreSQL server of ``LADDER_DATABASE_URL``
(or 127.0.0.1:5432) when one answers, else on an embedded PostgreSQL, and it
is dropped at the end: a benchmark never touches a ledger it did not create.
This process's own settings are pointed at the private services for the run
(the producer is called in-process), and restored afterwards.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
import uuid
from contextlib import ExitStack
from pathlib import Path

import yaml

LADDER = [sys.executable, "-m", "ladder.cli.main"]
LOCAL_SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


def _answers(url: str) -> bool:
    from sqlalchemy import create_engine, text

    engine = create_engine(url, connect_args={"connect_timeout": 2})
    try:
        with engine.connect() as conn:
            conn.execute(text("select 1"))
        return True
    except Exception:
        return False
    finally:
        engine.dispose()


def with_database(url: str, name: str) -> str:
    """``url`` pointed at database ``name`` (unix-socket URLs keep their query string)."""
    head, _, tail = url.partition("?")
    base = head.rpartition("/")[0]
    return f"{base}/{name}" + (f"?{tail}" if tail else "")


class BenchServices:
    """``with BenchServices(config) as services:`` redis, a migrated database, env for workers."""

    def __init__(self, config: dict, home: Path | None = None):
        self.config = config
        self.home = Path(home or tempfile.mkdtemp(prefix="ladder-bench-"))
        self._stack = ExitStack()
        self._saved_env: dict[str, str | None] = {}
        self.redis_url = self.database_url = ""
        self.env: dict[str, str] = {}

    def __enter__(self) -> "BenchServices":
        from ladder.stack.redis import RedisServer
        from ladder.stack.supervisor import Supervisor

        try:
            redis = RedisServer(self.home / "redis", die_with_parent=True).start()
            self._stack.callback(redis.stop)
            self.redis_url = redis.url
            self.database_url = self._fresh_database()
            config_path = self.home / "ladder.yaml"
            config_path.write_text(yaml.safe_dump(self.config))
            root = str(Path(__file__).resolve().parent.parent.parent)
            ladder_env = {"LADDER_DATABASE_URL": self.database_url, "LADDER_REDIS_URL": self.redis_url,
                          "LADDER_CONFIG": str(config_path), "LADDER_HOME": str(self.home)}
            self.env = {k: v for k, v in os.environ.items() if not k.startswith("LADDER_")} | ladder_env
            self.env["PYTHONPATH"] = root + os.pathsep + os.environ.get("PYTHONPATH", "")
            self._point_this_process(ladder_env)
            self.supervisor = Supervisor(self.home)
            self._stack.callback(self.supervisor.stop_all)
        except BaseException:
            self._stack.close()
            raise
        return self

    def __exit__(self, *exc) -> None:
        self._stack.close()

    def _fresh_database(self) -> str:
        from sqlalchemy import create_engine, text

        from ladder.cli.pipeline import run_migrations
        from ladder.settings import get_settings

        configured = get_settings().database_url
        server = next((u for u in (configured, LOCAL_SERVER) if u and _answers(u)), None)
        if server is None:
            from ladder.stack.postgres import EmbeddedPostgres

            embedded = EmbeddedPostgres(self.home / "pg").start()
            self._stack.callback(embedded.stop)
            server = embedded.url("postgres")
        name = f"ladder_bench_{uuid.uuid4().hex[:10]}"
        admin = create_engine(server, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'create database "{name}"'))

        def drop() -> None:
            with admin.connect() as conn:
                conn.execute(text(f'drop database if exists "{name}" with (force)'))
            admin.dispose()

        self._stack.callback(drop)
        url = with_database(server, name)
        run_migrations(url)
        return url

    def _point_this_process(self, ladder_env: dict[str, str]) -> None:
        from ladder.ledger.db import dispose_engine
        from ladder.settings import get_settings
        from ladder.shared_state import reset_redis

        for key, value in ladder_env.items():
            self._saved_env[key] = os.environ.get(key)
            os.environ[key] = value

        def restore() -> None:
            for key, value in self._saved_env.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value
            get_settings.cache_clear()
            dispose_engine()
            reset_redis()

        self._stack.callback(restore)
        get_settings.cache_clear()
        dispose_engine()
        reset_redis()

    def spawn(self, name: str, argv: list[str], extra_env: dict[str, str] | None = None):
        return self.supervisor.spawn(name, argv, self.env | (extra_env or {}))

    def spawn_ladder_worker(self, queues_args: list[str], concurrency: int, name: str = "ladder"):
        return self.spawn(name, LADDER + ["worker", *queues_args, "-c", str(concurrency), "-n", f"{name}@bench"])

    def check_alive(self) -> None:
        """Raise with the log tail of any child that died (a worker that failed to start)."""
        for child in self.supervisor.children:
            if not self.supervisor.alive(child):
                raise RuntimeError(f"{child.name} exited; its log ends:\n{self.supervisor.log_tail(child, 30)}")


def wait_until(done, timeout: float, services: BenchServices | None = None, poll: float = 0.05) -> float:
    """Poll ``done()`` until true; the monotonic time it first was. Raises after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    checks = 0
    while True:
        if done():
            return time.monotonic()
        checks += 1
        if services is not None and checks % 40 == 0:
            services.check_alive()
        if time.monotonic() > deadline:
            raise TimeoutError(f"not done within {timeout:.0f}s")
        time.sleep(poll)
