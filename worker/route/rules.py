"""Rule-based routing: the first matching rule names the starting tier.

A rule matches when every condition it gives holds: any of its keywords
occurs (case-insensitive), its regex searches true, the job's task is one of
its tasks, the prompt length is within [min_chars, max_chars].
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from ladder.config import Routing, Rule


@dataclass(frozen=True)
class RouteChoice:
    tier: int
    reason: str  # "rule:<name>", "default", "learned"


@lru_cache(maxsize=256)
def _compiled(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern, re.IGNORECASE)


def rule_matches(rule: Rule, prompt: str, task: str | None) -> bool:
    if rule.tasks and task not in rule.tasks:
        return False
    if rule.min_chars is not None and len(prompt) < rule.min_chars:
        return False
    if rule.max_chars is not None and len(prompt) > rule.max_chars:
        return False
    if rule.keywords:
        lowered = prompt.lower()
        if not any(k.lower() in lowered for k in rule.keywords):
            return False
    if rule.regex is not None and not _compiled(rule.regex).search(prompt):
        return False
    return True


def route_by_rules(routing: Routing, prompt: str, task: str | None) -> RouteChoice | None:
    """The first matching rule's choice, or None when no rule matches."""
    for rule in routing.rules:
        if rule_matches(rule, prompt, task):
            return RouteChoice(rule.tier, f"rule:{rule.name}")
    return None
