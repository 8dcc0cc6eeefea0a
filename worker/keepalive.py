"""Keep a Celery worker alive: `ladder worker` runs it as a child and restarts it if it dies.

Celery's worker can exit on its own: kombu 5.7 raised an "Unrecoverable
error" (``'NoneType' object has no attribute 'hostname'``) while restoring
unacknowledged messages when the Redis it was connected to restarted. The
jobs are safe in Postgres, but a tier with no worker never finishes them.
So the process that `ladder worker` starts is a small supervisor: it re-runs
the same command as a child, forwards SIGTERM/SIGQUIT to it, and restarts it
after an unexpected exit (at most ``max_restarts`` in ``window_s`` seconds).
"""

from __future__ import annotations

import collections
import os
import signal
import subprocess
import sys
import time

CHILD_FLAG = "LADDER_WORKER_CHILD"


def is_child() -> bool:
    return os.environ.get(CHILD_FLAG) == "1"


def supervise(argv: list[str], *, max_restarts: int = 10, window_s: float = 60.0, pause_s: float = 2.0) -> int:
    from ladder.stack.supervisor import set_parent_death_signal

    env = dict(os.environ, **{CHILD_FLAG: "1"})
    state = {"stopping": False, "child": None}

    def forward(signum, _frame):
        state["stopping"] = True
        child = state["child"]
        # A terminal's Ctrl-C already reached the child (same process group): forward only the others.
        if signum != signal.SIGINT and child is not None and child.poll() is None:
            child.send_signal(signum)

    for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGQUIT):
        signal.signal(signum, forward)
    recent: collections.deque[float] = collections.deque()
    while True:
        state["child"] = child = subprocess.Popen(argv, env=env, preexec_fn=set_parent_death_signal)
        code = child.wait()
        if state["stopping"] or code == 0:
            return code
        now = time.monotonic()
        recent.append(now)
        while recent and now - recent[0] > window_s:
            recent.popleft()
        if len(recent) > max_restarts:
            print(f"ladder worker: the Celery worker died {len(recent)} times in {window_s:.0f}s; giving up "
                  f"(last exit code {code}). See its log above.", file=sys.stderr, flush=True)
            return code
        print(f"ladder worker: the Celery worker exited with code {code}; restarting it in {pause_s:.0f}s",
              file=sys.stderr, flush=True)
        time.sleep(pause_s)
