"""Read a pack folder's files into models, keeping where each item came from.

Each ledger entry, persona and scenario is validated on its own, so one bad item does not hide
the problems of the others, and each remembers its file and YAML path for later messages.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Generic, TypeVar

from pydantic import BaseModel

from harness.pack.models import Ledger, LedgerEntry, PackManifest, Persona, Scenario
from harness.pack.problem import Problem
from harness.pack.yamldoc import Loc, YamlDoc, display_path, read_yaml

T = TypeVar("T", bound=BaseModel)

MANIFEST = "pack.yaml"
PERSONAS_DIR = "personas"
SCENARIOS_DIR = "scenarios"


@dataclass(frozen=True)
class Located(Generic[T]):
    """A validated item with the file and YAML path it was read from."""

    item: T
    doc: YamlDoc
    loc: Loc

    def problem(self, sub: Loc, message: str) -> Problem:
        return self.doc.problem(self.loc + sub, message)


@dataclass
class PackFiles:
    """Everything read from a pack folder, plus the problems met while reading it."""

    root: Path
    manifest: Located[PackManifest] | None = None
    ledger: list[Located[LedgerEntry]] = field(default_factory=list)
    personas: list[Located[Persona]] = field(default_factory=list)
    scenarios: list[Located[Scenario]] = field(default_factory=list)
    files: list[Path] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    # Ids of items that exist but failed to validate: cross-references to them are not
    # reported again, so one broken file gives one problem, not a cascade.
    broken_personas: set[str] = field(default_factory=set)
    broken_entries: set[str] = field(default_factory=set)


def yaml_files(root: Path, ledger_name: str | None = None) -> list[Path]:
    """The pack's YAML files: manifest, ledger file, personas and scenarios, in a fixed order."""
    files = [root / MANIFEST]
    if ledger_name:
        files.append(root / ledger_name)
    for folder in (PERSONAS_DIR, SCENARIOS_DIR):
        files.extend(sorted((root / folder).glob("*.yaml")))
    return [f for f in files if f.is_file()]


def read_pack_files(root: Path) -> PackFiles:
    out = PackFiles(root=root)
    manifest_doc = _read(out, root / MANIFEST)
    if manifest_doc is None:
        return out
    data = manifest_doc.data
    inline = isinstance(data, dict) and isinstance(data.get("ledger"), list)
    # Inline ledger entries are validated one by one below, like a ledger file's entries.
    manifest_data = {**data, "ledger": "(inline)"} if inline else data
    manifest, problems = manifest_doc.validate(PackManifest, manifest_data)
    out.problems += problems
    if manifest is None:
        return out
    out.manifest = Located(manifest, manifest_doc, ())
    if inline:
        _read_entries(out, manifest_doc, data["ledger"], ("ledger",))
    else:
        _read_ledger_file(out, manifest_doc, str(manifest.ledger))
    out.personas = _read_folder(out, PERSONAS_DIR, Persona, out.broken_personas)
    out.scenarios = _read_folder(out, SCENARIOS_DIR, Scenario, set())
    out.files = yaml_files(root, None if inline else str(manifest.ledger))
    return out


def _read(out: PackFiles, path: Path) -> YamlDoc | None:
    if not path.is_file():
        out.problems.append(Problem(file=display_path(path), field="-", message="file not found"))
        return None
    doc, problem = read_yaml(path)
    if problem is not None:
        out.problems.append(problem)
    return doc


def _read_ledger_file(out: PackFiles, manifest_doc: YamlDoc, name: str) -> None:
    path = (out.root / name).resolve()
    if out.root.resolve() not in path.parents:
        out.problems.append(
            manifest_doc.problem(("ledger",), "ledger file must be inside the pack")
        )
        return
    doc = _read(out, path)
    if doc is None:
        return
    data = doc.data
    entries = data.get("entries") if isinstance(data, dict) else None
    if not isinstance(entries, list):
        _, problems = doc.validate(Ledger, data)
        out.problems += problems
        return
    # Check the top level (unknown keys, empty list) without re-reporting every entry.
    _, problems = doc.validate(Ledger, {**data, "entries": entries[:1]})
    out.problems += [p for p in problems if not p.field.startswith("entries[")]
    _read_entries(out, doc, entries, ("entries",))


def _read_entries(out: PackFiles, doc: YamlDoc, entries: list[object], base: Loc) -> None:
    for i, data in enumerate(entries):
        entry, problems = doc.validate(LedgerEntry, data, base + (i,))
        out.problems += problems
        if entry is not None:
            out.ledger.append(Located(entry, doc, base + (i,)))
        elif isinstance(data, dict) and isinstance(data.get("id"), str):
            out.broken_entries.add(data["id"])


def _read_folder(out: PackFiles, folder: str, model: type[T], broken: set[str]) -> list[Located[T]]:
    """Read `folder/*.yaml` as `model`; the stems of files that fail go into `broken`."""
    items = []
    for path in sorted((out.root / folder).glob("*.yaml")):
        doc = _read(out, path)
        item = None
        if doc is not None:
            item, problems = doc.validate(model, doc.data)
            out.problems += problems
        if item is None:
            broken.add(path.stem)
        else:
            items.append(Located(item, doc, ()))
    return items
