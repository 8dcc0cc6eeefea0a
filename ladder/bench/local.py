"""``ladder bench local``: a tier-1 worker's tokens/s with confidence against plain llama-cpp-python.

Both sides use one ``Llama`` (the provider's own: same model, threads, context
and batch size), the same rendered prompts, greedy sampling and the same token
budget, so they generate the same tokens. "Plain" is the ``Llama.generate``
loop with nothing added; "Ladder" is ``LlamaCppProvider.generate``, which also
reads each token's logits row for its log-probability. The two alternate
prompt by prompt (and swap who goes first) so that other load on the machine
falls on both alike. A third run, on its own ``Llama(logits_all=True)``, shows
what llama-cpp-python's built-in ``logprobs`` would cost.

Every request starts from an empty KV cache, on both sides, so that neither
finds the other's prompt evaluated. (A worker does better: ``generate`` keeps
the longest common prefix, the chat template's system prompt, between jobs.)
Prompt and generation throughput come from llama.cpp's own counters
(``llama_perf_context``), each over its own C-side time.
"""

from __future__ import annotations

import time
from pathlib import Path

from ladder.bench.measure import growth

MAX_TOKENS = 48
PROMPTS = (
    "What is the capital of France?",
    "Give one tip for keeping a houseplant alive.",
    "Write a one-line product description for a steel water bottle.",
    "What does HTTP stand for?",
    "Name three primary colours.",
    "Summarise in one sentence: the meeting moved to Tuesday because the room was booked.",
    "Translate 'good morning' into Spanish.",
    "What is 12 times 11?",
    "Suggest a name for a bakery.",
    "Why is the sky blue? Answer briefly.",
)
SMOLLM2 = "SmolLM2-135M-Instruct.Q4_1.gguf"


class _Counters:
    """Sums of wall time, tokens and llama.cpp's prompt / generation timers over many requests."""

    def __init__(self) -> None:
        self.seconds = self.prompt_ms = self.eval_ms = 0.0
        self.prompt_tokens = self.prompt_evaluated = self.completion_tokens = self.evaluated = 0

    def add(self, llm, seconds: float, prompt_tokens: int, completion_tokens: int) -> None:
        import llama_cpp

        perf = llama_cpp.llama_perf_context(llm._ctx.ctx)
        self.seconds += seconds
        self.prompt_ms += perf.t_p_eval_ms
        self.eval_ms += perf.t_eval_ms
        self.prompt_evaluated += perf.n_p_eval
        self.evaluated += perf.n_eval
        self.prompt_tokens += prompt_tokens
        self.completion_tokens += completion_tokens

    def as_dict(self) -> dict:
        return {
            "seconds": self.seconds,
            "completion_tokens": self.completion_tokens,
            "prompt_tokens": self.prompt_tokens,
            "prompt_tokens_evaluated": self.prompt_evaluated,
            "generation_tokens_per_s": self.completion_tokens / self.seconds if self.seconds else 0.0,
            "prompt_tokens_per_s": self.prompt_evaluated / (self.prompt_ms / 1000) if self.prompt_ms else 0.0,
            "decode_tokens_per_s": self.evaluated / (self.eval_ms / 1000) if self.eval_ms else 0.0,
        }


def _reset_perf(llm) -> None:
    import llama_cpp

    llama_cpp.llama_perf_context_reset(llm._ctx.ctx)


def plain_generate(provider, prompt: str, max_tokens: int) -> tuple[int, int]:
    """The provider's loop without the log-probabilities: (prompt tokens, generated tokens)."""
    import llama_cpp

    llm = provider.llm
    tokens = llm.tokenize(provider.render(prompt).encode("utf-8"), add_bos=True, special=True)
    out: list[int] = []
    for token in llm.generate(tokens, temp=0.0, top_k=1, repeat_penalty=1.0, reset=True):
        if token == provider._eos or llama_cpp.llama_token_is_eog(llm._model.vocab, token):
            break
        out.append(token)
        if len(out) >= max_tokens:
            break
    llm.detokenize(out)
    return len(tokens), len(out)


