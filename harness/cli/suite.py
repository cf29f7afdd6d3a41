"""`impasse suite run FILE` and `impasse suite plan FILE`: eval suites that can gate CI.

Exit codes: 0 every threshold passed, 1 a threshold failed (or runs ended in error beyond
`max_error_rate`), 2 bad input (the suite file, flags, configuration).
"""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path
from typing import Annotated, Self

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from harness.cli import options
from harness.eval.report import RunRecord, SuiteReport
from harness.eval.suite import RunSpec, load_suite
from harness.eval.suite_runner import STATE_FILE, Action, SuiteObserver, run_suite
from harness.graph.runner import RunEvent
from harness.llm.config import CLIOverrides
from harness.transcript.store import RunStore

console = Console(highlight=False)
suite_app = typer.Typer(
    help="Eval suites: a matrix of runs, scored, with thresholds (exit 1 when one fails).",
    no_args_is_help=True,
)

SuiteFile = Annotated[
    Path, typer.Argument(help="Suite YAML file, e.g. evals/suites/smoke.yaml.", show_default=False)
]


class SuiteDisplay(SuiteObserver):
    """Rich progress: one bar for the suite, one per active run (rounds), a line per result."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self.progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("[dim]{task.fields[note]}"),
            TimeElapsedColumn(),
            console=console,
            transient=True,
        )
        self.overall = self.progress.add_task("[bold]suite", total=None, note="")
        self.tasks: dict[str, TaskID] = {}

    def __enter__(self) -> Self:
        self.progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.progress.stop()

    def planned(self, specs: list[RunSpec], actions: dict[str, Action]) -> None:
        kept = sum(1 for a in actions.values() if a == "skip")
        resumed = sum(1 for a in actions.values() if a == "resume")
        self.progress.update(
            self.overall, total=len(specs), note=f"{kept} kept, {resumed} to resume"
        )
        if kept or resumed:
            self.console.print(
                f"[dim]resuming the suite: {kept} finished runs kept, {resumed} runs to resume[/dim]"
            )

    def started(self, spec: RunSpec, run_id: str, resumed: bool) -> None:
        note = "resuming" if resumed else "starting"
        self.tasks[spec.id] = self.progress.add_task(escape(spec.id), total=spec.rounds, note=note)

    def event(self, spec: RunSpec, event: RunEvent) -> None:
        task = self.tasks.get(spec.id)
        if task is None:
            return
        if event.kind in ("started", "round"):
            self.progress.update(
                task,
                total=event.max_rounds,
                completed=max(event.round - 1, 0),
                note=f"round {max(event.round, 1)}",
            )
        elif event.kind == "finished":
            self.progress.update(task, total=event.max_rounds, completed=event.max_rounds)

    def evaluating(self, spec: RunSpec) -> None:
        task = self.tasks.get(spec.id)
        if task is not None:
            self.progress.update(task, note="evaluating")

    def finished(self, spec: RunSpec, record: RunRecord) -> None:
        task = self.tasks.pop(spec.id, None)
        if task is not None:
            self.progress.remove_task(task)
        self.progress.advance(self.overall)
        where = escape(f"{spec.id} ({record.run_id or 'no run'})")
        if record.status == "error":
            self.console.print(
                f"[red]x[/red] {where}: {escape(record.error or 'error')}", soft_wrap=True
            )
            return
        ev = record.evaluation
        summary = "not evaluated"
        if ev is not None:
            flag = (
                f"[red]{ev.run.red_line_violations} red-line violations[/red]"
                if ev.run.red_line_violations
                else "no violation"
            )
            summary = f"{escape(ev.run.outcome or '-')}, {flag}"
        self.console.print(f"[green]ok[/green] {where}: {summary}", soft_wrap=True)


def _print_report(report: SuiteReport, paths: list[Path]) -> None:
    table = Table("threshold", "limit", "value", "result", title=f"suite {report.suite}")
    for t in report.thresholds:
        result = "[green]pass[/green]" if t.passed else "[bold red]FAIL[/bold red]"
        value = "-" if t.value is None else f"{t.value:.2f}"
        table.add_row(escape(t.name), f"{t.limit:.2f}", value, f"{result} {escape(t.detail)}")
    console.print(table)
    agg = report.aggregates
    fidelity = (
        "-"
        if agg.fidelity is None
        else f"{agg.fidelity.mean:.2f} [{agg.fidelity.low:.2f}, {agg.fidelity.high:.2f}]"
    )
    console.print(
        f"{agg.runs} runs ({agg.complete} complete, {agg.errors} in error); fidelity {fidelity}; "
        f"{agg.retries} retries in runs, {report.session.retries} retries this invocation"
    )
    console.print(f"report: {', '.join(str(p) for p in paths)}", soft_wrap=True)
    verdict = "[bold green]passed[/bold green]" if report.passed else "[bold red]failed[/bold red]"
    console.print(f"suite {escape(report.suite)} {verdict}")


@suite_app.command("run")
def run_command(
    file: SuiteFile,
    parallel: Annotated[
        int,
        typer.Option(
            "--parallel",
            "-j",
            min=1,
            max=256,
            help="Runs in flight at once.",
            envvar="IMPASSE_SUITE_PARALLEL",
        ),
    ] = 4,
    workers: Annotated[
        int | None,
        typer.Option(
            "--workers",
            min=1,
            max=64,
            help=(
                "Processes for the simulations (default: one per core, at most 4). They split "
                "the endpoint's concurrency limit; 1 runs everything in this process. The "
                "embedded model serves one process, so it always gets one."
            ),
            envvar="IMPASSE_SUITE_WORKERS",
            show_default=False,
        ),
    ] = None,
    out: Annotated[
        Path | None, typer.Option("--out", help="Report folder (default reports/<suite name>).")
    ] = None,
    transcripts_dir: options.TranscriptsDir = None,
    cache: options.Cache = None,
    base_url: Annotated[
        str | None,
        typer.Option(
            "--base-url", help="Endpoint for every model setting of the suite (overrides the file)."
        ),
    ] = None,
    model: Annotated[
        str | None,
        typer.Option("--model", help="Default model for every model setting of the suite."),
    ] = None,
    offline: Annotated[
        bool,
        typer.Option(
            "--offline",
            help="Score with rules and statistics only, even if the suite names a judge.",
        ),
    ] = False,
) -> None:
    """Run a suite's matrix (resuming a half-finished one), evaluate, write the report folder."""
    loaded = load_suite(file)
    if offline:
        loaded = loaded.offline()
    out_dir = out if out is not None else Path("reports") / loaded.suite.name
    store = RunStore(options.transcripts_root(transcripts_dir))
    overrides = CLIOverrides(base_url=base_url, model=model, cache=cache)

    async def main() -> SuiteReport:
        with SuiteDisplay(console) as display:
            return await run_suite(
                loaded,
                store=store,
                out_dir=out_dir,
                parallel=parallel,
                overrides=overrides,
                observer=display,
                workers=workers,
            )

    report = asyncio.run(main())
    _print_report(report, [out_dir / n for n in ("report.json", "report.md", "report.html")])
    if not report.passed:
        raise typer.Exit(1)


