"""Ladder's own errors. Third-party exceptions are translated at the boundary.

    LadderError
    ├── ConfigError          the config file or settings are wrong (key and reason)
    ├── InputError           a batch file cannot be read at all
    └── TierError            a provider call did not give an answer
        ├── TierUnavailable  retryable: timeout, 429, 5xx, connection refused
        └── TierRejected     final: 400, context too long, refusal

A malformed *line* is not an exception: the parser returns it as a
``LineError`` value so the rest of the batch still runs.
"""

from __future__ import annotations


class LadderError(Exception):
    """Base of every error Ladder raises on purpose."""


class ConfigError(LadderError):
    """Configuration is missing or invalid; the message names the key."""


class InputError(LadderError):
    """A batch file is empty, unreadable or of an unknown format."""


class TierError(LadderError):
    def __init__(self, message: str, *, tier: int | None = None):
        super().__init__(message)
        self.tier = tier


class TierUnavailable(TierError):
    """Worth retrying later; ``retry_after`` (seconds) when the provider said so."""

    def __init__(self, message: str, *, tier: int | None = None, retry_after: float | None = None):
        super().__init__(message, tier=tier)
        self.retry_after = retry_after


class TierRejected(TierError):
    """The provider refused this request for good; retrying would not help."""
