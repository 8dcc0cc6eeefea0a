"""The whole embedded stack, composed step by step for ``ladder demo`` / ``ladder up``.

Order: Redis and PostgreSQL (embedded unless ``LADDER_REDIS_URL`` /
``LADDER_DATABASE_URL`` are set), migrations, model files, the loopback model
servers, one Celery worker per tier plus the route worker, Flower. Every child
gets the same environment, which is also written to ``<home>/env`` so that a
shell can ``source .ladder/env`` and talk to the running stack.

``background=True`` (``ladder up``) leaves everything running when this
process exits; ``ladder down`` (:func:`stop_background`) stops it.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from ladder.config import LadderConfig
from ladder.errors import ConfigError
from ladder.settings import Settings
from ladder.stack import models, postgres, servers
from ladder.stack.ports import require_free
from ladder.stack.redis import RedisServer
from ladder.stack.supervisor import Supervisor, recorded_children, stop_recorded

DATABASE_NAME = "ladder"
FLOWER_PORT = 5555


def ladder_command(*args: str) -> list[str]:
    """``ladder ARGS`` run by this interpreter, whether or not the script is on PATH."""
    script = Path(sys.executable).with_name("ladder")
    if script.is_file():
        return [str(script), *args]
    return [sys.executable, "-c", "from ladder.cli.main import cli; cli()", *args]


class Stack:
    def __init__(self, settings: Settings, config: LadderConfig, *, background: bool = False,
                 flower_port: int = FLOWER_PORT):
        self.settings = settings
        self.config = config
        self.background = background
        self.flower_port = flower_port
        self.home = settings.home.resolve()
        self.supervisor = Supervisor(self.home, detach=background)
        self.redis_url = settings.redis_url
        self.database_url = settings.database_url
        self.psql_uri: str | None = None
        self._postgres: postgres.EmbeddedPostgres | None = None

    @property
    def flower_url(self) -> str:
        return f"http://127.0.0.1:{self.flower_port}"

    @property
    def env_file(self) -> Path:
        return self.home / "env"

    def steps(self) -> list[tuple[str, Callable[[], str]]]:
        """(label, action) pairs; each action returns a one-line detail for the progress display."""
        return [
            ("Redis", self.start_redis),
            ("PostgreSQL", self.start_postgres),
            ("ledger migrations", self.migrate),
            ("model files", self.fetch_models),
            ("model servers", self.start_model_servers),
            ("workers", self.start_workers),
            ("Flower", self.start_flower),
        ]

    def check_ports(self) -> None:
        """Fail before starting anything when a fixed port is taken."""
        if recorded_children(self.home):
            raise ConfigError(f"a stack started by `ladder up` is running: `source {self.env_file}` to use it, "
                              "or `ladder down` to stop it first.")
        for server in self.config.model_servers:
            require_free(server.port, f"the model server {server.name!r}", server.host)
        require_free(self.flower_port, "Flower")

    def start_redis(self) -> str:
        if self.redis_url:
            return f"using LADDER_REDIS_URL ({self.redis_url})"
        redis = RedisServer(self.home / "redis", persist=self.background, die_with_parent=not self.background).start()
        self.supervisor.adopt("redis", redis.process.pid, redis.data_dir / "redis.log")
        self.redis_url = redis.url
        self.write_env_file()
        return f"embedded redis-server, {redis.url}"

    def start_postgres(self) -> str:
        if self.database_url:
            self.psql_uri = self.database_url.replace("postgresql+psycopg://", "postgresql://", 1)
            return "using LADDER_DATABASE_URL"
        self._postgres = postgres.EmbeddedPostgres(self.home / "postgres", keep_running=self.background).start()
        self._postgres.create_database(DATABASE_NAME)
        self.database_url = self._postgres.url(DATABASE_NAME)
        self.psql_uri = self._postgres.uri(DATABASE_NAME)
        self.write_env_file()
        return f"embedded PostgreSQL, database {DATABASE_NAME!r}"

    def migrate(self) -> str:
        done = subprocess.run(ladder_command("migrate"), env=self.child_env(), capture_output=True, text=True)
        if done.returncode != 0:
            raise ConfigError(f"`ladder migrate` failed:\n{(done.stdout + done.stderr).strip()[-2000:]}")
        return "alembic upgrade head"

    def fetch_models(self) -> str:
        paths = models.fetch_all(self.settings.models_dir.resolve(), say=lambda _: None)
        return ", ".join(p.name for p in paths)

    def start_model_servers(self) -> str:
        servers.start_model_servers(self.config, self.settings.models_dir.resolve(), self.supervisor, self.child_env())
        return ", ".join(f"{s.name} on :{s.port}" for s in self.config.model_servers) or "none configured"

    def start_workers(self, timeout: float = 120.0) -> str:
        # The route worker also runs beat (sweeper, health probes): exactly one in the stack.
        queues = ({"route": ["--route", "--beat"]} | {f"tier{n}": ["--tier", str(n)] for n in range(1, self.config.top_tier + 1)}
                  | {"audit": ["--audit"]})
        children = [self.supervisor.spawn(f"worker-{queue}", ladder_command("worker", *args), self.child_env())
                    for queue, args in queues.items()]
        deadline = time.monotonic() + timeout
        while (missing := set(queues) - consumed_queues(self.redis_url)) and time.monotonic() < deadline:
            for child in children:
                if not self.supervisor.alive(child):
                    raise ConfigError(f"{child.name} exited at start-up; its log ({child.log}) ends:\n"
                                      f"{self.supervisor.log_tail(child)}")
            time.sleep(0.5)
        if missing:
            raise ConfigError(f"no worker consumes {', '.join(sorted(missing))} after {timeout:.0f}s; see {self.home / 'logs'}")
        return ", ".join(queues)

    def start_flower(self, timeout: float = 30.0) -> str:
        require_free(self.flower_port, "Flower")
        env = self.child_env()
        if not (self.settings.flower_user and self.settings.flower_password):
            # Loopback only; Flower 2.2 refuses its /api without either auth or this.
            env["FLOWER_UNAUTHENTICATED_API"] = "true"
        child = self.supervisor.spawn("flower", ladder_command("flower", "--port", str(self.flower_port)), env)
        deadline = time.monotonic() + timeout
        while not servers.url_answers(f"{self.flower_url}/healthcheck"):
            if not self.supervisor.alive(child) or time.monotonic() > deadline:
                raise ConfigError(f"Flower did not start on {self.flower_url}; its log ({child.log}) ends:\n"
                                  f"{self.supervisor.log_tail(child)}")
            time.sleep(0.25)
        return self.flower_url

    def child_env(self) -> dict[str, str]:
        env = dict(os.environ)
        env.update({"LADDER_HOME": str(self.home), "LADDER_CONFIG": str(self.settings.config.resolve())})
        env.update({k: v for k, v in (("LADDER_REDIS_URL", self.redis_url), ("LADDER_DATABASE_URL", self.database_url)) if v})
        env.setdefault("LADDER_LOCAL_API_KEY", "local")  # the loopback servers check no key, the openai client wants one
        return env

    def write_env_file(self) -> None:
        env = self.child_env()
        names = ["LADDER_REDIS_URL", "LADDER_DATABASE_URL", "LADDER_CONFIG", "LADDER_HOME"]
        lines = [f"export {name}={shlex.quote(env[name])}" for name in names if name in env]
        if self.psql_uri:
            lines.append(f"# psql {shlex.quote(self.psql_uri)}")
        self.home.mkdir(parents=True, exist_ok=True)
        self.env_file.write_text("\n".join(lines) + "\n")

    def stop(self) -> list[str]:
        """Stop what this process started (nothing, when it runs in the background)."""
        if self.background:
            return []
        stopped = self.supervisor.stop_all()
        if self._postgres is not None:
            self._postgres.stop()
            stopped.append("postgres")
        self.env_file.unlink(missing_ok=True)
        return stopped


def stop_background(home: Path) -> list[str]:
    """``ladder down``: stop the processes ``ladder up`` recorded, then its PostgreSQL."""
    home = Path(home).resolve()
    stopped = stop_recorded(home)
    if postgres.stop_running(home / "postgres"):
        stopped.append("postgres")
    (home / "env").unlink(missing_ok=True)
    return stopped


def consumed_queues(redis_url: str) -> set[str]:
    """Queues some live worker consumes, asked over the broker like ``celery inspect``."""
    from celery import Celery

    probe = Celery("ladder-probe", broker=redis_url)
    try:
        replies = probe.control.inspect(timeout=1.0).active_queues() or {}
    except Exception:  # the broker not answering yet is the same as no worker yet
        return set()
    finally:
        probe.close()
    return {queue["name"] for queues in replies.values() for queue in queues}
