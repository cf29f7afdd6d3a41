"""Run ids and run references: how a run folder is named, and how a user names it back.

A run id reads as `<UTC date>-<UTC time>-<scenario>-<4 hex>`, e.g.
`20261129-083012-washington-2019-05-3f9a`, so `ls transcripts/` sorts runs by time. A user may
refer to a run by its full id, a unique prefix of it, or a path to its folder inside the
transcripts folder; anything else is refused with one line naming what went wrong.
"""

from __future__ import annotations

import datetime as dt
import re
import secrets
from pathlib import Path

from harness.errors import TranscriptError

RUN_ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
"""What a run id may look like: it becomes a folder name, so no separators and no leading dot."""

MAX_CANDIDATES_SHOWN = 6


def format_run_id(
    scenario_id: str, now: dt.datetime | None = None, suffix: str | None = None
) -> str:
    """Build a run id from the UTC time, the scenario id and 4 random hex digits."""
    now = (now or dt.datetime.now(dt.UTC)).astimezone(dt.UTC)
    slug = re.sub(r"[^a-z0-9_.-]+", "-", scenario_id.lower()).strip("-.") or "run"
    return f"{now:%Y%m%d-%H%M%S}-{slug}-{suffix or secrets.token_hex(2)}"


def check_run_id(run_id: str) -> str:
    """Refuse a run id that could not safely be a folder name (it is used as one)."""
    if not RUN_ID_PATTERN.match(run_id) or run_id in (".", ".."):
        raise TranscriptError(
            f"invalid run id {run_id!r}",
            fix="use letters, digits, '-', '_' and '.', not starting with '.'",
        )
    return run_id


def run_folders(root: Path) -> list[str]:
    """Names of the run folders under `root` (hidden folders are skipped), sorted."""
    if not root.is_dir():
        return []
    return sorted(p.name for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))


def _looks_like_path(ref: str) -> bool:
    return "/" in ref or "\\" in ref or ref.startswith((".", "~"))


def resolve_run_ref(root: Path, ref: str) -> str:
    """The full run id that `ref` names: an id, a unique id prefix, or a run folder path.

    Paths must lead to a run folder directly inside `root` (or a file in one, such as its
    transcript.json); a path elsewhere is refused rather than read, so that `impasse show`
    cannot be pointed at arbitrary files.
    """
    ref = ref.strip()
    if not ref:
        raise TranscriptError("empty run reference", fix="give a run id, a prefix or a run folder")
    root_resolved = root.expanduser().resolve()
    names = run_folders(root_resolved)
    if ref in names:
        return ref
    if _looks_like_path(ref) or Path(ref).is_absolute():
        return _resolve_path(root_resolved, ref)
    matches = [name for name in names if name.startswith(ref)]
    if len(matches) == 1:
        return matches[0]
    if not matches:
        raise TranscriptError(
            f"no run {ref!r} in {root}", fix="run `impasse list` to see the stored runs"
        )
    shown = ", ".join(matches[:MAX_CANDIDATES_SHOWN])
    more = (
        f" and {len(matches) - MAX_CANDIDATES_SHOWN} more"
        if len(matches) > MAX_CANDIDATES_SHOWN
        else ""
    )
    raise TranscriptError(
        f"run prefix {ref!r} is ambiguous: {len(matches)} runs match ({shown}{more})",
        fix="type more of the id",
    )


def _resolve_path(root: Path, ref: str) -> str:
    path = Path(ref).expanduser()
    if not path.is_absolute():
        path = Path.cwd() / path
    path = path.resolve()
    try:
        relative = path.relative_to(root)
    except ValueError:
        raise TranscriptError(
            f"{ref!r} is outside the transcripts folder {root}",
            fix="pass --transcripts-dir or set IMPASSE_TRANSCRIPTS to the folder that holds it",
        ) from None
    if not relative.parts:
        raise TranscriptError(f"{ref!r} is the transcripts folder itself, not a run folder")
    name = relative.parts[0]
    if not (root / name).is_dir():
        raise TranscriptError(f"no run folder {ref!r} in {root}")
    return check_run_id(name)
