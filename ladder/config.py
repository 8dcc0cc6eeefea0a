"""The validated config file: tiers, routing rules, tenants, model servers.

A tier is configuration, not code. The file is YAML; a wrong file fails at
start-up with the offending key and the reason (``ConfigError``). Relative
model paths resolve against the settings' ``models_dir``; ``${VAR}`` in a
string is taken from the environment so that secrets stay out of the file.
"""

from __future__ import annotations

import os
import re
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from ladder.errors import ConfigError


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Prices(_Strict):
    """Remote tiers pay per token; local tiers pay for the machine's time."""

    input_per_1m: Decimal = Decimal(0)
    output_per_1m: Decimal = Decimal(0)
    machine_per_hour: Decimal = Decimal(0)

    def cost(self, prompt_tokens: int, completion_tokens: int, compute_seconds: float) -> Decimal:
        per_token = (self.input_per_1m * prompt_tokens + self.output_per_1m * completion_tokens) / Decimal(1_000_000)
        # Seconds arrive as a float from the clock; round to the microsecond before money is involved.
        seconds = Decimal(str(round(compute_seconds, 6)))
        return (per_token + self.machine_per_hour * seconds / Decimal(3600)).quantize(Decimal("0.0000000001"))


class Tier(_Strict):
    name: str
    provider: Literal["llama_cpp", "openai", "replay", "instant"]
    model: str
    prices: Prices = Prices()
    threshold: float = Field(0.5, ge=0.0, le=1.0, description="accept when confidence >= threshold")
    timeout_s: float = Field(60.0, gt=0)
    max_retries: int = Field(3, ge=0)
    concurrency: int = Field(1, ge=1)
    options: dict[str, Any] = Field(default_factory=dict, description="provider-specific settings")


class Rule(_Strict):
    """A job matching every given condition starts on ``tier``."""

    name: str
    tier: int = Field(ge=1)
    keywords: list[str] = Field(default_factory=list)
    regex: str | None = None
    tasks: list[str] = Field(default_factory=list)
    min_chars: int | None = Field(None, ge=0)
    max_chars: int | None = Field(None, ge=0)

    @field_validator("regex")
    @classmethod
    def _compiles(cls, pattern: str | None) -> str | None:
        if pattern is not None:
            try:
                re.compile(pattern)
            except re.error as exc:
                raise ValueError(f"invalid regex {pattern!r}: {exc}") from None
        return pattern

    @model_validator(mode="after")
    def _has_a_condition(self) -> "Rule":
        if not (self.keywords or self.regex or self.tasks or self.min_chars is not None or self.max_chars is not None):
            raise ValueError(f"rule {self.name!r} has no condition (keywords, regex, tasks, min_chars, max_chars)")
        return self


class Routing(_Strict):
    default_tier: int = Field(1, ge=1)
    rules: list[Rule] = Field(default_factory=list)
    router: Literal["rules", "learned"] = "rules"
    router_path: Path | None = None


class Strategy(_Strict):
    """How jobs climb: where they start and when an answer is trusted.

    A tenant sets it for its jobs; an experiment arm overrides it for its
    share of them. Unset fields fall back to ``routing`` and the tiers' own
    thresholds.
    """

    routing_strategy: Literal["rules", "learned", "cheapest", "top"] | None = Field(
        None, description="rules/learned: as routing.router; cheapest: always tier 1; top: straight to the top tier")
    start_tier: int | None = Field(None, ge=1, description="every job starts here (overrides routing_strategy)")
    thresholds: dict[int, float] = Field(default_factory=dict, description="tier number -> acceptance threshold")

    @field_validator("thresholds")
    @classmethod
    def _unit_interval(cls, thresholds: dict[int, float]) -> dict[int, float]:
        for tier, value in thresholds.items():
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"threshold for tier {tier} is {value}; thresholds are in [0, 1]")
        return thresholds

    def tiers_named(self) -> list[int]:
        return ([self.start_tier] if self.start_tier else []) + list(self.thresholds)


class Tenant(Strategy):
    allowed_tiers: list[int] | None = None
    budget_usd: Decimal | None = Field(None, ge=0)
    priority: int = Field(0, ge=0, le=9, description="broker priority of the tenant's messages: 0 is served first")
    response_cache: bool = Field(False, description="answer an identical prompt from the cache (cache.response_ttl_s)")


class Arm(Strategy):
    name: str
    share: float = Field(gt=0.0, le=1.0, description="share of the experiment's jobs in this arm")


