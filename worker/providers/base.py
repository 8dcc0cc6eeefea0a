"""The Provider protocol: one call in, one generation out."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol


@dataclass(frozen=True)
class Request:
    prompt: str
    max_tokens: int
    task: str | None = None
    custom_id: str | None = None  # lets a replay provider find the recorded answer


@dataclass(frozen=True)
class Generation:
    text: str
    prompt_tokens: int
    completion_tokens: int
    compute_seconds: float
    model: str
    # Natural-log probability of each generated token, when the backend gives them.
    token_logprobs: list[float] | None = None
    # What the backend knows beyond the text (e.g. a replay file's recorded correctness).
    extra: dict = field(default_factory=dict)


class Provider(Protocol):
    """A backend for one tier. Created once per worker process, after fork."""

    name: str

    def generate(self, request: Request) -> Generation:
        """Answer one request, or raise ``TierUnavailable`` / ``TierRejected``."""
        ...

    def close(self) -> None:
        """Release the model or the connection pool."""
        ...
