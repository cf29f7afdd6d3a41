"""`impasse eval`: score a run or plain turns for fidelity, or calibrate the evaluator.

One command with three forms, so that `impasse eval RUN` and `impasse eval calibrate` both
parse (a run id can never be the word `calibrate`: run ids start with a date):

    impasse eval RUN [--judge-model M | --offline] [--json]     store evaluation.json
    impasse eval --turns FILE.jsonl --pack us-china-2019 [--json]
    impasse eval calibrate [--split dev] [--json]
"""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from harness.cli.options import TranscriptsDir, transcripts_root
from harness.errors import EvalError
from harness.eval.model import Evaluation

CALIBRATE = "calibrate"


def _console() -> Console:
    width = None if sys.stdout.isatty() else 110
    return Console(file=sys.stdout, highlight=False, soft_wrap=False, width=width)


def _print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n")


def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def render_evaluation(evaluation: Evaluation, console: Console) -> None:
    """The rich summary: personas, red-line violations with quotes, the run."""
    console.print(
        f"[bold]Fidelity[/bold] pack {evaluation.pack_id}"
        + (f", run {evaluation.run_id}" if evaluation.run_id else "")
        + f" - layers: {', '.join(evaluation.layers)}"
        + (f" (judge {evaluation.judge_model})" if evaluation.judge_model else "")
        + f" - evaluator {evaluation.evaluator_version}"
    )
    table = Table("persona", "turns", "red-line violations", "consistency", "coverage", "drift")
    for name, p in sorted(evaluation.personas.items()):
        flag = f"[bold red]{p.red_line_violations}[/bold red]" if p.red_line_violations else "0"
        table.add_row(
            name, str(p.turns), flag, _fmt(p.consistency), _fmt(p.coverage),
            "-" if p.drift_round is None else f"round {p.drift_round}",
        )  # fmt: skip
    console.print(table)
    shown = 0
    for turn in evaluation.turns:
        for v in turn.verdicts:
            if v.verdict == "violated" and v.red_line:
                if shown == 0:
                    console.print("[bold red]Red-line violations[/bold red]")
                shown += 1
                where = turn.turn_id or f"turn {turn.index}"
                console.print(
                    f"  {where} {turn.speaker} broke [bold]{v.entry}[/bold] "
                    f"({v.layer}, {v.confidence:.2f}): \u201c{v.quote}\u201d",
                    markup=True,
                )
    if not shown:
        console.print("[green]No red-line violation found.[/green]")
    run = evaluation.run
    if run.outcome or run.documented_outcome:
        console.print(
            f"Outcome {run.outcome or '-'} (talks continue: {run.talks_continue}) vs documented "
            f"{run.documented_outcome or '-'} (talks continue: {run.documented_talks_continue}):"
            f" {'match' if run.outcome_matches else 'no match'}"
        )
    if run.backtracking_events:
        console.print(f"Backtracking events: {run.backtracking_events}")
    if run.private_leaks:
        console.print(f"[yellow]Private leaks:[/yellow] {', '.join(run.private_leaks)}")
    if run.injection_turns:
        console.print(
            f"[yellow]Prompt-injection attempts in turns:[/yellow] "
            f"{', '.join(map(str, run.injection_turns))}"
        )
    if run.unscored:
        console.print(f"[yellow]{run.unscored} judge verdicts unscored (left ambiguous)[/yellow]")


def turns_document(evaluation: Evaluation) -> dict[str, Any]:
    """The public `--turns --json` document: turns with the contract fields, personas, run."""
    keep = {"issue", "entry", "verdict", "confidence", "quote", "layer"}
    return {
        "turns": [
            {
                "index": t.index,
                "speaker": t.speaker,
                "verdicts": [v.model_dump(include=keep) for v in t.verdicts],
            }
            for t in evaluation.turns
        ],
        "personas": {k: v.model_dump(mode="json") for k, v in evaluation.personas.items()},
        "run": evaluation.run.model_dump(mode="json"),
    }


def _judge_eval(target: Any, pack: Any, judge_model: str, k: int, *, plain: bool) -> Evaluation:
    from harness.eval.evaluate import aevaluate_transcript, aevaluate_turns
    from harness.llm.config import CLIOverrides, resolve_settings
    from harness.llm.router import open_router

    settings = resolve_settings(CLIOverrides(judge_model=judge_model))
    if settings.model is None and settings.base_url is not None:
        # Only the judge calls a model here: let it stand as the default role on that endpoint.
        settings = resolve_settings(CLIOverrides(judge_model=judge_model, model=judge_model))

    async def main() -> Evaluation:
        async with open_router(settings) as router:
            judge = router.for_judge()
            if judge is None:
                raise EvalError("no judge model configured", field="--judge-model")
            if plain:
                return await aevaluate_turns(
                    target, pack, judge=judge, judge_model=judge_model, k=k
                )
            return await aevaluate_transcript(
                target, pack, judge=judge, judge_model=judge_model, k=k
            )

    return asyncio.run(main())


