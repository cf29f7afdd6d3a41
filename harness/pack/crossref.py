"""Checks that span files: every id a pack names must exist, and sides must agree.

The evaluator identifies a red line by the speaker's side plus the issue key, so a pack may
hold at most one red line per (side, issue); that rule is checked here too. Ids of items that
exist but failed to validate count as known, so one broken file is reported once.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from harness.pack.models import SIDES, Claim, LedgerEntry, Side
from harness.pack.problem import Problem
from harness.pack.read import Located, PackFiles


@dataclass(frozen=True)
class _Ids:
    """The ids a pack defines, for looking up references."""

    issues: set[str]
    persona_sides: dict[str, Side]
    entries: dict[str, LedgerEntry]
    broken_personas: set[str]
    broken_entries: set[str]

    def side_of(self, holder: str) -> Side | None:
        if holder in SIDES:
            return holder  # type: ignore[return-value]
        return self.persona_sides.get(holder)

    def missing_entries(
        self, located: Located, loc: tuple[str | int, ...], ids: list[str]
    ) -> list[Problem]:
        return [
            located.problem(loc + (j,), _unknown("ledger entry", entry_id, self.entries))
            for j, entry_id in enumerate(ids)
            if entry_id not in self.entries and entry_id not in self.broken_entries
        ]


def cross_reference(files: PackFiles) -> list[Problem]:
    if files.manifest is None:
        return []
    ids = _Ids(
        issues=set(files.manifest.item.issues),
        persona_sides={p.item.id: p.item.side for p in files.personas},
        entries={e.item.id: e.item for e in files.ledger},
        broken_personas=files.broken_personas,
        broken_entries=files.broken_entries,
    )
    problems = _unique(files.ledger, "ledger entry") + _unique(files.personas, "persona")
    problems += _unique(files.scenarios, "scenario")
    problems += _check_ledger(files.ledger, ids)
    for persona in files.personas:
        problems += _check_persona(persona, ids)
    for scenario in files.scenarios:
        problems += _check_scenario(scenario, ids)
    return problems


def _unique(items: Iterable[Located], what: str) -> list[Problem]:
    """Duplicate ids, and persona/scenario files whose id differs from the file name."""
    seen: dict[str, Located] = {}
    out: list[Problem] = []
    for located in items:
        item_id = located.item.id  # type: ignore[attr-defined]
        if item_id in seen:
            first = seen[item_id].doc.display
            out.append(
                located.problem(("id",), f"duplicate {what} id {item_id!r} (first in {first})")
            )
        seen.setdefault(item_id, located)
        if not located.loc and located.doc.path.stem != item_id:
            name = located.doc.path.name
            out.append(
                located.problem(("id",), f"id {item_id!r} must match the file name {name!r}")
            )
    return out


def _check_ledger(ledger: list[Located[LedgerEntry]], ids: _Ids) -> list[Problem]:
    problems = []
    red_lines: dict[tuple[Side, str], str] = {}
    for located in ledger:
        entry = located.item
        side = ids.side_of(entry.holder)
        if side is None and entry.holder not in ids.broken_personas:
            known = ", ".join(sorted(ids.persona_sides))
            problems.append(
                located.problem(
                    ("holder",),
                    f"unknown holder {entry.holder!r}; expected 'us', 'cn' or a persona id ({known})",
                )
            )
        if entry.issue not in ids.issues:
            problems.append(located.problem(("issue",), _unknown("issue", entry.issue, ids.issues)))
        if entry.kind == "red_line" and side is not None:
            key = (side, entry.issue)
            if key in red_lines:
                problems.append(
                    located.problem(
                        ("issue",),
                        f"a second red line for side {side!r} on issue {entry.issue!r} "
                        f"(already {red_lines[key]!r}); keep exactly one per side and issue",
                    )
                )
            red_lines.setdefault(key, entry.id)
    return problems


def _check_persona(located: Located, ids: _Ids) -> list[Problem]:
    persona = located.item
    problems = ids.missing_entries(located, ("holds",), persona.holds)
    for i, entry_id in enumerate(persona.holds):
        entry = ids.entries.get(entry_id)
        side = ids.side_of(entry.holder) if entry is not None else None
        if side is not None and side != persona.side:
            problems.append(
                located.problem(
                    ("holds", i),
                    f"entry {entry_id!r} belongs to side {side!r} but this persona is on "
                    f"side {persona.side!r}",
                )
            )
    for group in ("background", "private_knowledge"):
        claims: list[Claim] = getattr(persona, group)
        for i, claim in enumerate(claims):
            problems += ids.missing_entries(located, (group, i, "cites"), claim.cites)
    return problems


def _check_scenario(located: Located, ids: _Ids) -> list[Problem]:
    scenario = located.item
    problems = []
    for i, participant in enumerate(scenario.participants):
        name = participant.persona
        if name not in ids.persona_sides and name not in ids.broken_personas:
            problems.append(
                located.problem(
                    ("participants", i, "persona"), _unknown("persona", name, ids.persona_sides)
                )
            )
    for i, issue in enumerate(scenario.agenda):
        if issue not in ids.issues:
            problems.append(located.problem(("agenda", i), _unknown("issue", issue, ids.issues)))
    for i, event in enumerate(scenario.events):
        if event.round > scenario.max_rounds:
            problems.append(
                located.problem(
                    ("events", i, "round"),
                    f"round {event.round} is after max_rounds ({scenario.max_rounds})",
                )
            )
        problems += ids.missing_entries(located, ("events", i, "cites"), event.cites)
    return problems


def _unknown(what: str, value: str, known: Iterable[str]) -> str:
    names = sorted(known)
    hint = ", ".join(names) if len(names) <= 20 else ", ".join(names[:20]) + ", ..."
    return f"unknown {what} {value!r} (known: {hint})"
