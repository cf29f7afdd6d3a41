"""Validate a persona pack and report every problem, not just the first.

Three passes: each file against its model (`harness.pack.read`), ids across files
(`harness.pack.crossref`), and, when the source article is given or found, every evidence quote
against the article's text and the article against the SHA-256 in `pack.yaml`.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from harness.pack.crossref import cross_reference
from harness.pack.locate import resolve_pack
from harness.pack.models import Evidence
from harness.pack.problem import Problem
from harness.pack.read import PackFiles, read_pack_files
from harness.pack.source import evidence_error, find_source, read_source, sha256_of
from harness.pack.yamldoc import Loc, YamlDoc, display_path

__all__ = ["Problem", "Report", "check_pack", "validate_pack"]


@dataclass(frozen=True)
class Report:
    """The outcome of validating a pack: the files read, the problems, what was checked."""

    root: Path
    files: PackFiles
    problems: list[Problem]
    source: Path | None
    quotes_checked: int

    @property
    def ok(self) -> bool:
        return not self.problems


def validate_pack(pack: str | Path, *, source: Path | None = None) -> list[Problem]:
    """Every problem in the pack (a folder or a pack id), in file order; empty when valid."""
    return check_pack(pack, source=source).problems


def check_pack(pack: str | Path, *, source: Path | None = None) -> Report:
    root = resolve_pack(pack)
    files = read_pack_files(root)
    problems = list(files.problems) + cross_reference(files)
    source_path: Path | None = None
    checked = 0
    if files.manifest is not None:
        source_path = find_source(files.manifest.item, source)
        if source_path is not None and not source_path.is_file():
            problems.append(
                Problem(file=display_path(source_path), field="source", message="file not found")
            )
            source_path = None
        if source_path is not None:
            source_problems, checked = _check_source(files, source_path)
            problems += source_problems
    return Report(root, files, problems, source_path, checked)


def _check_source(files: PackFiles, path: Path) -> tuple[list[Problem], int]:
    """Compare the source's hash with pack.yaml and every evidence quote with its text."""
    assert files.manifest is not None
    problems = []
    manifest = files.manifest
    digest = sha256_of(path)
    if digest != manifest.item.source.sha256:
        problems.append(
            manifest.problem(
                ("source", "sha256"),
                f"{display_path(path)} has SHA-256 {digest}; the pack was built from a "
                "different text (offsets may not match)",
            )
        )
    try:
        text = read_source(path)
    except (OSError, UnicodeDecodeError) as error:
        return problems + [Problem(file=display_path(path), field="source", message=str(error))], 0
    checked = 0
    for doc, loc, evidence in _all_evidence(files):
        checked += 1
        message = evidence_error(text, evidence)
        if message is not None:
            problems.append(doc.problem(loc, message))
    return problems, checked


def _all_evidence(files: PackFiles) -> Iterator[tuple[YamlDoc, Loc, Evidence]]:
    for entry in files.ledger:
        for i, evidence in enumerate(entry.item.evidence):
            yield entry.doc, entry.loc + ("evidence", i), evidence
    for scenario in files.scenarios:
        outcome = scenario.item.documented_outcome
        for i, evidence in enumerate(outcome.evidence if outcome else []):
            yield scenario.doc, ("documented_outcome", "evidence", i), evidence