@suite_app.command("plan")
def plan_command(
    file: SuiteFile,
    as_json: Annotated[bool, typer.Option("--json", help="Print the run specs as JSON.")] = False,
    out: Annotated[
        Path | None, typer.Option("--out", help="Report folder whose state to show.")
    ] = None,
) -> None:
    """Validate a suite file and list its run specs (and, if started, their state)."""
    from harness.eval.suite_runner import read_state

    loaded = load_suite(file)
    out_dir = out if out is not None else Path("reports") / loaded.suite.name
    state = read_state(out_dir / STATE_FILE)
    runs = state.runs if state else {}
    if as_json:
        rows = [
            {
                **s.model_dump(mode="json"),
                "state": runs[s.id].model_dump() if s.id in runs else None,
            }
            for s in loaded.specs
        ]
        sys.stdout.write(json.dumps(rows, indent=2) + "\n")
        return
    table = Table("spec", "run", "status", title=f"{loaded.suite.name}: {len(loaded.specs)} runs")
    for spec in loaded.specs:
        entry = runs.get(spec.id)
        status = "-" if entry is None else entry.status + (" +eval" if entry.evaluated else "")
        table.add_row(escape(spec.id), escape(entry.run_id or "-") if entry else "-", status)
    console.print(table)


def register(app: typer.Typer) -> None:
    """Add the `suite` command group to the root app."""
    app.add_typer(suite_app, name="suite")