def _timed(counters: _Counters, llm, call) -> None:
    # Empty the KV cache first: the side that ran second would otherwise find the prompt already evaluated.
    llm.reset()
    _reset_perf(llm)
    started = time.perf_counter()
    prompt_tokens, completion_tokens = call()
    counters.add(llm, time.perf_counter() - started, prompt_tokens, completion_tokens)


def compare(provider, prompts: list[str], max_tokens: int = MAX_TOKENS) -> dict:
    from worker.providers.base import Request

    plain, ladder = _Counters(), _Counters()

    def run_ladder(prompt: str) -> tuple[int, int]:
        generation = provider.generate(Request(prompt=prompt, max_tokens=max_tokens))
        return generation.prompt_tokens, generation.completion_tokens

    for number, prompt in enumerate(prompts):
        sides = [(plain, lambda: plain_generate(provider, prompt, max_tokens)), (ladder, lambda: run_ladder(prompt))]
        for counters, call in sides if number % 2 == 0 else reversed(sides):
            _timed(counters, provider.llm, call)
    plain_result, ladder_result = plain.as_dict(), ladder.as_dict()
    return {"prompts": len(prompts), "plain": plain_result, "ladder": ladder_result,
            "seconds": plain_result["seconds"] + ladder_result["seconds"],
            "ratio": ladder_result["generation_tokens_per_s"] / plain_result["generation_tokens_per_s"]}


def logits_all_run(model_path: Path, provider, prompts: list[str], threads: int, max_tokens: int = MAX_TOKENS) -> dict:
    """llama-cpp-python's own per-token logprobs, which need ``logits_all=True``."""
    from llama_cpp import Llama

    llm = Llama(model_path=str(model_path), n_ctx=provider.llm.n_ctx(), n_threads=threads, n_batch=512,
                logits_all=True, verbose=False, seed=0)
    counters = _Counters()
    try:
        for prompt in prompts:
            def call() -> tuple[int, int]:
                out = llm.create_completion(provider.render(prompt), max_tokens=max_tokens, temperature=0.0, top_k=1,
                                            repeat_penalty=1.0, logprobs=1)
                return out["usage"]["prompt_tokens"], out["usage"]["completion_tokens"]

            _timed(counters, llm, call)
    finally:
        llm.close()
    return counters.as_dict()


def run_local(prompts: int = 4, scales: tuple[int, ...] = (1, 4, 16), threads: int = 1,
              model_path: Path | None = None) -> dict:
    from ladder.config import Tier
    from ladder.settings import get_settings
    from worker.providers.llama_cpp import LlamaCppProvider

    path = Path(model_path or get_settings().models_dir / SMOLLM2).resolve()
    tier = Tier(name="tiny", provider="llama_cpp", model="smollm2-135m-instruct-q4_1",
                options={"model_path": str(path), "n_ctx": 2048, "n_threads": threads, "prompt_style": "chat"})
    provider = LlamaCppProvider(tier)
    try:
        base = [PROMPTS[i % len(PROMPTS)] for i in range(prompts)]
        compare(provider, base[:2])  # warm-up: weights paged in, template prefix in the KV cache
        runs = [{"scale": scale, **compare(provider, base * scale)} for scale in scales]
        with_logits_all = logits_all_run(path, provider, base, threads)
    finally:
        provider.close()
    largest = runs[-1]  # the most prompts: the steadiest figures
    return {
        "benchmark": "local",
        "model": path.name,
        "prompts": largest["prompts"],
        "threads": threads,
        "max_tokens": MAX_TOKENS,
        "plain": largest["plain"],
        "ladder": largest["ladder"],
        "logits_all": with_logits_all,
        "ratio": largest["ratio"],
        "target_ratio": 0.9,
        "logits_all_ratio": with_logits_all["generation_tokens_per_s"] / largest["plain"]["generation_tokens_per_s"],
        "runs": runs,
        "growth": growth([{"scale": r["scale"], "prompts": r["prompts"], "seconds": r["ladder"]["seconds"]} for r in runs],
                         "seconds", "prompts"),
    }
