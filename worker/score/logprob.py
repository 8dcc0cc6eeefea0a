"""Confidence from token log-probabilities.

We use the geometric mean of the generated tokens' probabilities,
``exp(mean(logprob))``: it is length-normalised (a long answer is not
penalised for having more tokens, as the joint probability would be) and it
sits in [0, 1]. One very unsure token still pulls it down, which is the
signal a cascade wants. An answer with no tokens has no evidence: 0.
"""

from __future__ import annotations

import math
from collections.abc import Sequence


def geometric_mean_probability(token_logprobs: Sequence[float]) -> float:
    if not token_logprobs:
        return 0.0
    mean = sum(token_logprobs) / len(token_logprobs)
    return min(1.0, max(0.0, math.exp(mean)))
