"""`impasse personas list|show|validate`: browse a persona pack and check it against its source."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer
from rich.console import Console, Group
from rich.markup import escape
from rich.panel import Panel
from rich.table import Table

from harness.errors import PackError
from harness.pack.load import load_pack
from harness.pack.locate import DEFAULT_PACK
from harness.pack.models import LedgerEntry, PersonaPack
from harness.pack.validate import check_pack

PACK_OPTION = typer.Option(
    DEFAULT_PACK, "--pack", envvar="IMPASSE_PACK", help="Pack id or folder.", show_default=True
)
JSON_OPTION = typer.Option(False, "--json", help="Print JSON instead of the rich view.")
SOURCE_OPTION = typer.Option(
    None, "--source", help="The source article; default: $IMPASSE_SOURCES, then ../shared/sources/."
)

personas_app = typer.Typer(
    help="Browse and validate the personas and ledger of a pack.", no_args_is_help=True
)


def register(app: typer.Typer) -> None:
    """Add the `personas` command group to the root app."""
    app.add_typer(personas_app, name="personas")


def print_json(data: Any) -> None:
    """Plain JSON on stdout (no colour, no wrapping), for piping into other tools."""
    typer.echo(json.dumps(data, indent=2, ensure_ascii=False))


def pick(pack: PersonaPack, kind: str, item_id: str, items: dict[str, Any]) -> Any:
    """`items[item_id]`, or a one-line error naming the ids that exist."""
    if item_id not in items:
        known = ", ".join(sorted(items))
        raise PackError(f"no {kind} {item_id!r} in pack {pack.id!r} (known: {known})", field=kind)
    return items[item_id]


@personas_app.command("list")
def list_personas(pack: str = PACK_OPTION, as_json: bool = JSON_OPTION) -> None:
    """List the pack's personas: id, name, title, side and delegation role."""
    loaded = load_pack(pack)
    rows = [
        p.model_dump(mode="json", include={"id", "name", "title", "side", "role"})
        for p in loaded.personas.values()
    ]
    if as_json:
        print_json(rows)
        return
    table = Table(title=f"{loaded.title} ({loaded.id})")
    for column in ("id", "name", "title", "side", "role", "holds"):
        table.add_column(column, no_wrap=column not in ("name", "title"))
    for persona in loaded.personas.values():
        table.add_row(
            persona.id,
            persona.name,
            persona.title,
            persona.side,
            persona.role,
            str(len(_held(loaded, persona.id))),
        )
    Console().print(table)


@personas_app.command("show")
def show_persona(
    persona_id: str = typer.Argument(..., metavar="ID", help="Persona id, e.g. lighthizer."),
    pack: str = PACK_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Show a persona: identity, goals, voice, what it knows, and the entries it holds."""
    loaded = load_pack(pack)
    persona = pick(loaded, "persona", persona_id, loaded.personas)
    entries = _held(loaded, persona.id)
    if as_json:
        print_json(
            {
                **persona.model_dump(mode="json"),
                "entries": [e.model_dump(mode="json") for e in entries],
            }
        )
        return
    console = Console()
    console.print(
        Panel(
            f"[bold]{escape(persona.name)}[/bold]\n{escape(persona.title)}\n"
            f"side [cyan]{persona.side}[/cyan] · role [cyan]{persona.role}[/cyan]",
            title=persona.id,
        )
    )
    _bullets(console, "Goals", persona.goals)
    _bullets(console, "Voice", persona.voice)
    _bullets(
        console, "Background", [f"{c.text} [{', '.join(c.cites)}]" for c in persona.background]
    )
    _bullets(
        console,
        "Private knowledge",
        [f"{c.text} [{', '.join(c.cites)}]" for c in persona.private_knowledge],
    )
    console.print(f"\n[bold]Ledger entries held ({len(entries)})[/bold]")
    for entry in entries:
        console.print(render_entry(entry))


def render_entry(entry: LedgerEntry) -> Panel:
    """One ledger entry with its evidence quotes and their offsets in the source."""
    severity = f" · {entry.severity}" if entry.severity else ""
    style = "red" if entry.kind == "red_line" else "blue"
    lines: list[str] = [escape(entry.statement)]
    for evidence in entry.evidence:
        quote = " ".join(evidence.quote.split())
        lines.append(f"[dim]“{escape(quote)}” ({evidence.start}-{evidence.end})[/dim]")
    return Panel(
        Group(*lines),
        title=f"[{style}]{entry.kind}{severity}[/{style}] {escape(entry.id)}",
        subtitle=f"{entry.holder} · {entry.issue} · {entry.stance}",
        title_align="left",
    )


@personas_app.command("validate")
def validate(
    pack: str = typer.Argument(DEFAULT_PACK, help="Pack id or folder."),
    source: Path | None = SOURCE_OPTION,
) -> None:
    """Check every file, id and evidence quote; print every problem, exit 2 if any."""
    report = check_pack(pack, source=source)
    if report.problems:
        err = Console(stderr=True, highlight=False, soft_wrap=True)
        for problem in report.problems:
            err.print(str(problem), markup=False)
        raise typer.Exit(2)
    files = report.files
    red_lines = sum(1 for e in files.ledger if e.item.kind == "red_line")
    quotes = (
        f"{report.quotes_checked} quotes checked against {report.source}"
        if report.source is not None
        else "source not found: quotes not checked"
    )
    pack_id = files.manifest.item.id if files.manifest else pack
    Console(highlight=False, soft_wrap=True).print(
        f"ok: {pack_id}: {len(files.ledger)} entries ({red_lines} red line{'' if red_lines == 1 else 's'}), "
        f"{len(files.personas)} personas, {len(files.scenarios)} scenarios; {quotes}",
        markup=False,
    )


def _held(pack: PersonaPack, persona_id: str) -> list[LedgerEntry]:
    """Entries the persona lists in `holds` or is the holder of, in ledger order."""
    held = set(pack.personas[persona_id].holds)
    return [e for e in pack.ledger if e.id in held or e.holder == persona_id]


def _bullets(console: Console, heading: str, items: list[str]) -> None:
    if items:
        console.print(f"\n[bold]{heading}[/bold]")
        for item in items:
            console.print(f"  • {escape(item)}")
