"""The embedded stack's own pieces on real processes: Redis, PostgreSQL, the supervisor.

Everything runs under a temp dir (never the project's ``.ladder/``); a test
passes only if no process mentioning its directory is left when it ends.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import textwrap
import time
import urllib.request
from pathlib import Path

import psutil
import pytest
import redis
from sqlalchemy import create_engine, text

from ladder.config import load_config
from ladder.errors import ConfigError
from ladder.settings import BUNDLED_CONFIG, Settings
from ladder.stack.stack import Stack, stop_background
from ladder.stack.supervisor import Supervisor

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]


def processes_under(directory: Path) -> list[psutil.Process]:
    """Live processes whose command line mentions ``directory`` (postgres, redis, children)."""
    found = []
    for process in psutil.process_iter(["cmdline", "status"]):
        try:
            if process.info["status"] != psutil.STATUS_ZOMBIE and str(directory) in " ".join(process.info["cmdline"] or []):
                found.append(process)
        except psutil.Error:
            pass
    return found


def wait_until_gone(directory: Path, timeout: float = 10.0) -> list[psutil.Process]:
    deadline = time.monotonic() + timeout
    while (left := processes_under(directory)) and time.monotonic() < deadline:
        time.sleep(0.1)
    return left


@pytest.fixture()
def home():
    """A stack home outside pytest's basetemp.

    PostgreSQL runs as a separate system user when the tests run as root, so
    every parent of its data dir must be traversable; each pytest session
    resets its own temp root to 0700, which would race with other sessions.
    """
    directory = Path(tempfile.mkdtemp(prefix="ladder-stack-test-")) / "home"
    yield directory
    shutil.rmtree(directory.parent, ignore_errors=True)


def embedded_settings(home: Path) -> Settings:
    # Explicit None: the embedded servers start even where the environment names real ones.
    return Settings(home=home, redis_url=None, database_url=None, config=BUNDLED_CONFIG)


def assert_services_answer(redis_url: str, database_url: str) -> None:
    assert redis.Redis.from_url(redis_url).ping()
    engine = create_engine(database_url)
    with engine.connect() as conn:
        assert conn.execute(text("select current_database()")).scalar() == "ladder"
    engine.dispose()


def test_embedded_redis_and_postgres_answer_and_stop_without_orphans(home):
    # Given a stack whose state lives in a temp dir, with no URLs configured
    stack = Stack(embedded_settings(home), load_config(BUNDLED_CONFIG))
    try:
        # When its Redis and PostgreSQL steps run
        stack.start_redis()
        stack.start_postgres()
        # Then both answer, and the env file lets a shell reach them
        assert_services_answer(stack.redis_url, stack.database_url)
        env_file = stack.env_file.read_text()
        assert f"export LADDER_REDIS_URL={stack.redis_url}" in env_file
        assert "LADDER_DATABASE_URL=" in env_file
    finally:
        # When it stops
        stopped = stack.stop()
    # Then it stopped both, and nothing it started is still running
    assert {"redis", "postgres"} <= set(stopped)
    assert wait_until_gone(home) == []
    assert not stack.env_file.exists()


def test_a_background_stack_outlives_its_starter_until_down(home):
    # Given `ladder up`'s Redis and PostgreSQL started by a process that then exits
    starter = textwrap.dedent(f"""
        from pathlib import Path
        from ladder.config import load_config
        from ladder.settings import BUNDLED_CONFIG, Settings
        from ladder.stack.stack import Stack
        settings = Settings(home=Path({str(home)!r}), redis_url=None, database_url=None, config=BUNDLED_CONFIG)
        stack = Stack(settings, load_config(BUNDLED_CONFIG), background=True)
        stack.start_redis()
        stack.start_postgres()
    """)
    subprocess.run([sys.executable, "-c", starter], check=True, cwd=ROOT, timeout=120)
    try:
        # Then both still answer at the URLs the env file gives
        env = dict(line.removeprefix("export ").split("=", 1) for line in (home / "env").read_text().splitlines()
                   if line.startswith("export "))
        assert_services_answer(env["LADDER_REDIS_URL"], env["LADDER_DATABASE_URL"].strip("'"))
    finally:
        # When `ladder down` runs
        stopped = stop_background(home)
    # Then both are stopped and no process is left
    assert {"redis", "postgres"} <= set(stopped)
    assert wait_until_gone(home) == []


def sleeper(marker: Path) -> str:
    """A shell command for a long sleep whose command line carries ``marker``."""
    return f"{sys.executable} -c 'import time; time.sleep(300)' {marker}"


def test_stopping_kills_the_whole_process_group(tmp_path):
    # Given a supervised shell that has started two sleepers of its own
    supervisor = Supervisor(tmp_path)
    marker = tmp_path / "grandchild"
    supervisor.spawn("shell", ["sh", "-c", f"{sleeper(marker)} & {sleeper(marker)}; wait"], dict(os.environ))
    deadline = time.monotonic() + 10
    while len(processes_under(marker)) < 3 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(processes_under(marker)) == 3  # the shell and both sleepers
    # When the supervisor stops everything
    supervisor.stop_all()
    # Then the grandchildren went with their parent
    assert wait_until_gone(marker) == []


def test_foreground_children_die_when_ladder_is_killed_outright(tmp_path):
    # Given a process that supervises a long-running child in the foreground
    # (the marker reaches it through the environment, so only the child's command line shows it)
    marker = tmp_path / "orphan-candidate"
    code = textwrap.dedent(f"""
        import os, sys, time
        from ladder.stack.supervisor import Supervisor
        argv = [sys.executable, "-c", "import time; time.sleep(300)", os.environ["MARKER"]]
        Supervisor({str(tmp_path)!r}).spawn("sleeper", argv, dict(os.environ))
        time.sleep(300)
    """)
    parent = subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, env={**os.environ, "MARKER": str(marker)})
    deadline = time.monotonic() + 10
    while not processes_under(marker) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert [p.ppid() for p in processes_under(marker)] == [parent.pid]
    # When that process is killed with SIGKILL (no chance to clean up)
    parent.send_signal(signal.SIGKILL)
    parent.wait()
    # Then its child does not survive as an orphan
    assert wait_until_gone(marker) == []


def test_a_taken_port_is_named_before_anything_starts(tmp_path):
    # Given something already listening on Flower's port
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        config = load_config(BUNDLED_CONFIG).model_copy(update={"model_servers": []})
        stack = Stack(embedded_settings(tmp_path / "home"), config, flower_port=port)
        # When the stack checks its ports, Then the error names the port and what wanted it
        with pytest.raises(ConfigError, match=f"port {port} .* in use, so Flower cannot start"):
            stack.check_ports()
    assert processes_under(tmp_path) == []


@pytest.fixture()
def private_stack_env(home):
    """Environment for a whole `ladder up` of its own: temp home, free ports, the models reused."""
    import yaml

    from ladder.stack.models import fetch_all
    from ladder.stack.ports import free_port

    home.mkdir()
    shared_models = ROOT / ".ladder" / "models"
    fetch_all(shared_models, say=lambda _: None)
    (home / "models").symlink_to(shared_models.resolve())
    raw = yaml.safe_load(BUNDLED_CONFIG.read_text())
    for server in raw["model_servers"]:
        old, server["port"] = server["port"], free_port()
        for tier in raw["tiers"]:
            url = tier.get("options", {}).get("base_url", "")
            tier["options"]["base_url"] = url.replace(f":{old}/", f":{server['port']}/") if url else url
    config = home / "ladder.yaml"
    config.write_text(yaml.safe_dump(raw))
    env = {k: v for k, v in os.environ.items() if not k.startswith("LADDER_")}
    env.update(LADDER_HOME=str(home), LADDER_CONFIG=str(config))
    return env


@pytest.mark.e2e
def test_up_serves_every_queue_in_flower_and_down_leaves_nothing(private_stack_env, home):
    from ladder.stack.ports import free_port
    from ladder.stack.stack import ladder_command

    env = private_stack_env
    flower_port = free_port()
    # Given `ladder up` on a private home and private ports
    started = subprocess.run(ladder_command("up", "--flower-port", str(flower_port)), env=env, cwd=ROOT,
                             capture_output=True, text=True, timeout=300)
    try:
        assert started.returncode == 0, started.stdout + started.stderr
        # Then Flower's API lists the route queue and every tier queue
        with urllib.request.urlopen(f"http://127.0.0.1:{flower_port}/api/queues/length", timeout=10) as answer:
            queues = {q["name"] for q in json.load(answer)["active_queues"]}
        assert {"route", "tier1", "tier2", "tier3", "tier4"} <= queues
        # And the env file names the embedded services
        assert "LADDER_DATABASE_URL=" in (home / "env").read_text()
    finally:
        # When `ladder down` runs
        stopped = subprocess.run(ladder_command("down"), env=env, cwd=ROOT, capture_output=True, text=True, timeout=120)
    # Then it stopped the stack and no process it started is left
    assert stopped.returncode == 0 and "postgres" in stopped.stdout
    assert wait_until_gone(home) == []
