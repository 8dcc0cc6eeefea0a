"""``ladder bench latency``: end-to-end job latency under load, and what predictive routing saves.

Under load: the pipeline benchmark's stack (instant tiers, 30% escalate, one
worker ``-c 2``). Its capacity is measured first with one whole batch; then
jobs arrive two at a time at half that rate (an open loop, as users
submit), and each job's latency is ``finished_at - created_at`` in the ledger.
A whole batch queued at once (the pipeline benchmark) measures queueing
instead: there p50 is about half the batch's run time, whatever Ladder does.

Routing: on recorded outcomes (GSM8K, Mixtral as tier 1, GPT-4 as tier 2)
a pure cascade calls tier 1 for every job and tier 2 where tier 1 was wrong;
predictive routing (``worker.route.learned.LearnedRouter``, trained on half the
rows, scored on the other half) sends a job straight to tier 2 when it
predicts tier 1 will fail. A call's latency is modelled as the per-step
overhead measured above plus its recorded answer's tokens at a stated
``tokens_per_s``; the oracle router (knows the outcomes) bounds the saving.
"""

from __future__ import annotations

import time
from pathlib import Path

from ladder.bench.measure import bench_prompt, growth, percentile

GSM8K = Path("/work/shared/data/routellm/gsm8k_responses.csv")
# The repository's own sample of the same file, for a clone without the shared data.
GSM8K_SAMPLE = Path(__file__).resolve().parent.parent.parent / "tests" / "data" / "gsm8k_sample.csv"
LOAD_SHARE = 0.5
CHUNK = 2  # jobs per arrival: small, so that a job waits for the system, not for its own batch
THRESHOLDS = (0.5, 0.6, 0.7, 0.8)
TOKENS_PER_S = 50.0  # a typical hosted model's output speed; stated, not measured here


def paced_run(bench, count: int, rate: float, timeout: float = 3600) -> dict:
    """``count`` jobs in batches of ``CHUNK`` at ``rate`` jobs/s; latency of each from the ledger."""
    from sqlalchemy import text

    from ladder.ledger.db import get_engine
    from producer.parse import JobSpec
    from producer.submit import enqueue_batch, write_batch

    numbers = bench.next_numbers(count)
    batch_ids = []
    started = time.monotonic()
    for offset in range(0, count, CHUNK):
        due = started + offset / rate
        time.sleep(max(0.0, due - time.monotonic()))
        chunk = numbers[offset:offset + CHUNK]
        jobs = [JobSpec(n - numbers.start + 1, f"j{n}", bench_prompt(n), 16) for n in chunk]
        submitted = write_batch(jobs, name=f"paced-{chunk.start}", tenant="default", input_format="ladder", source="bench")
        enqueue_batch(submitted.batch_id)
        batch_ids.append((submitted.batch_id, len(jobs)))
    for batch_id, size in batch_ids:
        bench.wait_for_batch(batch_id, size, timeout)
    with get_engine().connect() as conn:
        rows = conn.execute(text(
            "select extract(epoch from finished_at - created_at)::float8 * 1000, final_tier > start_tier "
            "from jobs where batch_id = any(:ids)"), {"ids": [b for b, _ in batch_ids]}).all()
    all_ms = [ms for ms, _ in rows]
    one_tier = [ms for ms, escalated in rows if not escalated]
    escalated = [ms for ms, up in rows if up]
    return {"jobs": count, "seconds": time.monotonic() - started, "offered_jobs_per_s": rate,
            "latency_p50_ms": percentile(all_ms, 0.5), "latency_p95_ms": percentile(all_ms, 0.95),
            "one_tier_p50_ms": percentile(one_tier, 0.5), "escalated_p50_ms": percentile(escalated, 0.5)}


