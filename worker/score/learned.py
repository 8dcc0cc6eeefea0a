"""A learned confidence scorer (FrugalGPT-style): P(answer is right | prompt, answer).

For providers that give no log-probabilities, and as a second opinion beside
them. The features are what a careful reader checks, none tied to one data
set: does the answer end with a clear final result, is its arithmetic
right, does it reuse the prompt's numbers or merely repeat one as the
result, does it hedge or repeat itself, was it cut off, how long is it
against the prompt; plus hashed n-grams of the answer and of the prompt.
The model and artifact format are the learned router's (``LinearModel``).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Sequence
from pathlib import Path

from worker.route.learned import (
    FORMAT,
    NUMBER,
    LinearModel,
    fit_linear,
    hashed_ngrams,
    parse_number,
    prompt_dense,
    read_artifact,
)

_FINAL_MARKER = re.compile(r"(####|\\boxed\{|answer\s*(?:is|:)|therefore|so the|in total|total of)", re.I)
_HEDGES = re.compile(
    r"\b(approximately|assum\w*|not sure|unclear|cannot|can't|however|wait|mistake|actually|incorrect|"
    r"sorry|maybe|perhaps|might|estimate|round\w*|unfortunately|impossible|not possible|ambiguous)\b",
    re.I,
)
_NUM = r"-?\d[\d,]*(?:\.\d+)?"
# "12 * 3 = 36", "(5 + 7) / 2 = 6": a computation the answer states and a reader can check.
_EQUATION = re.compile(rf"((?:[(]\s*)*{_NUM}(?:\s*[)]*\s*[-+*/x×]\s*[(]*\s*{_NUM}\s*[)]*)+)\s*=\s*\$?\s*({_NUM})")
_SAFE_EXPR = re.compile(r"^[\d\s.+\-*/()]+$")


def _checked_equations(answer: str) -> tuple[int, int]:
    """(equations found, equations whose arithmetic holds)."""
    found = right = 0
    for left, result in _EQUATION.findall(answer):
        expression = left.replace(",", "").replace("x", "*").replace("×", "*")
        if not _SAFE_EXPR.match(expression):
            continue
        try:
            value = eval(expression, {"__builtins__": {}}, {})  # digits and + - * / ( ) only, checked above
        except (SyntaxError, ZeroDivisionError, OverflowError):
            continue
        found += 1
        expected = parse_number(result)
        right += expected is not None and math.isclose(value, expected, rel_tol=1e-3, abs_tol=0.01)
    return found, right


def answer_dense(prompt: str, answer: str) -> list[float]:
    text = answer.strip()
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    last_line = lines[-1] if lines else ""
    numbers = NUMBER.findall(text)
    final = parse_number(numbers[-1]) if numbers else None
    prompt_numbers = {parse_number(t) for t in NUMBER.findall(prompt)} - {None}
    answer_numbers = {parse_number(t) for t in numbers} - {None}
    equations, right = _checked_equations(text)
    return [
        math.log1p(len(text)),
        math.log1p(len(lines)),
        math.log(1 + len(text)) - math.log(1 + len(prompt)),
        float(not text),
        float(bool(_FINAL_MARKER.search(last_line))),
        float(bool(NUMBER.search(last_line))),
        float(final is not None and final in prompt_numbers),
        float(final is not None and final != int(final)),
        float(final is not None and final < 0),
        len(prompt_numbers & answer_numbers) / max(1, len(prompt_numbers)),
        math.log1p(len(answer_numbers - prompt_numbers)),
        math.log1p(len(_HEDGES.findall(text))),
        1.0 - len(set(lines)) / max(1, len(lines)),
        float(bool(text) and text[-1] not in ".!?)\"'`*]}" and not text[-1].isdigit()),
        math.log1p(equations),
        (right / equations) if equations else 1.0,
        float(equations - right > 0),
    ]


def _features(prompt: str, answer: str) -> tuple[dict[int, float], list[float]]:
    # Word n-grams only: the answer's wording carries the signal; its char n-grams cost
    # training time for no measured gain, and the prompt's difficulty is in prompt_dense.
    return hashed_ngrams(answer, "a", chars=False), answer_dense(prompt, answer) + prompt_dense(prompt)


class LearnedScorer:
    def __init__(self, model: LinearModel):
        self.model = model

    @classmethod
    def train(cls, prompts: Sequence[str], answers: Sequence[str], correct: Sequence[bool], *, seed: int = 0) -> "LearnedScorer":
        rows = [_features(p, a) for p, a in zip(prompts, answers)]
        return cls(fit_linear([s for s, _ in rows], [d for _, d in rows], correct, seed=seed))

    def score(self, prompt: str, answer: str) -> float:
        """Probability that ``answer`` is a right answer to ``prompt``."""
        return self.model.probability(*_features(prompt, answer))

    def save(self, path: Path | str) -> None:
        Path(path).write_text(json.dumps({"format": FORMAT, "kind": "scorer", "model": self.model.to_json()}))

    @classmethod
    def load(cls, path: Path | str) -> "LearnedScorer":
        return cls(LinearModel.from_json(read_artifact(path, "scorer")["model"]))
