"""Rich renderings of runs for the terminal: the run list, the talks, and a diff of two runs.

Model text is always passed to rich as `Text`, never as markup, so a persona that says
`[bold]` or `[/]` prints those characters instead of restyling (or crashing) the output.
"""

from __future__ import annotations

from collections.abc import Iterator

from rich import box
from rich.console import Group, RenderableType
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from harness.eval.model import Verdict
from harness.transcript.diff import RunDiff
from harness.transcript.model import Turn
from harness.transcript.store import RunSummary
from harness.transcript.view import RunView, audience_label, is_private

SIDE_STYLE = {"us": "blue", "cn": "red", None: "yellow"}
VERDICT_STYLE = {
    "upheld": "green",
    "violated": "bold red",
    "conceded": "yellow",
    "not_addressed": "dim",
    "ambiguous": "magenta",
}


def runs_table(rows: list[RunSummary]) -> Table:
    table = Table(title=f"{len(rows)} run(s)", title_justify="left", box=box.SIMPLE_HEAD)
    # The id is what users copy: never truncate it; the other columns wrap instead.
    table.add_column("id", no_wrap=True, min_width=max((len(r.id) for r in rows), default=2))
    for column in ("scenario", "date", "models", "rounds", "outcome", "fidelity", "status"):
        table.add_column(
            column,
            overflow="fold",
            no_wrap=column in ("date", "rounds", "fidelity", "status"),
            justify="right" if column in ("rounds", "fidelity") else "left",
        )
    for row in rows:
        table.add_row(
            Text(row.id),
            Text(row.scenario or "-"),
            row.started.strftime("%Y-%m-%d %H:%M") if row.started else "-",
            Text(", ".join(row.models) or "-"),
            str(row.rounds),
            Text(row.outcome or "-"),
            f"{row.fidelity:.2f}" if row.fidelity is not None else "-",
            Text(row.status, style="red" if row.status in ("error", "unreadable") else ""),
        )
    return table


def select_turns(
    view: RunView, round_: int | None, speaker: str | None, private: bool
) -> Iterator[tuple[int, Turn]]:
    """(index, turn) pairs that `show` displays under the given filters."""
    for index, turn in enumerate(view.transcript.turns):
        if round_ is not None and turn.round != round_:
            continue
        if speaker is not None and turn.speaker != speaker:
            continue
        if not private and is_private(turn):
            continue
        yield index, turn


def _verdict_line(view: RunView, verdict: Verdict) -> Text:
    line = Text("  ")
    line.append(f"{verdict.verdict:<13}", style=VERDICT_STYLE.get(verdict.verdict, ""))
    line.append(f" {verdict.entry}", style="bold")
    line.append(f" ({verdict.issue}, {verdict.layer}, {verdict.confidence:.2f})", style="dim")
    if verdict.red_line:
        line.append(" RED LINE", style="bold red")
    if verdict.injection:
        line.append(" INJECTION", style="bold magenta")
    if verdict.quote:
        line.append(f'\n      said: "{verdict.quote}"', style="italic")
    evidence = view.evidence(verdict)
    if evidence:
        line.append(f'\n      source: "{evidence}"', style="dim italic")
    return line


def turn_panel(view: RunView, index: int, turn: Turn, private: bool) -> Panel:
    parts: list[RenderableType] = [Text(turn.utterance)]
    if turn.move and turn.move.stances:
        stances = Text()
        for s in turn.move.stances:
            stances.append(f"\n{s.issue}: ", style="bold")
            stances.append(s.stance)
            if s.proposal:
                stances.append(f' "{s.proposal}"', style="italic")
        parts.append(stances)
    if turn.move and turn.move.action:
        parts.append(Text(f"action: {turn.move.action}", style="bold yellow"))
    if private and turn.move and turn.move.rationale:
        parts.append(Text(f"rationale (private): {turn.move.rationale}", style="dim italic"))
    verdicts = view.verdicts(index)
    if verdicts:
        parts.append(Text("verdicts:", style="bold"))
        parts.extend(_verdict_line(view, v) for v in verdicts)
    name = view.name(turn.speaker)
    side = f" ({turn.side})" if turn.side else ""
    title = Text(f"r{turn.round} · {turn.phase} · {name}{side} → {audience_label(turn)}")
    border = "bold red" if view.violations(index) else SIDE_STYLE.get(turn.side, "white")
    return Panel(
        Group(*parts),
        title=title,
        title_align="left",
        subtitle=Text(turn.id, style="dim"),
        subtitle_align="right",
        border_style=border,
    )


def run_header(view: RunView) -> Text:
    t = view.transcript
    meta = t.meta
    text = Text()
    text.append(f"{meta.run_id}", style="bold")
    text.append(f"  {view.scenario_title()}  [{t.status}]")
    if meta.parent_run:
        text.append(f"\nforked from {meta.parent_run} at round {meta.fork_round}")
    if t.outcome:
        text.append(
            f"\noutcome: {t.outcome.result} after round {t.outcome.ended_round}: {t.outcome.reason}"
        )
    documented, talks, _ = view.documented_outcome()
    if documented:
        text.append(f"\ndocumented outcome: {documented}")
        if talks is not None:
            text.append(f" (talks continue: {'yes' if talks else 'no'})")
    if t.error:
        text.append(f"\nerror: {t.error}", style="red")
    return text


def diff_renderables(diff: RunDiff, show_same: bool = False) -> Iterator[RenderableType]:
    head = Text()
    head.append(f"A {diff.run_a}\nB {diff.run_b}", style="bold")
    if diff.b_forked_from_a:
        head.append(f"\nB is a fork of A at round {diff.fork_round}")
    head.append(f"\noutcome: A {diff.outcome_a or '-'} · B {diff.outcome_b or '-'}")
    head.append(
        f"\nfirst divergence: round {diff.first_divergence}"
        if diff.first_divergence is not None
        else "\nno divergence in stances or clause statuses"
    )
    yield head
    for rd in diff.rounds:
        if not rd.diverges and not show_same:
            yield Text(f"round {rd.round}: identical", style="dim")
            continue
        table = Table(title=f"round {rd.round}", title_justify="left", show_lines=False)
        table.add_column("who / clause")
        table.add_column("issue")
        table.add_column("A")
        table.add_column("B")
        for row in rd.speakers:
            for cell in row.stances:
                if cell.differs or show_same:
                    table.add_row(*_cells(row.speaker, cell.key, cell.a, cell.b, cell.differs))
        for cell in rd.clauses:
            if cell.differs or show_same:
                table.add_row(*_cells("clause", cell.key, cell.a, cell.b, cell.differs))
        yield table


def _cells(who: str, key: str, a: str | None, b: str | None, differs: bool) -> list[Text]:
    style = "bold yellow" if differs else ""
    return [Text(who), Text(key), Text(a or "-", style=style), Text(b or "-", style=style)]
