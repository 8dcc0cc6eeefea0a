"""The composite job's stages: start (outline or fixed sections), advance (sections, retries, assembly).

``advance`` runs on the route queue, whenever a child ends. It holds the
parent's row lock while it reads the children, so two children ending at
once cannot both start the next stage, and it writes only idempotent
inserts, so a redelivered ``advance`` changes nothing.
"""

from __future__ import annotations

import logging

from celery import group

from ladder.config import CompositeRule, LadderConfig, get_config
from ladder.ledger.db import get_engine
from ladder.ledger.schema import JobStatus
from worker.app import ROUTE_QUEUE, ROUTE_TASK, app
from worker.compose.ledger import (
    Child,
    add_children,
    begin_composite,
    children_of,
    finish_parent,
    lock_parent,
)
from worker.compose.plan import (
    OUTLINE,
    merge_sections,
    parse_headings,
    rule_named,
    section_prompt,
)

log = logging.getLogger("ladder.compose")
ADVANCE_TASK = "ladder.compose.advance"


def child_ended(parent_id: int) -> None:
    app.send_task(ADVANCE_TASK, args=(parent_id,), queue=ROUTE_QUEUE)


def _route_children(ids: list[int]) -> None:
    # Each subtask is routed on its own, so each finds its own cheapest adequate tier.
    if ids:
        group(app.signature(ROUTE_TASK, args=(i,), queue=ROUTE_QUEUE) for i in ids).apply_async()


def _sections(rule: CompositeRule, prompt: str, headings: list[str]) -> list[Child]:
    return [Child(f"section-{n}", section_prompt(rule, prompt, h), h) for n, h in enumerate(headings, 1)]


def _first_stage(conn, parent, rule: CompositeRule) -> list[int]:
    """The outline, or the sections straight away when the rule fixes them."""
    first = (_sections(rule, parent.prompt, rule.sections[:rule.max_sections]) if rule.sections
             else [Child(OUTLINE, rule.outline_prompt.format(prompt=parent.prompt))])
    return add_children(conn, parent, first)


def start_composite(job_id: int, rule: CompositeRule) -> None:
    """The route step of a composite job."""
    if not begin_composite(job_id, rule.name):
        return
    with get_engine().begin() as conn:
        ids = _first_stage(conn, lock_parent(conn, job_id), rule)
    _route_children(ids)


def _latest_by_subtask(kids: list) -> dict[str, object]:
    latest: dict[str, object] = {}
    for kid in kids:  # ordered by id: a retry replaces the child it retries
        latest[kid.subtask] = kid
    return latest


def _retry_failed(conn, config: LadderConfig, parent, rule: CompositeRule, kids: list, failed: list) -> list[tuple[int, int]] | str:
    """Replacements for failed children, one tier higher; only those children run again, never their siblings."""
    from worker.route.choose import clamp_to_allowed
    from worker.tier.task import usable_tiers

    again: list[tuple[int, int]] = []
    for kid in failed:
        tries = sum(1 for k in kids if k.subtask == kid.subtask)
        if tries > rule.child_retries:
            return f"subtask {kid.subtask} failed {tries} times: {kid.error}"
        above = min(config.top_tier, (kid.final_tier or kid.start_tier or 0) + 1)
        tier = clamp_to_allowed(above, usable_tiers(config, parent.tenant))
        heading = (kid.metadata or {}).get("heading")
        prompt = (section_prompt(rule, parent.prompt, heading) if heading
                  else rule.outline_prompt.format(prompt=parent.prompt))
        (child_id,) = add_children(conn, parent, [Child(kid.subtask, prompt, heading)], suffix=f"#try{tries + 1}")
        again.append((child_id, tier))
    return again


@app.task(name=ADVANCE_TASK, ignore_result=True)
def advance(parent_id: int) -> str:
    from worker.record import set_start_tier
    from worker.tier.task import enqueue_tier

    config = get_config()
    to_route: list[int] = []
    with get_engine().begin() as conn:
        parent = lock_parent(conn, parent_id)
        if parent is None or parent.status in JobStatus.final():
            return "final"
        rule = rule_named(config, (parent.route_reason or "").removeprefix("composite:"))
        kids = children_of(conn, parent_id)
        latest = _latest_by_subtask(kids)
        again: list[tuple[int, int]] = []
        if not kids:  # a crash between the start and the first children
            to_route = _first_stage(conn, parent, rule)
        elif any(k.status not in JobStatus.final() for k in latest.values()):
            return "waiting"
        else:
            to_route, again = _next_stage(conn, config, parent, rule, kids, latest)
            if not to_route and not again:
                return "final"
    for child_id, tier in again:
        if set_start_tier(child_id, tier, "subtask-retry"):
            enqueue_tier(child_id, tier)
    _route_children(to_route)
    return "retrying" if again else "next-stage"


def _next_stage(conn, config: LadderConfig, parent, rule: CompositeRule, kids: list,
                latest: dict) -> tuple[list[int], list[tuple[int, int]]]:
    """Every child of the stage is final: retry the failed ones, else plan the sections, else assemble.

    Returns the children to route and the (child, tier) retries to start, both empty when the parent is final.
    """
    failed = [k for k in latest.values() if k.status == JobStatus.FAILED.value]
    if failed:
        again = _retry_failed(conn, config, parent, rule, kids, failed)
        if isinstance(again, str):
            finish_parent(conn, parent.id, output=None, error=again)
            return [], []
        return [], again
    if OUTLINE in latest and len(latest) == 1:
        headings = parse_headings(latest[OUTLINE].output or "", rule.max_sections) or [parent.prompt[:200]]
        return add_children(conn, parent, _sections(rule, parent.prompt, headings)), []
    sections = sorted((k for k in latest.values() if k.subtask != OUTLINE), key=lambda k: int(k.subtask.split("-")[1]))
    finish_parent(conn, parent.id, output=merge_sections(
        [((k.metadata or {}).get("heading", k.subtask), k.output or "") for k in sections]))
    log.info("composite job %s assembled from %d sections", parent.id, len(sections))
    return [], []


def resume_composite(parent_id: int) -> None:
    """A redelivered or swept route message of a running parent: look again at where it stands."""
    with get_engine().connect() as conn:
        queued = [k.id for k in children_of(conn, parent_id) if k.status == JobStatus.QUEUED.value]
    _route_children(queued)
    child_ended(parent_id)
