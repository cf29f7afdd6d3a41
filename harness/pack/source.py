"""The source article a pack is grounded in: finding it, reading it, checking quotes against it.

The article is not shipped with the pack (only its SHA-256 is), so it is looked up beside the
repository. Offsets are Python `str` indices over the raw text read with `newline=""`, so a
quote is correct exactly when `text[start:end] == quote`.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from harness.pack.locate import REPO_ROOT
from harness.pack.models import Evidence, PackManifest, PersonaPack, Source

# Characters authors commonly retype differently from the source: curly quotes, dashes.
_LOOSE = str.maketrans({"“": '"', "”": '"', "‘": "'", "’": "'", "—": "-", "–": "-"})


def candidate_paths(filename: str) -> list[Path]:
    """Where a source file is looked for, in order (after an explicit path)."""
    paths = []
    if env := os.environ.get("IMPASSE_SOURCES"):
        paths.append(Path(env) / filename)
    paths.append(REPO_ROOT.parent / "shared" / "sources" / filename)
    paths.append(Path.cwd().parent / "shared" / "sources" / filename)
    return paths


def find_source(
    pack: PersonaPack | PackManifest | Source, explicit: Path | str | None = None
) -> Path | None:
    """The source file to check quotes against: `explicit`, else the first candidate found.

    An explicit path is returned even if missing, so the caller can say it was not found.
    """
    if explicit is not None:
        return Path(explicit)
    source = pack if isinstance(pack, Source) else pack.source
    return next((p for p in candidate_paths(source.filename) if p.is_file()), None)


def read_source(path: Path) -> str:
    """The raw text, newlines untranslated, so offsets match every platform."""
    with open(path, encoding="utf-8", newline="") as handle:
        return handle.read()


def sha256_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def evidence_error(text: str, evidence: Evidence) -> str | None:
    """Why `evidence` does not stand verbatim at its offsets in `text`; None when it does."""
    quote, start, end = evidence.quote, evidence.start, evidence.end
    if text[start:end] == quote:
        return None
    found = text.find(quote)
    if found >= 0:
        return (
            f"quote is not at {start}-{end} but is found at {found}-{found + len(quote)}; "
            "fix the offsets"
        )
    loose = _loose_find(text, quote)
    if loose is not None:
        return (
            f"quote not found verbatim; a near match (quotes, dashes, backslashes or spacing "
            f"differ) is at {loose[0]}-{loose[1]}: {text[loose[0] : loose[1]]!r}"
        )
    return "quote not found in the source"


def _loose_find(text: str, quote: str) -> tuple[int, int] | None:
    """Find `quote` ignoring quote style, dashes, backslashes and runs of whitespace."""
    norm, index = _normalise(text)
    target, _ = _normalise(quote)
    at = norm.find(target) if target else -1
    if at < 0:
        return None
    return index[at], index[at + len(target) - 1] + 1


def _normalise(text: str) -> tuple[str, list[int]]:
    chars: list[str] = []
    index: list[int] = []
    for i, char in enumerate(text.translate(_LOOSE)):
        if char == "\\":
            continue
        if char.isspace():
            if chars and chars[-1] == " ":
                continue
            char = " "
        chars.append(char)
        index.append(i)
    return "".join(chars), index