def routing_saving(path: Path, step_overhead_s: float, tokens_per_s: float = TOKENS_PER_S, seed: int = 0) -> dict:
    """Cascade against predictive routing on recorded outcomes: calls and modelled latency per job."""
    import numpy as np

    from ladder.offline.outcomes import estimate_tokens, read_outcomes

    outcomes = read_outcomes(path)
    cheap, top = outcomes.models[0], outcomes.models[-1]
    train, test = outcomes.split(0.5, seed)
    try:
        from worker.route.learned import LearnedRouter

        router = LearnedRouter.train(train.prompts, train.correct[:, :1].tolist(), [1, 2], seed=seed)
        p_cheap_right = np.array([router.success_probabilities(p)[0] for p in test.prompts])
        starts = np.where(p_cheap_right >= router.threshold, 1, 2)
        name = f"learned, threshold {router.threshold}"
    except ImportError:  # no learned router in this tree: the oracle bounds what one could save
        p_cheap_right = test.correct[:, 0].astype(float)
        starts = np.where(test.correct[:, 0], 1, 2)
        name = "oracle (upper bound)"
    cheap_right = test.correct[:, 0]

    def call_s(model: str) -> np.ndarray:
        if test.responses and model in test.responses:
            tokens = np.array([estimate_tokens(text) for text in test.responses[model]], dtype=float)
        else:
            tokens = np.full(len(test), 100.0)  # query-only file: a flat answer length
        return step_overhead_s + tokens / tokens_per_s

    first, second = call_s(cheap), call_s(top)
    cascade = first + np.where(cheap_right, 0.0, second)
    routed = np.where(starts == 2, second, cascade)
    oracle = np.where(cheap_right, first, second)
    return {
        "file": path.name, "router": name, "models": [cheap, top], "test_jobs": len(test),
        "tokens_per_s": tokens_per_s, "step_overhead_ms": step_overhead_s * 1000,
        "calls_per_job_cascade": float(1 + (~cheap_right).mean()),
        "calls_per_job_routed": float(np.where(starts == 2, 1, 1 + ~cheap_right).mean()),
        "started_where_ended_cascade": float(cheap_right.mean()),
        "started_where_ended_routed": float(np.where(starts == 2, ~cheap_right, cheap_right).mean()),
        "cascade_mean_s": float(cascade.mean()), "routed_mean_s": float(routed.mean()),
        "routed_p95_s": float(np.percentile(routed, 95)), "cascade_p95_s": float(np.percentile(cascade, 95)),
        "latency_saved_share": float(1 - routed.sum() / cascade.sum()),
        "oracle_saved_share": float(1 - oracle.sum() / cascade.sum()),
        # A stricter router sends more jobs straight up: more saved, more top-tier calls paid for.
        "by_threshold": [{"threshold": t, "straight_to_top": float((p_cheap_right < t).mean()),
                          "latency_saved_share": float(1 - np.where(p_cheap_right < t, second, cascade).sum() / cascade.sum())}
                         for t in THRESHOLDS],
    }


def run_latency(jobs: int = 500, scales: tuple[int, ...] = (1, 4, 16), concurrency: int = 2, loglevel: str = "WARNING",
                outcomes: Path | None = None, home: Path | None = None) -> dict:
    from ladder.bench.pipeline import PipelineBench, instant_config
    from ladder.bench.services import BenchServices

    with BenchServices(instant_config(), home) as services:
        bench = PipelineBench(services, concurrency, loglevel, with_raw=False)
        bench.warm_up()
        capacity = bench.ladder(max(jobs, 200))["jobs_per_s"]
        rate = capacity * LOAD_SHARE
        runs = [{"scale": scale, **paced_run(bench, jobs * scale, rate)} for scale in scales]
    load = {**runs[0], "capacity_jobs_per_s": capacity, "load_share": LOAD_SHARE}
    outcomes = outcomes or next((p for p in (GSM8K, GSM8K_SAMPLE) if p.is_file()), None)
    routing = routing_saving(outcomes, load["one_tier_p50_ms"] / 1000) if outcomes else None
    return {"benchmark": "latency", "load": load, "routing": routing, "runs": runs,
            "latency_p50_ms": load["latency_p50_ms"], "latency_p95_ms": load["latency_p95_ms"],
            "growth": growth(runs, "seconds")}
