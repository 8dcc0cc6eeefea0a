"""Rule-based routing: first match wins; the tenant's allowed tiers clamp upwards."""

from ladder.config import parse_config
from worker.route.choose import choose_start, clamp_to_allowed

TIERS = [{"name": f"t{i}", "provider": "instant", "model": "m"} for i in range(4)]
CONFIG = parse_config({
    "tiers": TIERS,
    "routing": {"default_tier": 1, "rules": [
        {"name": "reasoning", "tier": 3, "keywords": ["Step By Step"]},
        {"name": "sku", "tier": 2, "regex": r"\bSKU-\d+"},
        {"name": "code", "tier": 2, "tasks": ["code_snippet"]},
        {"name": "long", "tier": 4, "min_chars": 50},
    ]},
    "tenants": {"basic": {"allowed_tiers": [1, 2]}, "premium": {"allowed_tiers": [3, 4]}},
})


def route(prompt, task=None, tenant="x"):
    choice = choose_start(CONFIG, prompt, task, tenant)
    return choice.tier, choice.reason


def test_keyword_match_is_case_insensitive():
    assert route("solve this step by step") == (3, "rule:reasoning")


def test_regex_and_task_rules():
    assert route("describe SKU-123") == (2, "rule:sku")
    assert route("print hello", task="code_snippet") == (2, "rule:code")


def test_length_band():
    assert route("x" * 60) == (4, "rule:long")


def test_no_match_takes_the_default():
    assert route("hello") == (1, "default")


def test_tenant_clamps_to_its_allowed_tiers():
    assert route("hello", tenant="premium") == (3, "default+tenant")
    assert route("x" * 60, tenant="basic") == (2, "rule:long+tenant")


def test_clamp_without_policy_is_identity():
    assert clamp_to_allowed(2, None) == 2
