"""Atomic file writes: a reader sees the old file or the new one, never half of either."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def atomic_write_bytes(path: Path, data: bytes, *, durable: bool = True) -> None:
    """Write `data` to a temp file beside `path`, fsync it, then rename it over `path`.

    The rename alone makes the write atomic for readers and safe against a killed process
    (the kernel keeps what was written). `durable=False` skips the two fsyncs, which only
    matter if the machine itself goes down; use it only where losing the write to a power cut
    costs nothing: a file rewritten often whose last write is durable (a running transcript),
    or a cache that is rebuilt when missing.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            if durable:
                os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    if durable:
        _fsync_dir(path.parent)


def remove_stale_temps(folder: Path, names: tuple[str, ...]) -> None:
    """Delete the temp files that interrupted atomic writes of `names` left in `folder`.

    A process killed between writing the temp file and renaming it leaves `.<name>.*.tmp`
    behind (the file itself is intact). A name of `*` sweeps every such temp file in the
    folder. Call this only while no other process writes these files, e.g. when resuming.
    """
    for name in names:
        for stale in Path(folder).glob(f".{name}.*.tmp"):
            stale.unlink(missing_ok=True)


def atomic_write_text(path: Path, text: str, *, durable: bool = True) -> None:
    atomic_write_bytes(path, text.encode("utf-8"), durable=durable)


def _fsync_dir(folder: Path) -> None:
    # Make the rename itself durable; not every filesystem allows opening a directory.
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
