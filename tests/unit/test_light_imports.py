"""Heavy runtimes stay inside the modules that need them: importing the pipeline loads none."""

import subprocess
import sys

HEAVY = ["llama_cpp", "openai", "sklearn", "matplotlib", "scipy"]


def test_importing_producer_worker_and_cli_loads_no_model_runtime():
    code = ("import sys, producer.submit, worker.app, worker.tier.task, worker.route.task, ladder.cli.main; "
            f"print([m for m in {HEAVY!r} if m in sys.modules])")
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert loaded == "[]"
