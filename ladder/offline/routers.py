"""Routing policies replayed offline: each is fitted on a train split and gives
values on a test split that ``metrics.sweep`` turns into a curve.

    random   a coin per prompt: the baseline every router must beat
    oracle   knows the outcomes: sends a prompt up only where that helps (the limit)
    learned  the prompt-only learned router (worker.route.learned)
    cascade  every cheaper model answers first; the learned scorer judges the answer
             (worker.score.learned); needs the models' response columns
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from ladder.config import Prices
from ladder.errors import InputError
from ladder.offline import metrics
from ladder.offline.outcomes import Outcomes


@dataclass(frozen=True)
class Policy:
    values: np.ndarray  # (test prompts, models below the top), in [0, 1]
    cascade: bool  # values are confidences in answers, and every model tried is paid for
    model: Any = None  # the fitted artifact (LearnedRouter / LearnedScorer), if any


def router_values(router, outcomes: Outcomes) -> np.ndarray:
    return np.array([router.success_probabilities(p) for p in outcomes.prompts]).reshape(len(outcomes), -1)


def scorer_values(scorer, outcomes: Outcomes) -> np.ndarray:
    cheaper = outcomes.models[:-1]
    return np.array([[scorer.score(p, outcomes.responses[m][j]) for m in cheaper]
                     for j, p in enumerate(outcomes.prompts)]).reshape(len(outcomes), -1)


def _random(train: Outcomes, test: Outcomes, seed: int) -> Policy:
    return Policy(np.random.default_rng(seed).random((len(test), len(test.models) - 1)), cascade=False)


def _oracle(train: Outcomes, test: Outcomes, seed: int) -> Policy:
    correct = test.correct
    # A model is "good enough" when it is right or no dearer model would be.
    dearer_right = np.flip(np.cumsum(np.flip(correct, axis=1), axis=1), axis=1)[:, 1:] > 0
    enough = correct[:, :-1] | ~dearer_right
    # Random order inside each group traces the whole curve, RouteLLM's "optimal" line.
    jitter = np.random.default_rng(seed).random(enough.shape) * 0.5
    return Policy(np.where(enough, 0.5 + jitter, jitter), cascade=False)


def _learned(train: Outcomes, test: Outcomes, seed: int) -> Policy:
    from worker.route.learned import LearnedRouter

    tiers = list(range(1, len(train.models) + 1))
    router = LearnedRouter.train(train.prompts, train.correct[:, :-1].tolist(), tiers, seed=seed)
    return Policy(router_values(router, test), cascade=False, model=router)


def require_responses(outcomes: Outcomes, what: str) -> None:
    cheaper = outcomes.models[:-1]
    if not outcomes.has_responses(cheaper):
        raise InputError(f"{what} needs the answers of {', '.join(cheaper)} (columns '<model>_response'); "
                         "this file is query-only: use --router learned, random or oracle")


def train_scorer(train: Outcomes, seed: int):
    """One scorer for every cheaper model's answers: the features do not depend on the model."""
    from worker.score.learned import LearnedScorer

    require_responses(train, "the cascade router")
    cheaper = train.models[:-1]
    prompts = [p for _ in cheaper for p in train.prompts]
    answers = [a for m in cheaper for a in train.responses[m]]
    labels = [bool(c) for k in range(len(cheaper)) for c in train.correct[:, k]]
    return LearnedScorer.train(prompts, answers, labels, seed=seed)


def _cascade(train: Outcomes, test: Outcomes, seed: int) -> Policy:
    require_responses(test, "the cascade router")
    scorer = train_scorer(train, seed)
    return Policy(scorer_values(scorer, test), cascade=True, model=scorer)


ROUTERS: dict[str, Callable[[Outcomes, Outcomes, int], Policy]] = {
    "random": _random,
    "oracle": _oracle,
    "learned": _learned,
    "cascade": _cascade,
}


def fit_policy(name: str, train: Outcomes, test: Outcomes, seed: int) -> Policy:
    try:
        build = ROUTERS[name]
    except KeyError:
        raise InputError(f"unknown router {name!r}; choose one of {', '.join(ROUTERS)} or 'all'") from None
    if len(train.models) < 2:
        raise InputError("routing needs at least two models, cheapest first: --models CHEAP,EXPENSIVE")
    return build(train, test, seed)


def evaluate(outcomes: Outcomes, router: str, prices: Mapping[str, Prices], *, train_fraction: float, seed: int) -> dict:
    """Fit on the train split, sweep on the test split, summarise: what `ladder eval` prints."""
    train, test = outcomes.split(train_fraction, seed)
    policy = fit_policy(router, train, test, seed)
    costs = metrics.call_costs(test, prices)
    points = metrics.sweep(policy.values, test.correct, costs, cascade=policy.cascade)
    return {
        "router": router,
        "models": outcomes.models,
        "n_train": len(train),
        "n_test": len(test),
        "accuracy": test.accuracy(),
        **metrics.summarise(points, test.correct, costs),
    }
