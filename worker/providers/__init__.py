"""Providers: one small protocol, one module per backend, looked up by name.

    llama_cpp  a local GGUF model in the worker process
    openai     any OpenAI-compatible endpoint through the official client
    replay     answers recorded in a file (``data/routellm`` layout)
    instant    answers at once; only for measuring Ladder's own overhead

A backend translates its third-party errors into ``TierUnavailable``
(retryable) or ``TierRejected`` (final) at this boundary.
"""

from __future__ import annotations

import importlib

from ladder.config import Tier
from ladder.errors import ConfigError
from worker.providers.base import Generation, Provider, Request

_BACKENDS = {
    "llama_cpp": "worker.providers.llama_cpp:LlamaCppProvider",
    "openai": "worker.providers.openai_compat:OpenAIProvider",
    "replay": "worker.providers.replay:ReplayProvider",
    "instant": "worker.providers.instant:InstantProvider",
}


def create_provider(tier: Tier) -> Provider:
    """Build the provider a tier names. Heavy imports happen only here."""
    try:
        module_name, cls_name = _BACKENDS[tier.provider].split(":")
    except KeyError:
        raise ConfigError(f"tier {tier.name!r}: unknown provider {tier.provider!r} (known: {', '.join(_BACKENDS)})") from None
    cls = getattr(importlib.import_module(module_name), cls_name)
    return cls(tier)


__all__ = ["Generation", "Provider", "Request", "create_provider"]
