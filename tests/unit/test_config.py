"""The config file fails fast with the key and the reason."""

from decimal import Decimal

import pytest

from ladder.config import Prices, load_config, parse_config
from ladder.errors import ConfigError
from ladder.settings import BUNDLED_CONFIG

TIER = {"name": "t", "provider": "instant", "model": "m"}


def test_bundled_config_is_valid_and_has_four_tiers():
    config = load_config(BUNDLED_CONFIG)
    assert config.top_tier == 4 and config.tier(1).provider == "llama_cpp"


def test_unknown_key_is_named():
    with pytest.raises(ConfigError, match=r"tiers\.0\.treshold"):
        parse_config({"tiers": [TIER | {"treshold": 0.5}]})


def test_threshold_out_of_range_is_named():
    with pytest.raises(ConfigError, match=r"tiers\.0\.threshold"):
        parse_config({"tiers": [TIER | {"threshold": 1.5}]})


def test_rule_pointing_above_the_top_tier_is_rejected():
    with pytest.raises(ConfigError, match="tier 3; only 1 tiers exist"):
        parse_config({"tiers": [TIER], "routing": {"rules": [{"name": "r", "tier": 3, "keywords": ["x"]}]}})


def test_rule_with_a_bad_regex_is_rejected():
    with pytest.raises(ConfigError, match="invalid regex"):
        parse_config({"tiers": [TIER], "routing": {"rules": [{"name": "r", "tier": 1, "regex": "("}]}})


def test_rule_without_condition_is_rejected():
    with pytest.raises(ConfigError, match="has no condition"):
        parse_config({"tiers": [TIER], "routing": {"rules": [{"name": "r", "tier": 1}]}})


def test_env_references_are_expanded(monkeypatch):
    monkeypatch.setenv("LADDER_TEST_URL", "http://x/v1")
    config = parse_config({"tiers": [TIER | {"options": {"base_url": "${LADDER_TEST_URL}"}}]})
    assert config.tier(1).options["base_url"] == "http://x/v1"


def test_unreadable_and_invalid_yaml_files(tmp_path):
    with pytest.raises(ConfigError, match="cannot read config"):
        load_config(tmp_path / "missing.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("tiers: [\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_config(bad)


def test_remote_cost_is_exact_decimal_per_token():
    prices = Prices(input_per_1m=Decimal("10"), output_per_1m=Decimal("30"))
    assert prices.cost(1000, 500, 3.0) == Decimal("0.025")


def test_local_cost_is_machine_time():
    prices = Prices(machine_per_hour=Decimal("0.36"))
    assert prices.cost(10_000, 10_000, 2.5) == Decimal("0.00025")
