"""Score: turn a generation into a confidence in [0, 1].

Signals, combined in this order:

1. Task validators (``validators``) veto: an empty answer, a refusal or
   invalid JSON for a JSON task scores 0 whatever else says.
2. Token log-probabilities (``logprob``), where the backend gives them: the
   geometric-mean token probability.
3. A learned (prompt, answer) scorer (``learned``, FrugalGPT-style), when the
   tier names one in ``options.scorer_path``: alone for backends without
   log-probabilities, or as a second opinion averaged with them.

Without either signal a valid answer scores what the provider reports
(``extra["confidence"]``), else 1.0: validators are all we can vouch for.
"""

from __future__ import annotations

from functools import lru_cache

from ladder.config import Tier
from worker.providers.base import Generation, Request
from worker.score.logprob import geometric_mean_probability
from worker.score.validators import validate


@lru_cache(maxsize=8)
def _learned_scorer(path: str):
    from worker.score.learned import LearnedScorer

    return LearnedScorer.load(path)


def confidence(request: Request, generation: Generation, tier: Tier | None = None) -> float:
    if validate(request, generation.text) is not None:
        return 0.0
    signals: list[float] = []
    if generation.token_logprobs:
        signals.append(geometric_mean_probability(generation.token_logprobs))
    scorer_path = tier.options.get("scorer_path") if tier is not None else None
    if scorer_path:
        signals.append(_learned_scorer(str(scorer_path)).score(request.prompt, generation.text))
    if signals:
        return sum(signals) / len(signals)
    return generation.extra.get("confidence", 1.0)
