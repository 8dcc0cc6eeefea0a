"""Secrets: a planted API key is used for the calls but never reaches the ledger,
the logs, Flower's task arguments or the exported results."""

import json
import sys
import time
import urllib.request

from sqlalchemy import text

from ladder.stack.ports import free_port
from tests.faults.flaky_server import FlakyServer
from tests.faults.kit import instant_tiers, wait_final, write_batch

PLANTED = "sk-planted-4f9c2e71d0b84a6a"
LADDER = [sys.executable, "-m", "ladder.cli.main"]


def everything_in_the_ledger(engine) -> str:
    with engine.connect() as conn:
        tables = conn.execute(text("select table_name from information_schema.tables "
                                   "where table_schema = 'public' and table_type = 'BASE TABLE'")).scalars().all()
        return "\n".join(conn.execute(text(f'select coalesce(string_agg(row_to_json(t)::text, E\'\\n\'), \'\') from "{name}" t')).scalar()
                         for name in tables)


def wait_for_flower_events(flower: str, timeout: float = 60) -> None:
    """Flower turns the workers' task events on when it sees them; only then does it record tasks."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{flower}/api/workers?refresh=1", timeout=5) as response:
                if len(json.loads(response.read())) >= 3:
                    time.sleep(1)
                    return
        except OSError:
            pass
        time.sleep(0.5)
    raise AssertionError("Flower did not list the workers")


def test_a_planted_key_is_used_but_never_written_anywhere(cluster, ledger, tmp_path):
    with FlakyServer(fail_503=2, fail_429=0) as provider:
        # Given a tier whose API key comes from the environment, and Flower watching
        tier1 = {"name": "remote", "provider": "openai", "model": "m", "threshold": 0.5, "max_retries": 2,
                 "prices": {"input_per_1m": "1", "output_per_1m": "1"},
                 "options": {"base_url": provider.base_url, "api_key_env": "LADDER_PLANTED_KEY"}}
        c = cluster({"tiers": [tier1, instant_tiers(2)[1]]})
        c.env["LADDER_PLANTED_KEY"] = PLANTED
        c.start_workers([1, 2])
        flower_port = free_port()
        c.supervisor.spawn("flower", LADDER + ["flower", "--port", str(flower_port)], c.env)
        wait_for_flower_events(f"http://127.0.0.1:{flower_port}")
        # When a batch runs (with a few failing calls, so errors are logged and recorded too) and is exported
        batch = int(c.ladder("submit", str(write_batch(tmp_path / "jobs.jsonl", 10))).stdout.split()[-1])
        assert wait_final(ledger, batch, timeout=90)["lost"] == 0
        c.ladder("export", str(batch), "-o", str(tmp_path / "out.jsonl"))
        time.sleep(1)
        with urllib.request.urlopen(f"http://127.0.0.1:{flower_port}/api/tasks?limit=1000", timeout=10) as response:
            flower_tasks = response.read().decode()
    # Then the key did reach the provider
    assert f"Bearer {PLANTED}" in provider.authorizations
    # And nowhere else
    logs = "\n".join(p.read_text(errors="replace") for p in (tmp_path / "logs").glob("*.log"))
    places = {"ledger": everything_in_the_ledger(ledger), "logs": logs, "flower": flower_tasks,
              "export": (tmp_path / "out.jsonl").read_text()}
    assert logs and json.loads(flower_tasks), "the places searched must not be empty"
    leaked = [where for where, content in places.items() if PLANTED in content]
    print(f"\n[secrets] searched {', '.join(f'{k}={len(v)} chars' for k, v in places.items())}; leaked in: {leaked or 'none'}")
    assert leaked == []
