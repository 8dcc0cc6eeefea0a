"""Start child processes in their own process groups and stop them all again.

Each child runs in a new session (its own process group), so a Ctrl-C at the
terminal reaches only ``ladder`` itself, which then stops the children in
reverse start order: a polite signal to the leader first (a Celery worker
finishes its task), then SIGKILL to whatever is left of the group, so pool
processes and grandchildren go too.

Foreground children also get PR_SET_PDEATHSIG: if ``ladder`` is killed
outright they still die with it. Background children (``ladder up``) do not;
their pids go to ``<home>/processes.json`` for ``ladder down``, together with
their start times so that a recycled pid is never signalled.
"""

from __future__ import annotations

import ctypes
import json
import os
import signal
import subprocess
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import psutil

from ladder.errors import ConfigError

_PR_SET_PDEATHSIG = 1


@dataclass
class Child:
    name: str
    pid: int
    started_at: float
    log: str
    stop_signal: int = signal.SIGTERM


class Supervisor:
    def __init__(self, home: Path, *, detach: bool = False):
        self.home = Path(home)
        self.detach = detach
        self.children: list[Child] = []
        self.logs_dir = self.home / "logs"

    @property
    def state_file(self) -> Path:
        return self.home / "processes.json"

    def spawn(self, name: str, argv: list[str], env: dict[str, str], *, stop_signal: int = signal.SIGTERM) -> Child:
        self.logs_dir.mkdir(parents=True, exist_ok=True)
        log = self.logs_dir / f"{name}.log"
        with log.open("ab") as out:
            try:
                process = subprocess.Popen(argv, env=env, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                                           start_new_session=True, preexec_fn=None if self.detach else set_parent_death_signal)
            except FileNotFoundError:
                raise ConfigError(f"cannot start {name}: {argv[0]} not found. Is the virtual environment complete?") from None
        return self.adopt(name, process.pid, log, stop_signal)

    def adopt(self, name: str, pid: int, log: Path | str = "", stop_signal: int = signal.SIGTERM) -> Child:
        """Track a process started elsewhere (redis-server) so that stopping covers it."""
        child = Child(name, pid, psutil.Process(pid).create_time(), str(log), int(stop_signal))
        self.children.append(child)
        self._save()
        return child

    def alive(self, child: Child) -> bool:
        return _same_process(child) is not None

    def log_tail(self, child: Child, lines: int = 15) -> str:
        try:
            return "\n".join(Path(child.log).read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def stop_all(self, timeout: float = 20.0) -> list[str]:
        stopped = stop_children(reversed(self.children), timeout)
        self.children.clear()
        self.state_file.unlink(missing_ok=True)
        return stopped

    def _save(self) -> None:
        if self.detach:
            self.home.mkdir(parents=True, exist_ok=True)
            self.state_file.write_text(json.dumps([asdict(c) for c in self.children], indent=2))


def recorded_children(home: Path) -> list[Child]:
    """The background processes a previous ``ladder up`` recorded and that still run."""
    try:
        records = json.loads((Path(home) / "processes.json").read_text())
    except (OSError, ValueError):
        return []
    return [child for child in (Child(**r) for r in records) if _same_process(child)]


def stop_recorded(home: Path, timeout: float = 20.0) -> list[str]:
    stopped = stop_children(reversed(recorded_children(home)), timeout)
    (Path(home) / "processes.json").unlink(missing_ok=True)
    return stopped


def stop_children(children, timeout: float) -> list[str]:
    """Signal each leader, wait for all together, then kill the remains of each group."""
    pending: list[tuple[Child, psutil.Process]] = []
    for child in children:
        process = _same_process(child)
        if process is not None:
            try:
                process.send_signal(child.stop_signal)
                pending.append((child, process))
            except psutil.NoSuchProcess:
                pass
    deadline = time.monotonic() + timeout
    for _, process in pending:
        try:
            process.wait(max(0.1, deadline - time.monotonic()))
        except psutil.TimeoutExpired:
            pass
    for child, _ in pending:
        _kill_group(child.pid)
    return [child.name for child, _ in pending]


def _kill_group(pgid: int) -> None:
    try:
        os.killpg(pgid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and _group_members(pgid):
        time.sleep(0.05)


def _group_members(pgid: int) -> list[int]:
    members = []
    for process in psutil.process_iter(["pid"]):
        try:
            if os.getpgid(process.pid) == pgid and process.status() != psutil.STATUS_ZOMBIE:
                members.append(process.pid)
        except (ProcessLookupError, psutil.Error):
            pass
    return members


def _same_process(child: Child) -> psutil.Process | None:
    try:
        process = psutil.Process(child.pid)
        if abs(process.create_time() - child.started_at) < 1.0 and process.status() != psutil.STATUS_ZOMBIE:
            return process
    except psutil.Error:
        pass
    return None


def set_parent_death_signal() -> None:
    # Runs in the child between fork and exec: ask the kernel for SIGTERM when ladder dies.
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
