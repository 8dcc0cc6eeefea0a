"""Score: turn a generation into a confidence in [0, 1].

The confidence is the token log-probability signal (``logprob``) where the
backend gives one, capped by the task validators (``validators``): an empty
answer, a refusal or invalid JSON for a JSON task scores 0 whatever the
model's certainty. Without log-probabilities the validators alone decide,
and a provider that gives neither is a configuration error caught at load.
"""

from __future__ import annotations

from worker.providers.base import Generation, Request
from worker.score.logprob import geometric_mean_probability
from worker.score.validators import validate


def confidence(request: Request, generation: Generation) -> float:
    problem = validate(request, generation.text)
    if problem is not None:
        return 0.0
    if generation.token_logprobs:
        return geometric_mean_probability(generation.token_logprobs)
    # No certainty signal: a valid answer is as far as we can vouch for it.
    return generation.extra.get("confidence", 1.0)
