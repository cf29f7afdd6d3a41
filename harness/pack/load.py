"""Load a persona pack for the engine and the evaluator: validated, cross-checked, hashed.

`load_pack` raises the first problem as a one-line `PackError`; `impasse personas validate`
(`harness.pack.validate`) lists them all. Loaded packs are memoised by the files' paths, sizes
and modification times, so repeated loads in one process cost a few `stat` calls.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from harness.pack.locate import resolve_pack
from harness.pack.models import PersonaPack
from harness.pack.read import PackFiles, yaml_files
from harness.pack.validate import check_pack

_Key = tuple[str, str | None, str | None, tuple[tuple[str, int, int], ...]]
_cache: dict[_Key, PersonaPack] = {}


def load_pack(pack: str | Path, *, source: Path | None = None) -> PersonaPack:
    """The pack at a folder path or with a pack id (see `harness.pack.locate`).

    Evidence quotes are checked against the source article when `source` is given or the
    article is found beside the repository; otherwise only the pack's own files are checked.
    """
    root = resolve_pack(pack).resolve()
    key = _cache_key(root, source)
    cached = _cache.get(key)
    if cached is not None:
        return cached
    report = check_pack(root, source=source)
    if report.problems:
        raise report.problems[0].to_error()
    loaded = build_pack(report.files)
    _cache[key] = loaded
    return loaded


def clear_cache() -> None:
    _cache.clear()


def build_pack(files: PackFiles) -> PersonaPack:
    """Assemble a `PersonaPack` from files that validated without problems."""
    assert files.manifest is not None, "build_pack needs a pack that validated"
    manifest = files.manifest.item
    return PersonaPack(
        id=manifest.id,
        title=manifest.title,
        root=str(files.root),
        source=manifest.source,
        issues=manifest.issues,
        ledger=[e.item for e in files.ledger],
        personas={p.item.id: p.item for p in files.personas},
        scenarios={s.item.id: s.item for s in files.scenarios},
        content_hash=content_hash(files.root, files.files),
    )


def content_hash(root: Path, files: list[Path]) -> str:
    """SHA-256 over the pack's YAML files: each relative path and its bytes, sorted by path."""
    digest = hashlib.sha256()
    for path in sorted(files, key=lambda p: p.relative_to(root).as_posix()):
        data = path.read_bytes()
        name = path.relative_to(root).as_posix().encode()
        digest.update(b"%d:%s\n%d:" % (len(name), name, len(data)))
        digest.update(data)
    return digest.hexdigest()


def _cache_key(root: Path, source: Path | None) -> _Key:
    paths = yaml_files(root) + list(root.glob("*.yaml"))
    if source is not None:
        paths.append(Path(source))
    stamps = []
    for path in sorted(set(paths)):
        try:
            stat = path.stat()
        except OSError:
            continue
        stamps.append((str(path), stat.st_mtime_ns, stat.st_size))
    explicit = str(Path(source).resolve()) if source is not None else None
    return str(root), explicit, os.environ.get("IMPASSE_SOURCES"), tuple(stamps)
