"""Find a pack folder from a path or a pack id."""

from __future__ import annotations

import os
from pathlib import Path

from harness.errors import PackError

# The folder holding the `harness` package: a clone's root with an editable install.
REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_PACK = "us-china-2019"


def pack_candidates(pack_id: str) -> list[Path]:
    """Where a pack id is looked for, in order."""
    paths = []
    if env := os.environ.get("IMPASSE_PACKS"):
        paths.append(Path(env) / pack_id)
    paths.append(Path.cwd() / "personas" / pack_id)
    paths.append(REPO_ROOT / "personas" / pack_id)
    return list(dict.fromkeys(p.resolve() for p in paths))


def resolve_pack(pack: str | Path) -> Path:
    """The pack folder for a folder path or a pack id; a `PackError` saying where it looked."""
    path = Path(pack)
    if isinstance(pack, Path) or path.is_dir() or len(path.parts) > 1:
        if not path.is_dir():
            raise PackError("pack folder not found", location=path)
        return path
    for candidate in pack_candidates(str(pack)):
        if candidate.is_dir():
            return candidate
    looked = ", ".join(str(p) for p in pack_candidates(str(pack)))
    raise PackError(f"no pack with id {str(pack)!r}; looked in {looked}", field="pack")
