"""The learned router: from the prompt alone, the lowest tier likely to succeed.

Features are cheap to compute per job: hashed word 1-2-grams and character
3-5-grams (digits folded to ``0`` so that the model learns the shape of a
problem, not its particular numbers) plus a few dense counts (length, numbers,
digits). One L2-regularised logistic regression per tier below the top
predicts P(that tier's answer is right); the regularisation is chosen by
cross-validation on the training rows only. Scikit-learn fits the weights;
prediction is a sparse dot product in numpy, and the artifact is plain JSON.

:class:`LinearModel` and :func:`hashed_ngrams` are shared with the learned
answer scorer (``worker.score.learned``).
"""

from __future__ import annotations

import json
import math
import re
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ladder.errors import ConfigError, InputError

HASH_BITS = 18
_WORD = re.compile(r"[^\W\d_]+|\d+(?:[.,]\d+)*|[^\w\s]")
NUMBER = re.compile(r"(?<![\w.])-?\d+(?:,\d{3})*(?:\.\d+)?")
_DIGIT = re.compile(r"\d")
FORMAT = "ladder-linear/1"
# Inverse L2 strengths tried by cross-validation: from "mostly the base rate" to "fit the words".
C_GRID = (0.01, 0.03, 0.1, 0.3, 1.0, 3.0)


def parse_number(token: str) -> float | None:
    try:
        return float(token.replace(",", ""))
    except ValueError:
        return None


def hashed_ngrams(text: str, prefix: str, *, chars: bool = True) -> dict[int, float]:
    """Binary hashed word 1-2-grams and (``chars``) char 3-5-grams, each block L2-normalised."""
    folded = _DIGIT.sub("0", text.lower())
    words = _WORD.findall(folded)
    word_grams = set(words) | {f"{a} {b}" for a, b in zip(words, words[1:])}
    squeezed = " ".join(folded.split())
    char_grams = {squeezed[i : i + n] for n in (3, 4, 5) for i in range(len(squeezed) - n + 1)} if chars else set()
    mask = (1 << HASH_BITS) - 1
    features: dict[int, float] = {}
    for kind, grams in (("w", word_grams), ("c", char_grams)):
        if not grams:
            continue
        value = 1.0 / math.sqrt(len(grams))
        for gram in grams:
            # crc32, not hash(): str hashes change from one process to the next.
            index = zlib.crc32(f"{prefix}{kind}:{gram}".encode()) & mask
            features[index] = features.get(index, 0.0) + value
    return features


def prompt_dense(prompt: str) -> list[float]:
    """Length, number and digit counts: how big and how quantitative the request is."""
    numbers = [v for v in (parse_number(t) for t in NUMBER.findall(prompt)) if v is not None]
    words = prompt.split()
    digits = sum(ch.isdigit() for ch in prompt)
    return [
        math.log1p(len(prompt)),
        math.log1p(len(words)),
        math.log1p(len(numbers)),
        math.log1p(len(set(numbers))),
        digits / max(1, len(prompt)),
        math.log10(1 + max((abs(v) for v in numbers), default=0.0)),
        math.log1p(sum(1 for v in numbers if v != int(v))),
        float("%" in prompt),
        math.log1p(prompt.count(".") + prompt.count("?") + prompt.count("!")),
        math.log1p(prompt.count("\n")),
        sum(len(w) for w in words) / max(1, len(words)),
    ]


@dataclass
class LinearModel:
    """Logistic regression over hashed sparse features plus standardised dense ones."""

    bias: float
    hashed: np.ndarray  # float32, one weight per hash slot (2**HASH_BITS)
    dense: np.ndarray  # weights of the standardised dense features
    mean: np.ndarray
    scale: np.ndarray
    C: float | None = None  # the regularisation cross-validation chose (None: constant model)

    def probability(self, sparse: dict[int, float], dense: Sequence[float]) -> float:
        z = self.bias + float(np.dot((np.asarray(dense) - self.mean) / self.scale, self.dense))
        if sparse:
            z += float(np.dot(self.hashed[list(sparse)], list(sparse.values())))
        return 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, z))))

    def to_json(self) -> dict:
        nonzero = np.flatnonzero(np.abs(self.hashed) > 1e-6)
        return {
            "bias": self.bias,
            "C": self.C,
            "hash_bits": HASH_BITS,
            "hashed": {str(i): round(float(self.hashed[i]), 6) for i in nonzero},
            "dense": self.dense.tolist(),
            "mean": self.mean.tolist(),
            "scale": self.scale.tolist(),
        }

    @classmethod
    def from_json(cls, raw: dict) -> "LinearModel":
        if raw["hash_bits"] != HASH_BITS:
            raise ConfigError(f"artifact hashes features into 2**{raw['hash_bits']} slots, this Ladder into 2**{HASH_BITS}: retrain it")
        hashed = np.zeros(1 << HASH_BITS, dtype=np.float32)
        for index, weight in raw["hashed"].items():
            hashed[int(index)] = weight
        arrays = (np.asarray(raw[k], dtype=float) for k in ("dense", "mean", "scale"))
        return cls(float(raw["bias"]), hashed, *arrays, C=raw.get("C"))


