"""The learned router, trained by `ladder train-router` and saved, routes live jobs.

A hard prompt starts above tier 1 (skipping a rung that would fail) and an
easy one at tier 1, decided by the route worker that loads the artifact.
"""

import csv
import json
import random

import pytest
from sqlalchemy import text

from tests.faults.kit import instant_tiers, wait_final

pytestmark = pytest.mark.e2e

ITEMS = ["apples", "books", "chairs", "coins", "pencils", "tickets", "boxes", "stamps"]
NAMES = ["Ava", "Ben", "Chen", "Dara", "Eli", "Fatima", "Gus", "Hana"]


def easy(rng):
    return f"What is {rng.randint(2, 60)} plus {rng.randint(2, 60)}?"


def hard(rng):
    a, b, c, d = (rng.randint(3, 90) for _ in range(4))
    name, item = rng.choice(NAMES), rng.choice(ITEMS)
    return (f"{name} buys {a} {item} at ${b} each, sells {c} of them for ${d} each, then splits the rest equally "
            f"among 3 friends and pays a 15% tax on the profit. How many {item} does each friend get, and what is "
            f"the profit after tax in dollars?")


def write_outcomes(path, n=160, seed=1):
    rng = random.Random(seed)
    with path.open("w", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["prompt", "cheap", "expensive"])
        for i in range(n):
            if i % 2:
                writer.writerow([hard(rng), rng.random() < 0.1, True])
            else:
                writer.writerow([easy(rng), rng.random() < 0.95, True])
    return path


def test_trained_router_sends_a_hard_prompt_up_and_an_easy_one_to_tier_1(cluster, ledger, tmp_path):
    # Given a router trained on recorded outcomes and saved where the config points
    router = tmp_path / "router.json"
    c = cluster({"tiers": instant_tiers(2), "routing": {"router": "learned", "router_path": str(router)}})
    c.ladder("train-router", str(write_outcomes(tmp_path / "outcomes.csv")), "--models", "cheap,expensive",
             "--tiers", "1,2", "-o", str(router))
    c.start_workers([1, 2])
    # When an unseen hard prompt and an unseen easy one are submitted
    rng = random.Random(99)
    jobs = tmp_path / "jobs.jsonl"
    jobs.write_text(json.dumps({"custom_id": "hard", "prompt": hard(rng)}) + "\n"
                    + json.dumps({"custom_id": "easy", "prompt": easy(rng)}) + "\n")
    batch = int(c.ladder("submit", str(jobs)).stdout.split()[-1])
    assert wait_final(ledger, batch, timeout=60)["lost"] == 0
    # Then the live route task started each where the router predicted it would succeed
    with ledger.connect() as conn:
        starts = {row.custom_id: (row.start_tier, row.route_reason) for row in conn.execute(
            text("select custom_id, start_tier, route_reason from jobs where batch_id = :b"), {"b": batch})}
    assert starts["hard"] == (2, "learned")
    assert starts["easy"] == (1, "learned")
