"""The human-readable lines each benchmark prints (``--json`` prints the dict instead)."""

from __future__ import annotations

from ladder.bench.measure import print_growth


def _verdict(value: float, target: float, higher_is_better: bool = True) -> str:
    met = value >= target if higher_is_better else value < target
    return "meets" if met else "MISSES"


def print_pipeline(result: dict, echo) -> None:
    ratio = result["ratio"]
    echo(f"  {result['jobs']} jobs, one worker -c {result['concurrency']}, "
         f"{result['runs'][0]['ladder']['escalated_share']:.0%} escalated")
    echo(f"  Ladder   {result['ladder_jobs_per_s']:8.0f} jobs/s   raw Celery {result['raw_tasks_per_s']:8.0f} tasks/s   "
         f"raw Celery with Ladder's delivery settings {result['raw_reliable_tasks_per_s']:6.0f} tasks/s")
    echo(f"  ratio    {ratio:.2f} ({_verdict(ratio, result['target_ratio'])} the target ≥ {result['target_ratio']}); "
         f"worker CPU per job: Ladder {result['runs'][0]['ladder']['worker_cpu_ms_per_job']:.2f} ms, "
         f"raw {result['runs'][0]['raw']['worker_cpu_ms_per_task']:.2f} ms (ratio {result['cpu_ratio']:.2f})")
    echo(f"  job latency (created → final, whole batch queued at once): "
         f"p50 {result['latency_p50_s']:.2f}s  p95 {result['latency_p95_s']:.2f}s")
    for run in result["runs"]:
        echo(f"  {run['scale']:>3}x {run['jobs']:>7} jobs: Ladder {run['ladder']['jobs_per_s']:6.0f}/s "
             f"(store {run['ladder']['store_s']:.2f}s, enqueue {run['ladder']['enqueue_s']:.2f}s)  "
             f"raw {run['raw']['tasks_per_s']:6.0f}/s  ratio {run['ratio']:.2f}")
    print_growth(echo, "Ladder", result["growth"]["ladder"])
    print_growth(echo, "raw Celery", result["growth"]["raw"])


def print_submit(result: dict, echo) -> None:
    echo(f"  {result['jobs']} lines: {result['jobs_per_s']:.0f} jobs/s "
         f"({_verdict(result['jobs_per_s'], result['target_jobs_per_s'])} ≥ {result['target_jobs_per_s']}), "
         f"peak RSS {result['peak_rss_mb']:.0f} MB ({_verdict(result['peak_rss_mb'], result['target_rss_mb'], False)} "
         f"< {result['target_rss_mb']})")
    for run in result["runs"]:
        echo(f"  {run['scale']:>3}x {run['jobs']:>8} lines: {run['jobs_per_s']:6.0f} jobs/s  parse+COPY {run['store_s']:.2f}s  "
             f"enqueue {run['enqueue_s']:.2f}s  peak RSS {run['peak_rss_mb']:.0f} MB")
    print_growth(echo, "time", result["growth"])


def print_local(result: dict, echo) -> None:
    plain, ladder = result["plain"], result["ladder"]
    echo(f"  {result['prompts']} prompts, {result['threads']} threads, up to {result['max_tokens']} tokens each")
    for label, run in (("plain llama-cpp-python", plain), ("Ladder + confidence", ladder),
                       ("logits_all=True + logprobs", result["logits_all"])):
        echo(f"  {label:28} {run['generation_tokens_per_s']:6.1f} gen tok/s  {run['prompt_tokens_per_s']:7.1f} prompt tok/s"
             f"  ({run['completion_tokens']} tokens in {run['seconds']:.2f}s)")
    ratio = result["ratio"]
    echo(f"  ratio {ratio:.2f} ({_verdict(ratio, result['target_ratio'])} the target ≥ {result['target_ratio']}); "
         f"logits_all=True runs at {result['logits_all_ratio']:.2f} of plain")
    print_growth(echo, "Ladder", result["growth"], unit="prompts")


def print_latency(result: dict, echo) -> None:
    load = result["load"]
    echo(f"  under load: {load['jobs']} jobs at {load['offered_jobs_per_s']:.0f} jobs/s offered "
         f"({load['load_share']:.0%} of the {load['capacity_jobs_per_s']:.0f} jobs/s measured)")
    echo(f"  end-to-end p50 {load['latency_p50_ms']:.0f} ms  p95 {load['latency_p95_ms']:.0f} ms "
         f"(one tier {load['one_tier_p50_ms']:.0f} ms p50, escalated {load['escalated_p50_ms']:.0f} ms p50)")
    saved = result["routing"]
    if saved is None:
        echo("  predictive routing: no recorded-outcomes file found (give --outcomes FILE)")
        print_growth(echo, "paced load", result["growth"])
        return
    echo(f"  predictive routing on {saved['file']} ({saved['router']}): {saved['calls_per_job_cascade']:.2f} → "
         f"{saved['calls_per_job_routed']:.2f} model calls per job; "
         f"modelled latency saved {saved['latency_saved_share']:.1%} (oracle bound {saved['oracle_saved_share']:.1%}; "
         f"a call = {saved['step_overhead_ms']:.0f} ms measured overhead + answer tokens at {saved['tokens_per_s']:.0f} tok/s)")
    echo("    by router threshold: " + "  ".join(f"{row['threshold']}: {row['straight_to_top']:.0%} straight to top, "
                                              f"{row['latency_saved_share']:.1%} saved" for row in saved["by_threshold"]))
    print_growth(echo, "paced load", result["growth"])
