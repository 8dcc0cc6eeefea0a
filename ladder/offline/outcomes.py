"""Recorded outcomes: a CSV with a ``prompt`` column, one ``True``/``False``
column per model and, optionally, a ``<model>_response`` column per model.

Rows are read with the csv module one at a time (:func:`iter_rows`), so a
caller that only needs to look rows up never holds the text twice. A bad file
raises :class:`InputError` naming the line and what to fix.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ladder.errors import InputError

PROMPT_COLUMN = "prompt"
RESPONSE_SUFFIX = "_response"
# OpenAI's rule of thumb for English text: about 4 characters per token. Used
# wherever Ladder has text but no tokenizer (tiktoken is not a dependency).
CHARS_PER_TOKEN = 4
_TRUE = {"true", "1", "yes"}
_FALSE = {"false", "0", "no"}


def estimate_tokens(text: str) -> int:
    """Token count of ``text`` by the chars-per-token rule (0 for no text)."""
    return math.ceil(len(text) / CHARS_PER_TOKEN)


@dataclass(frozen=True)
class Row:
    index: int
    prompt: str
    correct: dict[str, bool]
    responses: dict[str, str]  # empty for a query-only file


@dataclass(frozen=True)
class Outcomes:
    """Rows of one file for the chosen models, cheapest first."""

    prompts: list[str]
    models: list[str]
    correct: np.ndarray  # bool, (n prompts, n models)
    responses: dict[str, list[str]] | None  # model -> texts; None: a query-only file

    def __len__(self) -> int:
        return len(self.prompts)

    def has_responses(self, models: Sequence[str]) -> bool:
        return self.responses is not None and all(m in self.responses for m in models)

    def accuracy(self) -> dict[str, float]:
        return {model: float(self.correct[:, i].mean()) for i, model in enumerate(self.models)}

    def take(self, indices: Sequence[int] | np.ndarray) -> "Outcomes":
        indices = [int(i) for i in indices]
        responses = None
        if self.responses is not None:
            responses = {m: [texts[i] for i in indices] for m, texts in self.responses.items()}
        return Outcomes([self.prompts[i] for i in indices], self.models, self.correct[indices], responses)

    def split(self, train_fraction: float, seed: int) -> tuple["Outcomes", "Outcomes"]:
        """A seeded random split into (train, test)."""
        if not 0.0 < train_fraction < 1.0:
            raise InputError(f"--train-fraction must be between 0 and 1 (exclusive), got {train_fraction}")
        order = np.random.default_rng(seed).permutation(len(self))
        cut = int(round(train_fraction * len(self)))
        if cut == 0 or cut == len(self):
            raise InputError(f"{len(self)} rows cannot be split {train_fraction:.2f}/{1 - train_fraction:.2f}: use more rows")
        return self.take(np.sort(order[:cut])), self.take(np.sort(order[cut:]))


def model_columns(header: Sequence[str]) -> list[str]:
    """The model columns of a header: every column but the prompt and the responses."""
    return [c for c in header if c != PROMPT_COLUMN and not c.endswith(RESPONSE_SUFFIX)]


def _parse_bool(value: str, column: str, line: int, path: Path) -> bool:
    word = value.strip().lower()
    if word in _TRUE:
        return True
    if word in _FALSE:
        return False
    raise InputError(f"{path}:{line}: column {column!r} holds {value!r}; model columns must be True or False")


def iter_rows(path: Path | str, models: Sequence[str] | None = None) -> Iterator[Row]:
    """Yield the file's rows one by one, validated, for ``models`` (default: all)."""
    path = Path(path)
    # Recorded answers can be long; the csv module's default 128 KiB field cap is not.
    csv.field_size_limit(max(csv.field_size_limit(), 2**31 - 1))
    try:
        handle = path.open(newline="", encoding="utf-8")
    except OSError as exc:
        raise InputError(f"cannot read outcomes file {path}: {exc.strerror}") from None
    with handle:
        reader = csv.DictReader(handle)
        header = reader.fieldnames or []
        if PROMPT_COLUMN not in header:
            raise InputError(f"{path}: no {PROMPT_COLUMN!r} column; a recorded-outcomes CSV needs "
                             f"'prompt', one True/False column per model and optional '<model>_response' columns")
        available = model_columns(header)
        chosen = list(models) if models else available
        missing = [m for m in chosen if m not in available]
        if missing or not chosen:
            raise InputError(f"{path}: model column(s) {', '.join(missing) or '(none)'} not found; "
                             f"the file has: {', '.join(available) or 'no model columns'}")
        with_text = [m for m in chosen if m + RESPONSE_SUFFIX in header]
        try:
            for index, record in enumerate(reader):
                line = reader.line_num
                if None in record or any(record.get(c) is None for c in header):
                    raise InputError(f"{path}:{line}: expected {len(header)} fields; is the row's quoting broken?")
                yield Row(
                    index=index,
                    prompt=record[PROMPT_COLUMN],
                    correct={m: _parse_bool(record[m], m, line, path) for m in chosen},
                    responses={m: record[m + RESPONSE_SUFFIX] for m in with_text},
                )
        except (csv.Error, UnicodeDecodeError) as exc:
            raise InputError(f"{path}: not a readable UTF-8 CSV ({exc})") from None


