"""`impasse list | show | export | diff`: review stored runs.

Thin: parse options, call `harness.transcript`, render with rich (or print JSON with --json).
The transcripts folder is `--transcripts-dir`, else `$IMPASSE_TRANSCRIPTS`, else ./transcripts.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
from enum import Enum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from harness.cli.options import TranscriptsDir, transcripts_root
from harness.files import atomic_write_text
from harness.transcript.diff import diff_runs
from harness.transcript.render import (
    diff_renderables,
    run_header,
    runs_table,
    select_turns,
    turn_panel,
)
from harness.transcript.store import RunStore
from harness.transcript.view import RunView, is_private, try_load_pack

JsonFlag = Annotated[bool, typer.Option("--json", help="Print JSON instead of the rich view.")]
RunRef = Annotated[str, typer.Argument(help="Run id, unique prefix, or run folder.")]


class ExportFormat(str, Enum):
    md = "md"
    html = "html"
    jsonl = "jsonl"


def _console(piped_width: int = 100) -> Console:
    # Built per call so that output goes to the sys.stdout of the moment (tests capture it).
    # Piped output gets a set width rather than rich's 80, so run ids and tables fit.
    width = None if sys.stdout.isatty() else piped_width
    return Console(file=sys.stdout, highlight=False, soft_wrap=False, width=width)


def _print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n")


def _parse_since(value: str | None) -> dt.datetime | None:
    if value is None:
        return None
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(
            f"{value!r} is not a date (use YYYY-MM-DD)", param_hint="--since"
        ) from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def _view(store: RunStore, run: str) -> RunView:
    transcript = store.load_transcript(run)
    evaluation = store.load_evaluation(transcript.meta.run_id)
    return RunView(transcript, evaluation, try_load_pack(transcript.meta.pack_id))


def list_command(
    scenario: Annotated[
        str | None, typer.Option("--scenario", help="Only runs of this scenario id.")
    ] = None,
    since: Annotated[
        str | None,
        typer.Option(
            "--since", help="Only runs started on or after DATE (YYYY-MM-DD).", metavar="DATE"
        ),
    ] = None,
    transcripts_dir: TranscriptsDir = None,
    as_json: JsonFlag = False,
) -> None:
    """List stored runs: id, scenario, date, models, rounds, outcome, fidelity when evaluated."""
    rows = RunStore(transcripts_root(transcripts_dir)).list_runs(
        scenario=scenario, since=_parse_since(since)
    )
    if as_json:
        _print_json([row.model_dump(mode="json") for row in rows])
        return
    _console(piped_width=150).print(runs_table(rows))


def show_command(
    run: RunRef,
    round_: Annotated[int | None, typer.Option("--round", help="Only this round.")] = None,
    speaker: Annotated[str | None, typer.Option("--speaker", help="Only this persona id.")] = None,
    private: Annotated[
        bool,
        typer.Option(
            "--private", help="Include caucus turns, principal directives and rationales."
        ),
    ] = False,
    transcripts_dir: TranscriptsDir = None,
    as_json: JsonFlag = False,
) -> None:
    """Show the talks, one panel per turn, with evaluator verdicts inline when evaluated."""
    view = _view(RunStore(transcripts_root(transcripts_dir)), run)
    selected = list(select_turns(view, round_, speaker, private))
    if as_json:
        turns = []
        for index, turn in selected:
            data = turn.model_dump(mode="json")
            if not private and data.get("move"):
                data["move"].pop("rationale", None)
            data["private"] = is_private(turn)
            data["verdicts"] = [v.model_dump(mode="json") for v in view.verdicts(index)]
            turns.append(data)
        t = view.transcript
        _print_json(
            {
                "run_id": t.meta.run_id,
                "status": t.status,
                "meta": t.meta.model_dump(mode="json"),
                "outcome": t.outcome.model_dump(mode="json") if t.outcome else None,
                "evaluated": view.evaluation is not None,
                "turns": turns,
            }
        )
        return
    console = _console()
    console.print(run_header(view))
    if not selected:
        console.print("no turns match", style="dim")
    for index, turn in selected:
        console.print(turn_panel(view, index, turn, private))
    if not private:
        hidden = sum(1 for t in view.transcript.turns if is_private(t))
        if hidden:
            console.print(f"{hidden} private turn(s) hidden; --private shows them", style="dim")


def export_command(
    run: RunRef,
    fmt: Annotated[ExportFormat, typer.Option("--format", "-f", help="md, html or jsonl.")],
    output: Annotated[
        Path | None,
        typer.Option(
            "--output", "-o", help="Output file (default: transcript.<format> in the run folder)."
        ),
    ] = None,
    transcripts_dir: TranscriptsDir = None,
) -> None:
    """Export a run as Markdown, a self-contained HTML viewer, or plain {speaker, text} JSONL."""
    store = RunStore(transcripts_root(transcripts_dir))
    view = _view(store, run)
    if fmt is ExportFormat.jsonl:
        from harness.transcript.turns_jsonl import dumps_plain_turns, plain_turns

        text = dumps_plain_turns(plain_turns(view.transcript))
    elif fmt is ExportFormat.md:
        from harness.transcript.export_md import export_markdown

        text = export_markdown(view)
    else:
        from harness.transcript.export_html import export_html

        text = export_html(view)
    target = output or store.run_dir(view.transcript.meta.run_id) / f"transcript.{fmt.value}"
    atomic_write_text(target, text)
    _console().print(f"wrote {target}", markup=False)


def diff_command(
    run_a: Annotated[str, typer.Argument(help="First run (e.g. the parent).")],
    run_b: Annotated[str, typer.Argument(help="Second run (e.g. the fork).")],
    show_same: Annotated[
        bool, typer.Option("--all", help="Also show rows that do not differ.")
    ] = False,
    transcripts_dir: TranscriptsDir = None,
    as_json: JsonFlag = False,
) -> None:
    """Compare two runs by round and speaker: where stances and clause statuses diverge."""
    store = RunStore(transcripts_root(transcripts_dir))
    result = diff_runs(store.load_transcript(run_a), store.load_transcript(run_b))
    if as_json:
        _print_json(result.model_dump(mode="json"))
        return
    console = _console(piped_width=150)
    for renderable in diff_renderables(result, show_same=show_same):
        console.print(renderable)


def register(app: typer.Typer) -> None:
    """Add this module's commands to the root app."""
    app.command("list")(list_command)
    app.command("show")(show_command)
    app.command("export")(export_command)
    app.command("diff")(diff_command)
