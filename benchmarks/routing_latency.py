"""Per-job routing latency of the learned router, and every router's eval figures on GSM8K.

    .venv/bin/python benchmarks/routing_latency.py [--file OUTCOMES] [--models CHEAP,EXPENSIVE] [--seed 0]

The router is trained on the train half, saved and re-loaded as the route task
loads it, then times ``predict_tier`` on each test prompt, one at a time: wall
time (what a job waits) and process CPU time (what routing itself costs; the
two differ when other processes share the cores, so the load average is
printed too). Target: well under 5 ms per job. Then `ladder eval` figures for
every router with ``--seed 0 --train-fraction 0.5``, against the issue's
targets (random ~0.80 and oracle ~0.18 at GPT-4 for 95%; best cost ratio <= 0.40).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ladder.offline.metrics import LIST_PRICES, prices_for  # noqa: E402
from ladder.offline.outcomes import read_outcomes  # noqa: E402
from ladder.offline.routers import ROUTERS, evaluate  # noqa: E402
from worker.route.learned import LearnedRouter  # noqa: E402

GSM8K = ROOT.parent / "shared" / "data" / "routellm" / "gsm8k_responses.csv"
MODELS = "mistralai/Mixtral-8x7B-Instruct-v0.1,gpt-4-1106-preview"


def latencies(router: LearnedRouter, prompts: list[str]) -> tuple[np.ndarray, np.ndarray]:
    wall, cpu = [], []
    for prompt in prompts:
        w, c = time.perf_counter(), time.process_time()
        router.predict_tier(prompt)
        cpu.append(time.process_time() - c)
        wall.append(time.perf_counter() - w)
    return np.array(wall) * 1e6, np.array(cpu) * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--file", type=Path, default=GSM8K)
    parser.add_argument("--models", default=MODELS)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    outcomes = read_outcomes(args.file, args.models.split(","))
    train, test = outcomes.split(0.5, args.seed)
    tiers = list(range(1, len(outcomes.models) + 1))
    with tempfile.TemporaryDirectory() as tmp:
        LearnedRouter.train(train.prompts, train.correct[:, :-1].tolist(), tiers, seed=args.seed).save(Path(tmp) / "r.json")
        router = LearnedRouter.load(Path(tmp) / "r.json")
    router.predict_tier(test.prompts[0])  # first call pays numpy's lazy set-up, not routing
    wall, cpu = latencies(router, test.prompts)
    print(f"learned router, {len(test)} prompts one at a time (load average {os.getloadavg()[0]:.1f}):")
    print(f"  wall  p50 {np.percentile(wall, 50):7.0f} µs   p95 {np.percentile(wall, 95):7.0f} µs   max {wall.max():7.0f} µs")
    print(f"  cpu   p50 {np.percentile(cpu, 50):7.0f} µs   p95 {np.percentile(cpu, 95):7.0f} µs   target < 5000 µs")

    prices = prices_for(outcomes.models, LIST_PRICES)
    print(f"\neval on {args.file.name}, --seed {args.seed} --train-fraction 0.5")
    print(f"{'router':8} {'top@95':>7} {'cost@95':>8} {'cpt50':>6} {'cpt80':>6} {'apgr':>6} {'seconds':>8}")
    usable = [r for r in ROUTERS if r != "cascade" or outcomes.has_responses(outcomes.models[:-1])]
    for name in usable:
        started = time.perf_counter()
        r = evaluate(outcomes, name, prices, train_fraction=0.5, seed=args.seed)
        print(f"{name:8} {r['top_share_at_95']:7.3f} {r['cost_ratio_at_95']:8.3f} {r['cpt50']:6.3f} {r['cpt80']:6.3f} "
              f"{r['apgr']:6.3f} {time.perf_counter() - started:8.1f}")
    print("targets: random ~0.80 and oracle ~0.18 at the top for 95%; best router cost ratio <= 0.40")


if __name__ == "__main__":
    main()
