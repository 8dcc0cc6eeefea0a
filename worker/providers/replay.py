"""The replay provider: answers from a recorded-outcomes file (``data/routellm`` layout).

The whole pipeline can then run a realistic workload at any scale without a
paid API. ``tier.options``: ``file`` (the CSV) and ``model`` (its column;
default ``tier.model``). A request is found by its prompt text, or else by a
``custom_id`` that is a row number (0-based). The answer is the recorded
response ("" for a query-only file) with ``extra["correct"]`` the recorded
correctness, so confidence is scored exactly as for a live answer.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from ladder.config import Tier
from ladder.errors import ConfigError, InputError, TierRejected
from ladder.offline.outcomes import estimate_tokens, iter_rows
from worker.providers.base import Generation, Request


@dataclass(frozen=True)
class _Recorded:
    prompt: str
    response: str
    correct: bool


@dataclass(frozen=True)
class _Recording:
    rows: list[_Recorded]
    by_prompt: dict[str, int]


@lru_cache(maxsize=8)
def _recording(path: str, model: str, mtime: float) -> _Recording:
    """One model's column of a file, read once per process (re-read if the file changes)."""
    rows = [_Recorded(r.prompt, r.responses.get(model, ""), r.correct[model]) for r in iter_rows(path, [model])]
    # The first occurrence wins when a prompt is recorded twice.
    by_prompt: dict[str, int] = {}
    for index, row in enumerate(rows):
        by_prompt.setdefault(row.prompt, index)
    return _Recording(rows, by_prompt)


class ReplayProvider:
    name = "replay"

    def __init__(self, tier: Tier):
        file = tier.options.get("file")
        if not file:
            raise ConfigError(f"tier {tier.name!r}: the replay provider needs options.file (a recorded-outcomes CSV)")
        self.model = str(tier.options.get("model", tier.model))
        path = Path(file)
        try:
            self._recording = _recording(str(path), self.model, path.stat().st_mtime)
        except OSError as exc:
            raise ConfigError(f"tier {tier.name!r}: cannot read options.file {path}: {exc.strerror}") from None
        except InputError as exc:
            raise ConfigError(f"tier {tier.name!r}: {exc}") from None

    def _find(self, request: Request) -> _Recorded:
        index = self._recording.by_prompt.get(request.prompt)
        if index is None and request.custom_id is not None and request.custom_id.isdigit():
            index = int(request.custom_id) if int(request.custom_id) < len(self._recording.rows) else None
        if index is None:
            raise TierRejected(f"replay: no recorded answer of {self.model!r} for this prompt (custom_id "
                               f"{request.custom_id!r}); submit prompts from the same file, or a row number as custom_id")
        return self._recording.rows[index]

    def generate(self, request: Request) -> Generation:
        started = time.perf_counter()
        row = self._find(request)
        return Generation(
            text=row.response,
            prompt_tokens=estimate_tokens(request.prompt),
            completion_tokens=estimate_tokens(row.response),
            compute_seconds=time.perf_counter() - started,
            model=self.model,
            extra={"correct": row.correct},
        )

    def close(self) -> None:
        """Nothing to release: the recording is shared by the process's replay tiers."""