def read_outcomes(path: Path | str, models: Sequence[str] | None = None) -> Outcomes:
    """Read a whole file into arrays, with the response texts of the models that have them."""
    prompts: list[str] = []
    flags: list[list[bool]] = []
    texts: dict[str, list[str]] = {}
    chosen: list[str] = []
    for row in iter_rows(path, models):
        chosen = chosen or list(row.correct)
        prompts.append(row.prompt)
        flags.append([row.correct[m] for m in chosen])
        for model, text in row.responses.items():
            texts.setdefault(model, []).append(text)
    if not prompts:
        raise InputError(f"{path}: no rows; a recorded-outcomes file needs at least one prompt")
    return Outcomes(prompts, chosen, np.array(flags, dtype=bool), texts or None)


@dataclass(frozen=True)
class LedgerHistory:
    """What the live ledger says about each finished job, per tier: right (True), wrong (False), unknown (None)."""

    prompts: list[str]
    successes: list[list[bool | None]]
    tiers: list[int]


def ledger_history(engine, tiers: Sequence[int] | None = None) -> LedgerHistory:
    """Labels from accepted / escalated attempts: a job's label is the lowest tier that was accepted.

    Tiers at and above that one count as succeeding, tiers that escalated as
    failing; tiers the job never visited (below its start) stay unknown.
    """
    from sqlalchemy import select

    from ladder.ledger.schema import Outcome, attempts, jobs

    query = (
        select(jobs.c.id, jobs.c.prompt, attempts.c.tier, attempts.c.outcome)
        .join(attempts, attempts.c.job_id == jobs.c.id)
        .where(attempts.c.outcome.in_([Outcome.ACCEPTED.value, Outcome.ESCALATED.value]))
        .order_by(jobs.c.id)
    )
    visits: dict[int, tuple[str, dict[int, str]]] = {}
    with engine.connect() as conn:
        for job_id, prompt, tier, outcome in conn.execute(query):
            visits.setdefault(job_id, (prompt, {}))[1][tier] = outcome
    if not visits:
        raise InputError("the ledger has no accepted or escalated attempts yet: run a batch first, or train from a file")
    tiers = list(tiers or range(1, max(t for _, seen in visits.values() for t in seen) + 1))
    prompts, successes = [], []
    for prompt, seen in visits.values():
        accepted = min((t for t, o in seen.items() if o == Outcome.ACCEPTED.value), default=None)
        labels = [True if accepted is not None and t >= accepted else (False if t in seen else None) for t in tiers]
        prompts.append(prompt)
        successes.append(labels)
    return LedgerHistory(prompts, successes, tiers)
