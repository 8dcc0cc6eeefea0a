"""Does an accepted answer agree with the audit tier's answer?

Both answers are normalised first (Unicode NFKC, case folded, punctuation
and the articles a/an/the dropped, whitespace collapsed), so "Paris." and
"paris" are the same answer.

- Short answers (both at most ``SHORT_ANSWER_WORDS`` words after
  normalising: a label, a number, a name, a yes/no) must match exactly; a
  number matches the same number written differently ("42" and "42.0").
- Long answers (descriptions, summaries) never match word for word. By
  default they are compared by token F1, the harmonic mean of word-overlap
  precision and recall (the SQuAD measure), and agree at
  ``SIMILAR_ENOUGH`` or more. With ``audit.judge`` on, the audit tier is
  asked instead whether the two answers say the same thing; when its reply
  is neither yes nor no, token F1 decides.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

SHORT_ANSWER_WORDS = 8
SIMILAR_ENOUGH = 0.6
_ARTICLES = {"a", "an", "the"}

# (accepted answer, audit answer) -> 1.0 same, 0.0 different, None no verdict
Judge = Callable[[str, str], "float | None"]


@dataclass(frozen=True)
class Agreement:
    agree: bool
    score: float  # 0..1: 1.0/0.0 for exact and judge verdicts, the F1 for similarity
    method: str  # "exact" | "token_f1" | "judge"


def normalise(text: str) -> str:
    folded = unicodedata.normalize("NFKC", text).casefold()
    # Keep a decimal point between digits so that "3.5" stays one number.
    kept = "".join(ch if ch.isalnum() or ch.isspace() or ch == "." else " "
                   for ch in folded if not unicodedata.category(ch).startswith("M"))
    kept = re.sub(r"(?<!\d)\.|\.(?!\d)", " ", kept)
    return " ".join(word for word in kept.split() if word not in _ARTICLES)


def _same_number(a: str, b: str) -> bool:
    try:
        return float(a) == float(b)
    except ValueError:
        return False


def token_f1(a: str, b: str) -> float:
    """Word-overlap F1 of two normalised texts."""
    left, right = a.split(), b.split()
    if not left or not right:
        return float(left == right)
    common = sum((Counter(left) & Counter(right)).values())
    if common == 0:
        return 0.0
    precision, recall = common / len(left), common / len(right)
    return 2 * precision * recall / (precision + recall)


def compare_answers(accepted: str, audit: str, judge: Judge | None = None) -> Agreement:
    a, b = normalise(accepted), normalise(audit)
    if max(len(a.split()), len(b.split())) <= SHORT_ANSWER_WORDS:
        same = a == b or _same_number(a, b)
        return Agreement(same, float(same), "exact")
    if judge is not None:
        verdict = judge(accepted, audit)
        if verdict is not None:
            return Agreement(verdict >= 0.5, verdict, "judge")
    score = token_f1(a, b)
    return Agreement(score >= SIMILAR_ENOUGH, score, "token_f1")