def fit_linear(sparse_rows: Sequence[dict[int, float]], dense_rows: Sequence[Sequence[float]], labels: Sequence[bool],
               *, seed: int = 0) -> LinearModel:
    """Fit one model; C picked by stratified k-fold log-loss on these rows only."""
    from scipy.sparse import csr_matrix, hstack
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import log_loss
    from sklearn.model_selection import StratifiedKFold

    y = np.asarray(labels, dtype=int)
    dense = np.asarray(dense_rows, dtype=float).reshape(len(y), -1)
    mean, scale = dense.mean(axis=0), dense.std(axis=0)
    scale[scale < 1e-9] = 1.0
    minority = int(min(y.sum(), len(y) - y.sum()))
    if minority < 2:  # one class only: nothing to learn beyond the base rate
        rate = min(max(y.mean() if len(y) else 0.5, 1e-3), 1 - 1e-3)
        return LinearModel(math.log(rate / (1 - rate)), np.zeros(1 << HASH_BITS, np.float32), np.zeros(dense.shape[1]), mean, scale)
    cols = [i for row in sparse_rows for i in row]
    vals = [v for row in sparse_rows for v in row.values()]
    ptr = np.cumsum([0] + [len(row) for row in sparse_rows])
    # Fit on the hashed columns that occur only: liblinear's cost grows with the width it is given.
    used, compact = np.unique(np.asarray(cols, dtype=np.int64), return_inverse=True)
    hashed = csr_matrix((vals, compact.ravel(), ptr), shape=(len(y), len(used)))
    x = hstack([hashed, csr_matrix((dense - mean) / scale)]).tocsr()

    def fit(c, rows):
        return LogisticRegression(C=c, solver="liblinear", dual=True, max_iter=3000).fit(x[rows], y[rows])

    folds = list(StratifiedKFold(n_splits=min(5, minority), shuffle=True, random_state=seed).split(x, y))
    losses = {c: np.mean([log_loss(y[held], fit(c, kept).predict_proba(x[held])[:, 1], labels=[0, 1]) for kept, held in folds])
              for c in C_GRID}
    best_c = min(losses, key=losses.get)
    final = fit(best_c, np.arange(len(y)))
    weights = np.zeros(1 << HASH_BITS, dtype=np.float32)
    weights[used] = final.coef_[0][: len(used)]
    return LinearModel(float(final.intercept_[0]), weights, final.coef_[0][len(used) :], mean, scale, C=best_c)


class LearnedRouter:
    """Per tier below the top, P(its answer is right); start at the lowest tier trusted enough."""

    def __init__(self, tiers: Sequence[int], models: Sequence[LinearModel], threshold: float = 0.5):
        if len(models) != len(tiers) - 1:
            raise ValueError("one model per tier below the top is needed")
        self.tiers, self.models, self.threshold = list(tiers), list(models), threshold

    @classmethod
    def train(cls, prompts: Sequence[str], successes: Sequence[Sequence[bool | None]], tiers: Sequence[int],
              *, threshold: float = 0.5, seed: int = 0) -> "LearnedRouter":
        """``successes[j][k]``: did tier ``tiers[k]`` answer prompt j right (None: not known)."""
        sparse = [hashed_ngrams(p, "p") for p in prompts]
        dense = [prompt_dense(p) for p in prompts]
        models = []
        for k in range(len(tiers) - 1):
            known = [j for j, row in enumerate(successes) if row[k] is not None]
            if not known:
                raise InputError(f"no outcome is known for tier {tiers[k]}: no job ran there; train with fewer --tiers")
            models.append(fit_linear([sparse[j] for j in known], [dense[j] for j in known],
                                     [bool(successes[j][k]) for j in known], seed=seed))
        return cls(tiers, models, threshold)

    def success_probabilities(self, prompt: str) -> list[float]:
        sparse, dense = hashed_ngrams(prompt, "p"), prompt_dense(prompt)
        return [model.probability(sparse, dense) for model in self.models]

    def score(self, prompt: str) -> float:
        """P(the cheapest tier answers this prompt right)."""
        return self.success_probabilities(prompt)[0]

    def predict_tier(self, prompt: str) -> int:
        for tier, p in zip(self.tiers, self.success_probabilities(prompt)):
            if p >= self.threshold:
                return tier
        return self.tiers[-1]

    def save(self, path: Path | str) -> None:
        payload = {"format": FORMAT, "kind": "router", "tiers": self.tiers, "threshold": self.threshold,
                   "models": [m.to_json() for m in self.models]}
        Path(path).write_text(json.dumps(payload))

    @classmethod
    def load(cls, path: Path | str) -> "LearnedRouter":
        raw = read_artifact(path, "router")
        return cls(raw["tiers"], [LinearModel.from_json(m) for m in raw["models"]], float(raw["threshold"]))


def read_artifact(path: Path | str, kind: str) -> dict:
    """A saved model's JSON, checked to be the kind the caller expects."""
    try:
        raw = json.loads(Path(path).read_text())
    except (OSError, ValueError) as exc:
        how = "`ladder train-router`" if kind == "router" else "`ladder tune` (it saves the scorer beside its --out)"
        raise ConfigError(f"cannot load learned {kind} from {path}: {exc}. Train one with {how}.") from None
    if raw.get("format") != FORMAT or raw.get("kind") != kind:
        raise ConfigError(f"{path} is not a learned {kind} artifact (format {raw.get('format')!r}, kind {raw.get('kind')!r})")
    return raw