def _calibrate(pack_ref: str, split: str, as_json: bool) -> None:
    from harness.eval.calibrate import calibrate
    from harness.pack.load import load_pack

    result = calibrate(load_pack(pack_ref), split)
    if as_json:
        _print_json(result.model_dump(mode="json"))
        return
    console = _console()
    console.print(
        f"[bold]Calibration[/bold] on {split} ({result.turns} turns), layers "
        f"{', '.join(result.layers)}, evaluator {result.evaluator_version}"
    )
    table = Table("red line", "tp", "fp", "fn", "precision", "recall", "F1")
    for key, m in [*result.per_red_line.items(), ("overall", result.overall)]:
        table.add_row(
            key, str(m["tp"]), str(m["fp"]), str(m["fn"]),
            _fmt(m["precision"]), _fmt(m["recall"]), _fmt(m["f1"]),  # type: ignore[arg-type]
        )  # fmt: skip
    console.print(table)
    console.print(
        f"False alarms on compliant turns: {result.false_alarms}/{result.compliant_turns}"
        f" = {_fmt(result.false_alarm_rate)}"
    )
    confusion = Table("gold \\ predicted", "violated", "upheld", "none")
    for gold, row in result.confusion.items():
        confusion.add_row(gold, *(str(row[p]) for p in ("violated", "upheld", "none")))
    console.print(confusion)


def eval_command(
    target: Annotated[
        str | None,
        typer.Argument(
            help="Run id, unique prefix or run folder; or the word 'calibrate'.",
            show_default=False,
        ),
    ] = None,
    turns: Annotated[
        Path | None,
        typer.Option("--turns", help="Score a JSONL file of {speaker, text} turns instead."),
    ] = None,
    pack: Annotated[
        str, typer.Option("--pack", help="Persona pack id or folder (for --turns, calibrate).")
    ] = "us-china-2019",
    judge_model: Annotated[
        str | None,
        typer.Option(
            "--judge-model",
            help="Add the LLM judge (layer 3) with this model (env IMPASSE_JUDGE_MODEL).",
            envvar="IMPASSE_JUDGE_MODEL",
        ),
    ] = None,
    offline: Annotated[
        bool, typer.Option("--offline", help="Rules and statistics only, never a model.")
    ] = False,
    k: Annotated[int, typer.Option("--k", min=1, help="Judge samples per verdict.")] = 3,
    split: Annotated[str, typer.Option("--split", help="Gold split for calibrate.")] = "dev",
    as_json: Annotated[
        bool, typer.Option("--json", help="Print JSON instead of the rich view.")
    ] = False,
    transcripts_dir: TranscriptsDir = None,
) -> None:
    """Score fidelity to the ledger turn by turn, or measure the evaluator on the gold set."""
    from harness.pack.load import load_pack

    use_judge = judge_model if judge_model and not offline else None
    if target == CALIBRATE:
        if turns is not None:
            raise EvalError("calibrate takes no --turns", field="--turns")
        _calibrate(pack, split, as_json)
        return
    if turns is not None:
        if target is not None:
            raise EvalError("give a RUN or --turns, not both", field="RUN")
        from harness.eval.evaluate import evaluate_turns
        from harness.transcript.turns_jsonl import read_plain_turns

        plain = read_plain_turns(turns)
        loaded = load_pack(pack)
        if use_judge:
            evaluation = _judge_eval(plain, loaded, use_judge, k, plain=True)
        else:
            evaluation = evaluate_turns(plain, loaded, where=str(turns))
        if as_json:
            _print_json(turns_document(evaluation))
        else:
            render_evaluation(evaluation, _console())
        return
    if target is None:
        raise EvalError("give a RUN, --turns FILE or 'calibrate'", field="RUN")
    from harness.eval.evaluate import evaluate_transcript
    from harness.transcript.store import RunStore

    store = RunStore(transcripts_root(transcripts_dir))
    transcript = store.load_transcript(target)
    loaded = load_pack(transcript.meta.pack_id)
    if use_judge:
        evaluation = _judge_eval(transcript, loaded, use_judge, k, plain=False)
    else:
        evaluation = evaluate_transcript(transcript, loaded)
    path = store.save_evaluation(transcript.meta.run_id, evaluation)
    if as_json:
        _print_json(evaluation.model_dump(mode="json"))
    else:
        render_evaluation(evaluation, _console())
        _console().print(f"Saved {path}")


def register(app: typer.Typer) -> None:
    """Add `impasse eval` to the root app."""
    app.command(
        "eval",
        help="Score a run or --turns for fidelity to the ledger; 'eval calibrate' measures the "
        "evaluator on the gold set.",
    )(eval_command)
