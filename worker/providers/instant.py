"""Answers at once, for measuring Ladder's own overhead. Never a default.

The confidence it reports is a deterministic function of the prompt, so a
benchmark can ask for a given escalation rate: ``options.escalate_share``
(default 0.3) of prompts score below any threshold under 0.5 on this tier.
``options.delay_s`` makes each answer take that long, so that the fault tests
have calls in flight to interrupt.
"""

from __future__ import annotations

import time
import zlib

from ladder.config import Tier
from worker.providers.base import Generation, Request


class InstantProvider:
    name = "instant"

    def __init__(self, tier: Tier):
        self.tier = tier
        self.escalate_share = float(tier.options.get("escalate_share", 0.3))
        self.delay_s = float(tier.options.get("delay_s", 0.0))

    def generate(self, request: Request) -> Generation:
        if self.delay_s:
            time.sleep(self.delay_s)
        bucket = (zlib.crc32(request.prompt.encode()) % 1000) / 1000
        sure = 0.05 if bucket < self.escalate_share else 0.95
        words = len(request.prompt.split())
        return Generation(
            text=f"instant answer to {words} words",
            prompt_tokens=words,
            completion_tokens=5,
            compute_seconds=self.delay_s,
            model=self.tier.model,
            token_logprobs=None,
            extra={"confidence": sure},
        )

    def close(self) -> None:
        pass
