"""Subtask decomposition on real workers: split, run in parallel, merged, and billed as the sum of the parts."""

from __future__ import annotations

from sqlalchemy import text

from tests.faults.flaky_server import FlakyServer
from tests.faults.kit import instant_tiers, wait_final
from tests.platform.kit import job_rows, submit, write_lines

SECTIONS = ["Overview", "Features", "Pricing"]


def compose_config(tiers: list[dict]) -> dict:
    return {"tiers": tiers,
            "composite": [{"name": "article", "tasks": ["article"], "sections": SECTIONS},
                          {"name": "essay", "tasks": ["essay"]}]}


def children(engine, parent_id: int) -> list:
    with engine.connect() as conn:
        return conn.execute(text("select * from jobs where parent_id = :p order by id"), {"p": parent_id}).all()


def wait_parent(engine, batch: int, timeout: float):
    result = wait_final(engine, batch, timeout)
    assert result["unfinished"] == 0, result
    (parent,) = job_rows(engine, batch)
    return parent


def test_a_composite_job_is_split_run_in_parallel_and_merged_at_the_sum_of_its_parts(cluster, ledger, tmp_path):
    # Given a rule that splits `article` jobs into three fixed sections, and tier calls that take half a second
    c = cluster(compose_config(instant_tiers(2, delay_s=0.5)))
    c.start_workers([1, 2], concurrency=3)
    # When one article job is submitted
    batch = submit(c, write_lines(tmp_path / "a.jsonl", [{"custom_id": "post", "prompt": "A post about our new kettle.",
                                                           "task": "article"}]))
    parent = wait_parent(ledger, batch, timeout=60)
    kids = children(ledger, parent.id)
    # Then it has one child per section, each routed and answered on its own
    assert [k.subtask for k in kids] == ["section-1", "section-2", "section-3"]
    assert all(k.status == "done" and k.start_tier is not None for k in kids)
    # And the merged answer holds every section under its heading, in order
    assert parent.status == "done" and parent.route_reason == "composite:article"
    positions = [parent.output.index(f"## {h}") for h in SECTIONS]
    assert positions == sorted(positions) and all(k.output in parent.output for k in kids)
    # And the parent's cost is exactly the sum of its children's, which is the sum of their attempts
    with ledger.connect() as conn:
        attempt_total, first_start, last_end, summed_latency = conn.execute(text(
            "select sum(a.cost_usd), min(a.created_at - make_interval(secs => a.latency_ms / 1000)), max(a.created_at), "
            "sum(a.latency_ms) / 1000 from attempts a join jobs j on j.id = a.job_id where j.parent_id = :p"),
            {"p": parent.id}).one()
    assert parent.total_cost_usd == sum(k.total_cost_usd for k in kids) == attempt_total > 0
    # And the sections ran side by side: the wall-clock span is well under their summed call time
    span = (last_end - first_start).total_seconds()
    print(f"\n[compose] {len(kids)} sections: calls summed {summed_latency:.2f}s, wall clock {span:.2f}s")
    assert span < 0.75 * float(summed_latency)


def test_an_outline_decides_the_sections(cluster, ledger, tmp_path):
    # Given a rule without fixed sections: an outline subtask comes first
    c = cluster(compose_config(instant_tiers(1)))
    c.start_workers([1])
    batch = submit(c, write_lines(tmp_path / "e.jsonl", [{"custom_id": "e", "prompt": "On kettles.", "task": "essay"}]))
    parent = wait_parent(ledger, batch, timeout=60)
    kids = children(ledger, parent.id)
    # Then the outline ran before the sections it named, and the assembly is made of those sections
    outline, *sections = kids
    assert outline.subtask == "outline" and outline.status == "done"
    assert sections and all(s.metadata["heading"] in outline.output for s in sections)
    assert min(s.created_at for s in sections) >= outline.finished_at
    assert parent.status == "done" and parent.total_cost_usd == sum(k.total_cost_usd for k in kids)


def test_a_failed_child_is_retried_a_tier_up_without_rerunning_its_siblings(cluster, ledger, tmp_path):
    with FlakyServer(fail_503=1, fail_429=0) as flaky:
        # Given a cheap tier whose provider fails the first call outright, under a top tier that answers
        tier1 = {"name": "flaky", "provider": "openai", "model": "flaky-model", "threshold": 0.0, "timeout_s": 5,
                 "max_retries": 0, "prices": {"input_per_1m": "1", "output_per_1m": "1"},
                 "options": {"base_url": flaky.base_url, "api_key_env": "LADDER_FLAKY_KEY", "mode": "chat", "logprobs": True}}
        config = compose_config([tier1]) | {"composite": [{"name": "article", "tasks": ["article"], "sections": SECTIONS,
                                                           "child_retries": 1}]}
        c = cluster(config)
        c.env["LADDER_FLAKY_KEY"] = "sk-flaky-test"
        c.start_workers([1], concurrency=1)
        batch = submit(c, write_lines(tmp_path / "a.jsonl", [{"custom_id": "p", "prompt": "A post.", "task": "article"}]))
        parent = wait_parent(ledger, batch, timeout=90)
    kids = children(ledger, parent.id)
    # Then exactly one section failed and was tried again; the other two ran once
    failed = [k for k in kids if k.status == "failed"]
    assert len(failed) == 1 and len(kids) == 4
    retry = next(k for k in kids if k.custom_id.endswith("#try2"))
    assert retry.subtask == failed[0].subtask and retry.status == "done" and retry.route_reason == "subtask-retry"
    assert sorted(k.subtask for k in kids if k not in (retry, *failed)) == sorted(
        {"section-1", "section-2", "section-3"} - {failed[0].subtask})
    # And the parent is assembled, billed for every child including the failed try
    assert parent.status == "done" and parent.total_cost_usd == sum(k.total_cost_usd for k in kids)
