"""Fuse the members' answers into one, with their agreement as its confidence.

Short answers (a label, a number, a name: ``SHORT_ANSWER_WORDS`` words or
fewer once normalised) are a majority vote on the normalised text. Long
answers never match word for word: every pair is compared (token F1, or the
judge when one is given, as the audits do) and the answer that most others
agree with wins. Agreement is the share of members that back the winner.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from worker.audit.agreement import SHORT_ANSWER_WORDS, Judge, compare_answers, normalise


@dataclass(frozen=True)
class Verdict:
    chosen: int  # index into the answers
    agreement: float  # 0..1
    method: str  # "vote" | "token_f1" | "judge"


def is_short(answers: list[str]) -> bool:
    return all(len(normalise(a).split()) <= SHORT_ANSWER_WORDS for a in answers)


def fuse(answers: list[str], judge: Judge | None = None) -> Verdict:
    if not answers:
        raise ValueError("fuse needs at least one answer")
    if is_short(answers):
        votes = Counter(normalise(a) for a in answers)
        winner, count = votes.most_common(1)[0]
        chosen = next(i for i, a in enumerate(answers) if normalise(a) == winner)
        return Verdict(chosen, count / len(answers), "vote")
    backing = [1] * len(answers)  # every answer backs itself
    method = "token_f1"
    for i in range(len(answers)):
        for j in range(i + 1, len(answers)):
            verdict = compare_answers(answers[i], answers[j], judge)
            method = verdict.method if verdict.method == "judge" else method
            if verdict.agree:
                backing[i] += 1
                backing[j] += 1
    chosen = max(range(len(answers)), key=lambda i: backing[i])
    return Verdict(chosen, backing[chosen] / len(answers), method)
