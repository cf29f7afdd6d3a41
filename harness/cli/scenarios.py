"""`impasse scenarios list|show`: the scenarios a pack can run and what the source says happened."""

from __future__ import annotations

import typer
from rich.console import Console
from rich.markup import escape
from rich.panel import Panel
from rich.table import Table

from harness.cli.personas import JSON_OPTION, PACK_OPTION, pick, print_json
from harness.pack.load import load_pack
from harness.pack.models import PersonaPack, Scenario

scenarios_app = typer.Typer(help="Browse the scenarios of a pack.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    """Add the `scenarios` command group to the root app."""
    app.add_typer(scenarios_app, name="scenarios")


@scenarios_app.command("list")
def list_scenarios(pack: str = PACK_OPTION, as_json: bool = JSON_OPTION) -> None:
    """List the pack's scenarios: id, date, title, seats, rounds and documented outcome."""
    loaded = load_pack(pack)
    if as_json:
        print_json(
            [
                {
                    "id": s.id,
                    "title": s.title,
                    "date": s.date.isoformat(),
                    "participants": len(s.participants),
                    "max_rounds": s.max_rounds,
                    "documented_outcome": _outcome(s),
                }
                for s in loaded.scenarios.values()
            ]
        )
        return
    table = Table(title=f"{loaded.title} ({loaded.id})")
    table.add_column("id", no_wrap=True)
    table.add_column("date", no_wrap=True)
    for column in ("title", "seats", "rounds", "documented outcome"):
        table.add_column(column)
    for s in loaded.scenarios.values():
        table.add_row(
            s.id,
            s.date.isoformat(),
            s.title,
            str(len(s.participants)),
            str(s.max_rounds),
            _outcome(s),
        )
    Console().print(table)


@scenarios_app.command("show")
def show_scenario(
    scenario_id: str = typer.Argument(..., metavar="ID", help="Scenario id."),
    pack: str = PACK_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Show a scenario: setting, seats, agenda and red lines on it, briefs, events, outcome."""
    loaded = load_pack(pack)
    scenario: Scenario = pick(loaded, "scenario", scenario_id, loaded.scenarios)
    if as_json:
        print_json(scenario.model_dump(mode="json"))
        return
    console = Console()
    console.print(
        Panel(
            f"[bold]{escape(scenario.title)}[/bold] · {scenario.date.isoformat()}\n"
            f"{escape(scenario.setting)}",
            title=scenario.id,
        )
    )
    seats = Table(title="Participants")
    for column in ("persona", "side", "seat", "role"):
        seats.add_column(column)
    for participant in scenario.participants:
        persona = loaded.personas[participant.persona]
        seats.add_row(persona.name, persona.side, participant.seat, persona.role)
    console.print(seats)
    console.print(_agenda(loaded, scenario))
    console.print(Panel(escape(scenario.public_context), title="Public context"))
    for side, brief in scenario.private_briefs.items():
        console.print(Panel(escape(brief), title=f"Private brief: {side}"))
    for event in scenario.events:
        console.print(
            f"[bold]round {event.round}[/bold] ({event.audience}) {escape(' '.join(event.text.split()))}"
        )
    policy = scenario.turn_policy
    console.print(
        f"\nmax rounds {scenario.max_rounds} · first side {policy.first_side} · "
        f"caucus {'on' if policy.caucus else 'off'} · table passes {policy.table_passes}"
    )
    outcome = scenario.documented_outcome
    if outcome is None:
        console.print("[dim]The source documents no outcome for this scenario.[/dim]")
        return
    lines = [f"result: {_outcome(scenario)}", escape(" ".join(outcome.summary.split()))]
    lines += [
        f"[dim]“{escape(' '.join(e.quote.split()))}” ({e.start}-{e.end})[/dim]"
        for e in outcome.evidence
    ]
    console.print(Panel("\n".join(lines), title="Documented outcome"))


def _agenda(pack: PersonaPack, scenario: Scenario) -> Table:
    table = Table(title="Agenda")
    table.add_column("issue", no_wrap=True)
    table.add_column("what it covers")
    table.add_column("red lines", overflow="fold")
    for issue in scenario.agenda:
        red = [e.id for e in pack.ledger if e.kind == "red_line" and e.issue == issue]
        table.add_row(issue, pack.issues[issue], "\n".join(red) or "-")
    return table


def _outcome(scenario: Scenario) -> str:
    outcome = scenario.documented_outcome
    if outcome is None:
        return "none documented"
    parts = [outcome.result or ("decision" if outcome.decision else "-")]
    if outcome.talks_continue is not None:
        parts.append("talks continue" if outcome.talks_continue else "talks end")
    return "; ".join(parts)
