"""End-to-end fixtures: real Celery workers, a real GGUF model, a real OpenAI-compatible server.

``cluster`` writes a config, starts ``ladder worker`` processes on it (route and
one per tier) against the session's Redis and Postgres, and runs ``ladder``
commands in that environment. Everything it starts is stopped afterwards.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from ladder.config import ModelServer
from ladder.stack.ports import free_port
from ladder.stack.servers import server_command, wait_until_serving
from ladder.stack.supervisor import Supervisor

ROOT = Path(__file__).resolve().parents[2]
SMOLLM2 = "SmolLM2-135M-Instruct.Q4_1.gguf"


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

    def start_workers(self, tiers: list[int], concurrency: int = 1) -> None:
        ladder = [sys.executable, "-m", "ladder.cli.main"]
        self.supervisor.spawn("route", ladder + ["worker", "--route", "-c", "1", "-n", "route@test"], self.env)
        for tier in tiers:
            self.supervisor.spawn(f"tier{tier}", ladder + ["worker", "--tier", str(tier), "-c", str(concurrency), "-n", f"tier{tier}@test"], self.env)

    def ladder(self, *args: str, timeout: float = 600, check: bool = True) -> subprocess.CompletedProcess:
        result = subprocess.run([sys.executable, "-m", "ladder.cli.main", *args], env=self.env, capture_output=True,
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

    def make(config: dict) -> Cluster:
        config_path = tmp_path / "ladder.yaml"
        config_path.write_text(yaml.safe_dump(config))
        env = {k: v for k, v in os.environ.items() if not k.startswith("LADDER_")}
        env |= {"LADDER_DATABASE_URL": database_url, "LADDER_REDIS_URL": redis_url, "LADDER_CONFIG": str(config_path),
                "LADDER_HOME": str(models_dir.parent), "PYTHONPATH": str(ROOT)}
        cluster = Cluster(tmp_path, env)
        started.append(cluster)
        return cluster

    yield make
    for cluster in started:
        cluster.stop()
