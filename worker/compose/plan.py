"""Pure decisions of decomposition: is a job composite, what are its sections, how do they merge."""

from __future__ import annotations

import re
from collections.abc import Mapping

from ladder.config import CompositeRule, LadderConfig

OUTLINE = "outline"
DEFAULT_RULE = CompositeRule(name="metadata", tasks=[])  # for jobs marked ``composite: true`` by their submitter
_BULLET = re.compile(r"^\s*(?:[-*•#]+|\d+[.)]|[a-zA-Z][.)])\s*")


def composite_rule(config: LadderConfig, prompt: str, task: str | None, metadata: Mapping | None) -> CompositeRule | None:
    if metadata and metadata.get("composite") is True:
        return next(iter(config.composite), DEFAULT_RULE)
    lowered = prompt.lower()
    for rule in config.composite:
        if (rule.tasks and task in rule.tasks) or any(k.lower() in lowered for k in rule.keywords):
            return rule
    return None


def rule_named(config: LadderConfig, name: str) -> CompositeRule:
    return next((r for r in config.composite if r.name == name), DEFAULT_RULE)


def parse_headings(outline: str, limit: int) -> list[str]:
    """One heading per non-empty line of the outline, bullets and numbering stripped, duplicates dropped."""
    headings: list[str] = []
    for line in outline.splitlines():
        heading = _BULLET.sub("", line).strip().strip("*:").strip()
        if heading and heading.lower() not in (h.lower() for h in headings):
            headings.append(heading[:200])
    return headings[:limit]


def section_prompt(rule: CompositeRule, prompt: str, heading: str) -> str:
    return rule.section_prompt.format(prompt=prompt, heading=heading)


def merge_sections(sections: list[tuple[str, str]]) -> str:
    """The assembly step: each section under its heading, in outline order."""
    return "\n\n".join(f"## {heading}\n\n{text.strip()}" for heading, text in sections)