class Experiment(_Strict):
    """Jobs of ``tenant`` (every tenant when unset) split between arms by a hash of the job id.

    The first arm is the control the others are compared with; shares that
    sum to less than 1 leave the rest of the jobs out of the experiment.
    """

    name: str
    tenant: str | None = None
    arms: list[Arm] = Field(min_length=2)

    @model_validator(mode="after")
    def _arms_fit(self) -> "Experiment":
        if sum(arm.share for arm in self.arms) > 1.0 + 1e-9:
            raise ValueError(f"experiment {self.name!r}: arm shares add up to more than 1")
        names = [arm.name for arm in self.arms]
        if len(set(names)) != len(names):
            raise ValueError(f"experiment {self.name!r}: arm names must be unique")
        return self


class Cache(_Strict):
    """Routing decisions by normalised prompt, and (tenants with response_cache) exact answers, in Redis."""

    route_ttl_s: float = Field(3600.0, ge=0, description="0 turns the routing cache off")
    response_ttl_s: float = Field(86400.0, gt=0)
    lease_s: float = Field(120.0, gt=0, description="how long identical prompts wait for the first one's answer")


class CompositeRule(_Strict):
    """A job matching the rule (or with metadata ``composite: true``) is split into subtasks.

    Outline → one section per heading → assembly. With ``sections`` given the
    headings are fixed and no outline is asked for.
    """

    name: str
    tasks: list[str] = Field(default_factory=list)
    keywords: list[str] = Field(default_factory=list)
    sections: list[str] = Field(default_factory=list)
    max_sections: int = Field(6, ge=1, le=50)
    child_retries: int = Field(1, ge=0, description="a failed subtask is tried again this often, a tier higher")
    outline_prompt: str = "List the section headings, one per line, for: {prompt}"
    section_prompt: str = "Write the section \"{heading}\" of: {prompt}"


class Ensemble(_Strict):
    """Critical jobs (a listed task, a keyword, or metadata ``critical: true``) ask several members at once."""

    tasks: list[str] = Field(default_factory=list)
    keywords: list[str] = Field(default_factory=list)
    members: list[int] = Field(default_factory=list, description="a tier per member; repeat a tier for several samples")
    min_agreement: float = Field(0.67, ge=0.0, le=1.0, description="share of members agreeing to accept")
    judge_tier: int | None = Field(None, ge=1, description="long answers: this tier judges whether two answers agree")


class Fairness(_Strict):
    """Message priorities: a tenant's priority, plus a penalty for big batches, so small ones are not starved."""

    large_batch_jobs: int = Field(500, ge=1, description="batches with at least this many jobs are large")
    large_batch_penalty: int = Field(3, ge=0, le=9, description="added to a large batch's message priority")


class ModelServer(_Strict):
    """An OpenAI-compatible llama.cpp server the embedded stack starts on loopback."""

    name: str
    model_path: Path
    port: int = Field(ge=1, le=65535)
    host: str = "127.0.0.1"
    n_ctx: int = 2048
    n_threads: int = 1
    # Per-token logprobs need logits for every token; the top tier's answer is
    # final whatever its confidence, so its server can skip that cost.
    logits_all: bool = True


class Limits(_Strict):
    max_prompt_chars: int = Field(16_000, gt=0)
    default_max_tokens: int = Field(128, gt=0)
    max_max_tokens: int = Field(4096, gt=0)


class Health(_Strict):
    """Circuit breaking per tier (state in Redis, shared by every worker)."""

    failure_threshold: int = Field(5, ge=1, description="consecutive failures that open the circuit")
    cooldown_s: float = Field(30.0, gt=0, description="how long an open circuit waits before a half-open probe")
    probe_interval_s: float = Field(10.0, gt=0, description="how often beat looks for tiers to probe")
    on_top_down: Literal["degrade", "wait"] = "degrade"


class Sweeper(_Strict):
    """Finds jobs whose state has not moved for too long and re-enqueues them from Postgres."""

    interval_s: float = Field(30.0, gt=0)
    stale_after_s: float = Field(120.0, gt=0)


class Audit(_Strict):
    """Re-run a share of the jobs accepted below ``tier`` on it, to measure routing accuracy."""

    share: float = Field(0.02, ge=0.0, le=1.0)
    tier: int | Literal["top"] = "top"
    judge: bool = Field(False, description="long answers: ask the audit tier instead of word overlap")


