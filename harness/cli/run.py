"""`impasse run`, `impasse resume`, `impasse fork`: simulate a scenario, continue it, branch it."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from harness.cli import options
from harness.cli.render_run import RunDisplay
from harness.errors import ConfigError
from harness.graph.runner import (
    RunRequest,
    SpeakerModels,
    fork_run,
    read_request,
    resume_run,
    run_scenario,
)
from harness.llm.config import CLIOverrides, resolve_settings
from harness.llm.router import open_router
from harness.transcript.model import Transcript
from harness.transcript.store import RunStore

console = Console(highlight=False)


def _overrides(
    model: str | None,
    model_for: list[str] | None,
    endpoint_for: list[str] | None,
    base_url: str | None,
    model_path: Path | None,
    cache: bool | None,
) -> CLIOverrides:
    return CLIOverrides(
        model=model,
        model_for=model_for or [],
        endpoint_for=endpoint_for or [],
        base_url=base_url,
        model_path=model_path,
        cache=cache,
    )


def _with_recorded(store: RunStore, run_id: str, given: CLIOverrides) -> CLIOverrides:
    """The model flags a run was started with, overridden by any flag given now."""
    recorded = read_request(store, run_id).llm
    now = given.model_dump(exclude_unset=False)
    merged = {name: value for name, value in now.items() if value is not None and value != []}
    return recorded.model_copy(update=merged)


def _persona_files(values: list[str] | None) -> dict[str, str]:
    files: dict[str, str] = {}
    for value in values or []:
        pid, sep, path = value.partition("=")
        if not sep or not pid or not path:
            raise ConfigError(
                f"bad value {value!r}",
                field="--set-persona",
                fix="use PERSONA_ID=path/to/persona.yaml",
            )
        files[pid.strip()] = path.strip()
    return files


def _drive(
    overrides: CLIOverrides,
    work: Callable[[SpeakerModels, RunDisplay], Awaitable[Transcript]],
    show_private: bool,
) -> Transcript:
    settings = resolve_settings(overrides)

    async def main() -> Transcript:
        async with open_router(settings) as router:
            with RunDisplay(console, show_private) as display:
                return await work(router, display)

    return asyncio.run(main())


def _closing(transcript: Transcript) -> None:
    outcome = transcript.outcome
    run_id = transcript.meta.run_id
    if outcome is not None:
        keep = "talks continue" if outcome.talks_continue else "talks end"
        console.print(f"[bold]outcome:[/bold] {outcome.result} ({keep}): {outcome.reason}")
    usage = transcript.meta.usage
    console.print(
        f"[dim]{len(transcript.turns)} turns, {usage.prompt_tokens} prompt + "
        f"{usage.completion_tokens} completion tokens, {transcript.meta.retries} retries[/dim]"
    )
    console.print(
        f"run {run_id} saved; review it with: impasse show {run_id} | "
        f"impasse export {run_id} --format html | impasse eval {run_id}",
        soft_wrap=True,
    )


def register(app: typer.Typer) -> None:
    @app.command("run")
    def run_command(
        scenario: Annotated[str, typer.Option("--scenario", "-s", help="Scenario id of the pack.")],
        pack: options.Pack = "us-china-2019",
        rounds: Annotated[
            int | None,
            typer.Option(
                "--rounds", "-r", min=1, max=200, help="Rounds (default: the scenario's maximum)."
            ),
        ] = None,
        seed: Annotated[
            int | None, typer.Option("--seed", help="Seed passed to the endpoint.")
        ] = None,
        set_persona: Annotated[
            list[str] | None,
            typer.Option(
                "--set-persona", help="PERSONA_ID=FILE.yaml: play a persona variant; repeatable."
            ),
        ] = None,
        private: Annotated[
            bool, typer.Option("--private", help="Also print caucus turns and directives.")
        ] = False,
        transcripts_dir: options.TranscriptsDir = None,
        model: options.Model = None,
        model_for: options.ModelFor = None,
        endpoint_for: options.EndpointFor = None,
        base_url: options.BaseUrl = None,
        model_path: options.ModelPath = None,
        cache: options.Cache = None,
    ) -> None:
        """Simulate a scenario round by round and save the transcript."""
        overrides = _overrides(model, model_for, endpoint_for, base_url, model_path, cache)
        request = RunRequest(
            pack=pack,
            scenario=scenario,
            rounds=rounds,
            seed=seed,
            persona_files=_persona_files(set_persona),
            llm=overrides,
        )
        store = RunStore(options.transcripts_root(transcripts_dir))
        transcript = _drive(
            overrides,
            lambda models, display: run_scenario(request, models, store=store, on_event=display),
            private,
        )
        _closing(transcript)

    @app.command("resume")
    def resume_command(
        run: Annotated[str, typer.Argument(help="Run id (or a unique prefix) to continue.")],
        private: Annotated[
            bool, typer.Option("--private", help="Also print private turns.")
        ] = False,
        transcripts_dir: options.TranscriptsDir = None,
        model: options.Model = None,
        model_for: options.ModelFor = None,
        endpoint_for: options.EndpointFor = None,
        base_url: options.BaseUrl = None,
        model_path: options.ModelPath = None,
        cache: options.Cache = None,
    ) -> None:
        """Continue a stopped run from its last checkpoint, with no turn lost or repeated."""
        store = RunStore(options.transcripts_root(transcripts_dir))
        run_id = store.resolve(run)  # an unknown id fails before a model starts
        overrides = _with_recorded(
            store, run_id, _overrides(model, model_for, endpoint_for, base_url, model_path, cache)
        )
        transcript = _drive(
            overrides,
            lambda models, display: resume_run(run, models, store=store, on_event=display),
            private,
        )
        _closing(transcript)

    @app.command("fork")
    def fork_command(
        run: Annotated[str, typer.Argument(help="Parent run id (or a unique prefix).")],
        at_round: Annotated[
            int, typer.Option("--at-round", min=1, help="Branch after this round of the parent.")
        ],
        event: Annotated[
            str | None, typer.Option("--event", help="A public event injected at the next round.")
        ] = None,
        set_persona: Annotated[
            list[str] | None,
            typer.Option("--set-persona", help="PERSONA_ID=FILE.yaml; repeatable."),
        ] = None,
        rounds: Annotated[
            int | None, typer.Option("--rounds", "-r", min=1, max=200, help="New maximum rounds.")
        ] = None,
        private: Annotated[
            bool, typer.Option("--private", help="Also print private turns.")
        ] = False,
        transcripts_dir: options.TranscriptsDir = None,
        model: options.Model = None,
        model_for: options.ModelFor = None,
        endpoint_for: options.EndpointFor = None,
        base_url: options.BaseUrl = None,
        model_path: options.ModelPath = None,
        cache: options.Cache = None,
    ) -> None:
        """Start a counterfactual branch of a run from its checkpoint after round K."""
        store = RunStore(options.transcripts_root(transcripts_dir))
        run_id = store.resolve(run)
        files = _persona_files(set_persona)
        overrides = _with_recorded(
            store, run_id, _overrides(model, model_for, endpoint_for, base_url, model_path, cache)
        )
        transcript = _drive(
            overrides,
            lambda models, display: fork_run(
                run,
                at_round,
                models,
                store=store,
                event_text=event,
                persona_files=files,
                rounds=rounds,
                llm=overrides,
                on_event=display,
            ),
            private,
        )
        console.print(f"[dim]forked from {transcript.meta.parent_run} after round {at_round}[/dim]")
        _closing(transcript)
