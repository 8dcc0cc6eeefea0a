"""The loopback OpenAI-compatible model servers of the config's ``model_servers``.

Each is llama-cpp-python's own server (``python -m llama_cpp.server``) on one
GGUF file. Tiers reach it through the ``openai`` client exactly as they would
reach a hosted provider; nothing in the tier code knows the server is local.
``--logits_all true`` is what makes the server return per-token logprobs.
"""

from __future__ import annotations

import json
import sys
import time
import urllib.error
import urllib.request
from importlib.util import find_spec
from pathlib import Path

from ladder.config import LadderConfig, ModelServer
from ladder.errors import ConfigError
from ladder.stack.ports import require_free
from ladder.stack.supervisor import Child, Supervisor


def server_command(server: ModelServer, models_dir: Path, alias: str | None = None) -> list[str]:
    model = server.model_path if server.model_path.is_absolute() else Path(models_dir) / server.model_path
    if not model.is_file():
        raise ConfigError(f"model server {server.name!r}: no model file at {model}; run `python -m ladder.stack.models`")
    command = [sys.executable, "-m", "llama_cpp.server", "--model", str(model.resolve()),
               "--host", server.host, "--port", str(server.port), "--logits_all", str(server.logits_all).lower(),
               "--n_ctx", str(server.n_ctx), "--n_threads", str(server.n_threads)]
    return command + (["--model_alias", alias] if alias else [])


def served_model_name(config: LadderConfig, server: ModelServer) -> str | None:
    """The model name the tier that uses this server asks for, so ``/v1/models`` agrees with it."""
    for tier in config.tiers:
        if tier.name == server.name:
            return tier.model
    return None


def require_llama_cpp_server() -> None:
    missing = [name for name in ("llama_cpp", "uvicorn", "sse_starlette", "starlette_context") if find_spec(name) is None]
    if missing:
        raise ConfigError(
            f"the model servers need llama-cpp-python[server] (missing: {', '.join(missing)}). It builds from source: "
            f"install a C/C++ compiler and cmake (`apt-get install build-essential cmake`), then "
            f"`pip install 'llama-cpp-python[server]'` (the project's install sets portable CMAKE_ARGS)."
        )


def start_model_servers(config: LadderConfig, models_dir: Path, supervisor: Supervisor,
                        env: dict[str, str], timeout: float = 120.0) -> list[Child]:
    if config.model_servers:
        require_llama_cpp_server()
    for server in config.model_servers:
        require_free(server.port, f"the model server {server.name!r}", server.host)
    started = [
        supervisor.spawn(f"model-server-{server.name}",
                         server_command(server, models_dir, served_model_name(config, server)), env)
        for server in config.model_servers
    ]
    for server, child in zip(config.model_servers, started, strict=True):
        wait_until_serving(server, child, supervisor, timeout)
    return started


def wait_until_serving(server: ModelServer, child: Child, supervisor: Supervisor, timeout: float) -> None:
    url = f"http://{server.host}:{server.port}/v1/models"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not supervisor.alive(child):
            raise ConfigError(
                f"the model server {server.name!r} exited at start-up. Its log ({child.log}) ends:\n"
                f"{supervisor.log_tail(child)}\nIf llama_cpp is missing, reinstall llama-cpp-python[server]; "
                f"building it needs a C compiler (apt-get install build-essential cmake)."
            )
        if models_listed(url):
            return
        time.sleep(0.25)
    raise ConfigError(f"the model server {server.name!r} did not answer {url} within {timeout:.0f}s; see {child.log}")


def url_answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return 200 <= response.status < 300
    except (urllib.error.URLError, OSError):
        return False


def models_listed(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return bool(json.load(response).get("data"))
    except (urllib.error.URLError, OSError, ValueError):
        return False