class LadderConfig(_Strict):
    tiers: list[Tier] = Field(min_length=1)
    routing: Routing = Routing()
    health: Health = Health()
    sweeper: Sweeper = Sweeper()
    audit: Audit = Audit()
    tenants: dict[str, Tenant] = Field(default_factory=dict)
    model_servers: list[ModelServer] = Field(default_factory=list)
    limits: Limits = Limits()
    cache: Cache = Cache()
    experiments: list[Experiment] = Field(default_factory=list)
    composite: list[CompositeRule] = Field(default_factory=list)
    ensemble: Ensemble = Ensemble()
    fairness: Fairness = Fairness()

    @model_validator(mode="after")
    def _tiers_referenced_exist(self) -> "LadderConfig":
        top = len(self.tiers)
        if self.routing.default_tier > top:
            raise ValueError(f"routing.default_tier is {self.routing.default_tier} but only {top} tiers are configured")
        for rule in self.routing.rules:
            if rule.tier > top:
                raise ValueError(f"routing rule {rule.name!r} sends jobs to tier {rule.tier}; only {top} tiers exist")
        if isinstance(self.audit.tier, int) and not 1 <= self.audit.tier <= top:
            raise ValueError(f"audit.tier is {self.audit.tier}; only tiers 1..{top} exist")
        for name, tenant in self.tenants.items():
            for t in (tenant.allowed_tiers or []) + tenant.tiers_named():
                if not 1 <= t <= top:
                    raise ValueError(f"tenant {name!r} names tier {t}; only tiers 1..{top} exist")
        self._platform_sections_valid(top)
        return self

    def _platform_sections_valid(self, top: int) -> None:
        experimented: set[str | None] = set()
        for experiment in self.experiments:
            if experiment.tenant is not None and self.tenants and experiment.tenant not in self.tenants:
                raise ValueError(f"experiment {experiment.name!r} names tenant {experiment.tenant!r}, "
                                 "which is not under `tenants:`")
            if experiment.tenant in experimented or None in experimented:
                raise ValueError(f"experiment {experiment.name!r}: a tenant takes part in one experiment at a time")
            experimented.add(experiment.tenant)
            for arm in experiment.arms:
                if any(not 1 <= t <= top for t in arm.tiers_named()):
                    raise ValueError(f"experiment {experiment.name!r} arm {arm.name!r} names a tier outside 1..{top}")
        for t in self.ensemble.members + ([self.ensemble.judge_tier] if self.ensemble.judge_tier else []):
            if not 1 <= t <= top:
                raise ValueError(f"ensemble names tier {t}; only tiers 1..{top} exist")
        if (self.ensemble.tasks or self.ensemble.keywords) and len(self.ensemble.members) < 2:
            raise ValueError("ensemble: give at least two members (tiers) to vote")

    @property
    def top_tier(self) -> int:
        return len(self.tiers)

    def tier(self, number: int) -> Tier:
        """Tiers are numbered from 1 (the cheapest) in file order."""
        if not 1 <= number <= self.top_tier:
            raise ConfigError(f"tier {number} is not configured (tiers 1..{self.top_tier})")
        return self.tiers[number - 1]


_ENV_REF = re.compile(r"\$\{([A-Z0-9_]+)(?::-([^}]*))?\}")


def _expand_env(value: Any) -> Any:
    if isinstance(value, str):
        return _ENV_REF.sub(lambda m: os.environ.get(m.group(1), m.group(2) or ""), value)
    if isinstance(value, list):
        return [_expand_env(v) for v in value]
    if isinstance(value, dict):
        return {k: _expand_env(v) for k, v in value.items()}
    return value


def parse_config(raw: dict[str, Any], source: str = "config") -> LadderConfig:
    try:
        return LadderConfig.model_validate(_expand_env(raw))
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(p) for p in err['loc']) or '(top)'}: {err['msg']}" for err in exc.errors())
        raise ConfigError(f"{source}: {problems}") from None


def load_config(path: Path | str) -> LadderConfig:
    path = Path(path)
    try:
        raw = yaml.safe_load(path.read_text())
    except OSError as exc:
        raise ConfigError(f"cannot read config {path}: {exc.strerror}. Set LADDER_CONFIG to a readable file.") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path} is not valid YAML: {exc}") from None
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: expected a mapping with a 'tiers' list at the top")
    return parse_config(raw, str(path))


@lru_cache(maxsize=4)
def _cached(path: str, mtime: float) -> LadderConfig:
    return load_config(path)


def get_config() -> LadderConfig:
    """The config named by the settings, parsed once per process (re-read if the file changes)."""
    from ladder.settings import get_settings

    path = get_settings().config
    try:
        mtime = path.stat().st_mtime
    except OSError:
        mtime = 0.0
    return _cached(str(path), mtime)
