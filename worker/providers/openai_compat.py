"""Any OpenAI-compatible endpoint (OpenAI, vLLM, Ollama, llama.cpp server).

Options (``tier.options``): ``base_url``; ``api_key_env``, the *name* of the
environment variable holding the key (the key itself never enters config,
ledger or logs); ``mode`` ``chat`` or ``completion`` (base models);
``logprobs`` (ask for token log-probabilities; an endpoint that does not
return them is a configuration error, raised on the first answer).

The ``openai`` package's exceptions are mapped here, at the boundary:
timeouts, connection errors, 429 and 5xx → ``TierUnavailable`` (with the
``Retry-After`` seconds when given); other 4xx → ``TierRejected``.
"""

from __future__ import annotations

import os
import time

from ladder.config import Tier
from ladder.errors import ConfigError, TierRejected, TierUnavailable
from worker.providers.base import Generation, Request


def _retry_after(exc) -> float | None:
    response = getattr(exc, "response", None)
    value = response.headers.get("retry-after") if response is not None else None
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


def translate_error(exc: Exception, tier_name: str) -> Exception:
    import openai

    if isinstance(exc, (openai.APITimeoutError, openai.APIConnectionError)):
        return TierUnavailable(f"tier {tier_name!r}: {type(exc).__name__}: endpoint unreachable or slow")
    if isinstance(exc, openai.APIStatusError):
        status = exc.status_code
        if status == 429 or status >= 500:
            return TierUnavailable(f"tier {tier_name!r}: HTTP {status}", retry_after=_retry_after(exc))
        return TierRejected(f"tier {tier_name!r}: HTTP {status}: {str(exc.message)[:200]}")
    return exc


class OpenAIProvider:
    name = "openai"

    def __init__(self, tier: Tier):
        import openai

        opts = tier.options
        self.tier = tier
        self.mode = opts.get("mode", "chat")
        if self.mode not in ("chat", "completion"):
            raise ConfigError(f"tier {tier.name!r}: options.mode must be 'chat' or 'completion', not {self.mode!r}")
        self.want_logprobs = bool(opts.get("logprobs", True))
        key_env = opts.get("api_key_env", "OPENAI_API_KEY")
        api_key = os.environ.get(key_env) or ("not-needed" if opts.get("base_url") else None)
        if not api_key:
            raise ConfigError(f"tier {tier.name!r}: environment variable {key_env} (options.api_key_env) holds no API key")
        # Ladder does its own retries (with the ledger recording each try), so the client makes one.
        self.client = openai.OpenAI(base_url=opts.get("base_url"), api_key=api_key, timeout=tier.timeout_s, max_retries=0)

    def generate(self, request: Request) -> Generation:
        import openai

        started = time.perf_counter()
        try:
            if self.mode == "chat":
                response = self.client.chat.completions.create(
                    model=self.tier.model,
                    messages=[{"role": "user", "content": request.prompt}],
                    max_tokens=request.max_tokens,
                    temperature=0,
                    # llama.cpp's server (and some others) return logprobs only when top_logprobs is given.
                    logprobs=self.want_logprobs or None,
                    top_logprobs=1 if self.want_logprobs else None,
                )
                choice = response.choices[0]
                text = choice.message.content or ""
                content = choice.logprobs.content if choice.logprobs else None
                logprobs = [t.logprob for t in content] if content else None
            else:
                response = self.client.completions.create(
                    model=self.tier.model,
                    prompt=self.tier.options.get("template", "Question: {prompt}\nAnswer:").format(prompt=request.prompt),
                    max_tokens=request.max_tokens,
                    temperature=0,
                    logprobs=1 if self.want_logprobs else None,
                    stop=self.tier.options.get("stop", ["\n\n"]),
                )
                choice = response.choices[0]
                text = choice.text or ""
                logprobs = [lp for lp in (choice.logprobs.token_logprobs or []) if lp is not None] if choice.logprobs else None
        except openai.OpenAIError as exc:
            raise translate_error(exc, self.tier.name) from None
        if self.want_logprobs and logprobs is None and text.strip():
            raise ConfigError(
                f"tier {self.tier.name!r}: the endpoint returned no logprobs; set options.logprobs: false "
                "and rely on validators, or use an endpoint that returns them"
            )
        usage = response.usage
        return Generation(
            text=text.strip(),
            prompt_tokens=usage.prompt_tokens if usage else 0,
            completion_tokens=usage.completion_tokens if usage else 0,
            compute_seconds=time.perf_counter() - started,
            model=response.model or self.tier.model,
            token_logprobs=logprobs,
        )

    def close(self) -> None:
        self.client.close()
