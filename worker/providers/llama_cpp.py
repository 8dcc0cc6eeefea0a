"""A local GGUF model inside the worker process, through llama-cpp-python.

Confidence needs each generated token's log-probability. llama-cpp-python's
own ``logprobs`` option demands ``logits_all=True``, which computes logits for
every *prompt* token too and cut throughput about threefold here. Instead we
drive ``Llama.generate`` ourselves with ``logits_all=False`` and read, after
each sampled token, the logits row that produced it
(``llama_get_logits_ith(ctx, -1)``): one log-softmax per generated token.

Options (``tier.options``): ``model_path`` (relative to the models dir),
``n_ctx``, ``n_threads``, ``prompt_style`` (``chat`` uses the model's own chat
template; ``completion`` fills ``template``, for base models), ``stop``.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from ladder.config import Tier
from ladder.errors import ConfigError, TierRejected
from ladder.settings import get_settings
from worker.providers.base import Generation, Request

DEFAULT_COMPLETION_TEMPLATE = "Question: {prompt}\nAnswer:"


def resolve_model_path(raw: str | None, tier_name: str) -> Path:
    if not raw:
        raise ConfigError(f"tier {tier_name!r}: options.model_path is required for the llama_cpp provider")
    path = Path(raw).expanduser()
    if not path.is_absolute():
        path = get_settings().models_dir / path
    if not path.is_file():
        raise ConfigError(
            f"tier {tier_name!r}: model file {path} not found. Fetch the bundled models with "
            "`make models` (or `python -m ladder.stack.models`), or fix options.model_path."
        )
    return path


class LlamaCppProvider:
    name = "llama_cpp"

    def __init__(self, tier: Tier):
        from llama_cpp import Llama

        opts = tier.options
        self.tier = tier
        self.path = resolve_model_path(opts.get("model_path"), tier.name)
        self.style = opts.get("prompt_style", "chat")
        self.template = opts.get("template", DEFAULT_COMPLETION_TEMPLATE)
        self.stop = list(opts.get("stop", ["\n\n"] if self.style == "completion" else []))
        self.llm = Llama(
            model_path=str(self.path),
            n_ctx=int(opts.get("n_ctx", 2048)),
            n_threads=int(opts.get("n_threads", 1)),
            n_batch=int(opts.get("n_batch", 512)),
            logits_all=False,
            verbose=False,
            seed=int(opts.get("seed", 0)),
        )
        self._n_vocab = self.llm.n_vocab()
        self._eos = self.llm.token_eos()
        self._formatter = self._chat_formatter() if self.style == "chat" else None

    def _chat_formatter(self):
        from llama_cpp.llama_chat_format import Jinja2ChatFormatter

        meta = self.llm.metadata
        template = meta.get("tokenizer.chat_template")
        if not template:
            raise ConfigError(f"tier {self.tier.name!r}: {self.path.name} has no chat template; use prompt_style: completion")

        def token_text(key: str) -> str:
            token_id = meta.get(key)
            return self.llm.detokenize([int(token_id)], special=True).decode("utf-8", "ignore") if token_id else ""

        return Jinja2ChatFormatter(template, token_text("tokenizer.ggml.eos_token_id"), token_text("tokenizer.ggml.bos_token_id"))

    def render(self, prompt: str) -> str:
        if self._formatter is None:
            return self.template.format(prompt=prompt)
        return self._formatter(messages=[{"role": "user", "content": prompt}]).prompt

    def generate(self, request: Request) -> Generation:
        import llama_cpp

        started = time.perf_counter()
        tokens = self.llm.tokenize(self.render(request.prompt).encode("utf-8"), add_bos=True, special=True)
        room = self.llm.n_ctx() - len(tokens)
        if room <= 0:
            raise TierRejected(f"prompt is {len(tokens)} tokens; the context window is {self.llm.n_ctx()}", tier=None)
        budget = min(request.max_tokens, room)
        out_ids: list[int] = []
        logprobs: list[float] = []
        text = ""
        for token in self.llm.generate(tokens, temp=0.0, top_k=1, repeat_penalty=1.0, reset=True):
            if token == self._eos or llama_cpp.llama_token_is_eog(self.llm._model.vocab, token):
                break
            row = np.ctypeslib.as_array(llama_cpp.llama_get_logits_ith(self.llm._ctx.ctx, -1), shape=(self._n_vocab,))
            peak = row.max()
            logprobs.append(float(row[token] - peak - np.log(np.exp(row - peak).sum())))
            out_ids.append(token)
            if self.stop:
                text = self.llm.detokenize(out_ids).decode("utf-8", "ignore")
                cut = min((text.find(s) for s in self.stop if s in text), default=-1)
                if cut >= 0:
                    text = text[:cut]
                    break
            if len(out_ids) >= budget:
                break
        if not self.stop:
            text = self.llm.detokenize(out_ids).decode("utf-8", "ignore")
        return Generation(
            text=text.strip(),
            prompt_tokens=len(tokens),
            completion_tokens=len(out_ids),
            compute_seconds=time.perf_counter() - started,
            model=self.tier.model,
            token_logprobs=logprobs,
        )

    def close(self) -> None:
        self.llm.close()
