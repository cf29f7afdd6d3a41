"""Run, resume and fork simulations, with SQLite checkpoints and transcript saving.

A run lives in `transcripts/<run-id>/`: `request.json` (what was asked, so a resume needs
nothing but the id), `checkpoints.sqlite` (LangGraph's checkpoint after every node),
`transcript.json` (rewritten atomically as the run goes) and `prompts/<hash>.json`.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal, NamedTuple, Protocol

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from harness import __version__
from harness.errors import EndpointError, ImpasseError, PackError, TranscriptError
from harness.files import atomic_write_text, remove_stale_temps
from harness.graph.build import compiled_graph
from harness.graph.checkpointer import open_checkpointer
from harness.graph.state import NegotiationState, RunContext
from harness.llm.config import CLIOverrides
from harness.llm.types import ChatMessage, StructuredChat, Usage
from harness.pack.load import load_pack
from harness.pack.models import Persona, PersonaPack, Scenario, ScriptedEvent
from harness.pack.yamldoc import read_yaml
from harness.transcript.model import RoleModel, RunMeta, Transcript, Turn
from harness.transcript.store import PROMPTS_DIR, TRANSCRIPT_FILE, RunStore

REQUEST_FILE = "request.json"


class SpeakerModels(Protocol):
    """What the engine needs from the LLM layer (`harness.llm.router.ModelRouter` has it)."""

    def for_speaker(self, persona_id: str, side: str) -> StructuredChat: ...

    def roles(self) -> list[RoleModel]: ...


class RunRequest(BaseModel):
    """What a user asked for; saved in the run folder so `resume` needs only the run id."""

    model_config = ConfigDict(extra="forbid")

    pack: str = "us-china-2019"
    scenario: str
    rounds: int | None = Field(default=None, ge=1, le=200, description="Overrides max_rounds.")
    seed: int | None = None
    summary_window: int = Field(default=2, ge=1, description="Rounds kept verbatim in prompts.")
    temperature: float = Field(default=0.7, ge=0.0, le=2.0)
    max_tokens: int = Field(default=1536, ge=16)
    persona_files: dict[str, str] = Field(
        default_factory=dict, description="Persona id -> YAML file of a persona variant."
    )
    llm: CLIOverrides = Field(
        default_factory=CLIOverrides,
        description="Model flags the run was started with (never a key); resume reuses them.",
    )

    @field_validator("llm")
    @classmethod
    def _no_key(cls, llm: CLIOverrides) -> CLIOverrides:
        """A key must never reach request.json."""
        return llm.model_copy(update={"api_key": None}) if llm.api_key is not None else llm


class RunEvent(BaseModel):
    """Progress reported to a caller (the CLI draws it)."""

    kind: Literal["started", "round", "turn", "finished"]
    run_id: str
    round: int = 0
    max_rounds: int = 0
    turn: Turn | None = None


OnEvent = Callable[[RunEvent], None]


def load_persona_variant(path: str | Path, persona_id: str) -> Persona:
    """A persona variant from YAML; it must keep the id it replaces.

    Read like a pack file: errors name the file, line and field.
    """
    file = Path(path)
    doc, problem = read_yaml(file)
    if problem is not None:
        raise problem.to_error()
    assert doc is not None
    persona, problems = doc.validate(Persona, doc.data)
    if problems:
        raise problems[0].to_error()
    assert persona is not None
    if persona.id != persona_id:
        wrong = doc.problem(("id",), f"persona id is {persona.id!r} but it replaces {persona_id!r}")
        raise PackError(
            wrong.message,
            location=wrong.location,
            field="id",
            fix="keep the id of the persona the variant replaces",
        )
    return persona


def _scenario(pack: PersonaPack, scenario_id: str) -> Scenario:
    try:
        return pack.scenarios[scenario_id]
    except KeyError:
        known = ", ".join(sorted(pack.scenarios))
        raise PackError(
            f"unknown scenario {scenario_id!r}", field="scenario", fix=f"choose one of: {known}"
        ) from None


def _thread(run_id: str) -> dict[str, Any]:
    return {"configurable": {"thread_id": run_id}}


class _Session:
    """One process's work on one run: context, transcript persistence, progress events."""

    def __init__(
        self,
        store: RunStore,
        run_id: str,
        request: RunRequest,
        models: SpeakerModels,
        meta: RunMeta | None,
        on_event: OnEvent | None,
        pack: PersonaPack | None = None,
    ) -> None:
        self.store = store
        self.run_id = run_id
        self.request = request
        self.on_event = on_event
        self.pack = pack or load_pack(request.pack)
        self.scenario = _scenario(self.pack, request.scenario)
        self.max_rounds = request.rounds or self.scenario.max_rounds
        self.pending_prompts: dict[str, list[ChatMessage]] = {}
        self.context = RunContext(
            run_id=run_id,
            pack=self.pack,
            scenario=self.scenario,
            max_rounds=self.max_rounds,
            models=models,
            seed=request.seed,
            summary_window=request.summary_window,
            temperature=request.temperature,
            max_tokens=request.max_tokens,
            record_prompt=self.pending_prompts.__setitem__,
        )
        self.meta = meta or RunMeta(
            run_id=run_id,
            pack_id=self.pack.id,
            pack_hash=self.pack.content_hash,
            source_sha256=self.pack.source.sha256,
            scenario_id=self.scenario.id,
            models=models.roles(),
            seed=request.seed,
            max_rounds=self.max_rounds,
            impasse_version=__version__,
            started_at=dt.datetime.now(dt.UTC),
        )
        self.seen_turns = 0

    def emit(self, kind: str, **fields: Any) -> None:
        if self.on_event is not None:
            self.on_event(
                RunEvent(kind=kind, run_id=self.run_id, max_rounds=self.max_rounds, **fields)  # type: ignore[arg-type]
            )

    def transcript(
        self, state: NegotiationState, status: str, error: str | None = None
    ) -> Transcript:
        usage = sum((t.usage for t in state.turns), Usage())
        meta = self.meta.model_copy(
            update={
                "usage": usage,
                "retries": sum(t.retries for t in state.turns),
                "ended_at": dt.datetime.now(dt.UTC) if status != "running" else None,
            }
        )
        return Transcript(
            status=status,  # type: ignore[arg-type]
            error=error,
            meta=meta,
            turns=state.turns,
            clauses=state.clause_history,
            backtracking=state.backtracking,
            outcome=state.outcome,
            summaries=state.summaries,
        )

    def save(
        self, state: NegotiationState, status: str = "running", error: str | None = None
    ) -> Transcript:
        return self.write(self.take_prompts(), self.transcript(state, status, error))

    def take_prompts(self) -> dict[str, list[ChatMessage]]:
        """The prompts recorded since the last save (taken on the event loop's thread)."""
        pending = dict(self.pending_prompts)
        self.pending_prompts.clear()
        return pending

    def write(self, prompts: dict[str, list[ChatMessage]], transcript: Transcript) -> Transcript:
        # The transcript after each turn is atomic but not fsynced (a killed process loses
        # nothing); the run's last save, complete or stopped, is durable.
        if prompts:
            self.store.save_prompts(self.run_id, prompts)
        self.store.save_transcript(transcript, durable=transcript.status != "running")
        return transcript

    def observe(self, state: NegotiationState) -> bool:
        """Report new turns and rounds; True when the transcript should be saved."""
        changed = False
        for turn in state.turns[self.seen_turns :]:
            self.emit("turn", round=turn.round, turn=turn)
            changed = True
        self.seen_turns = len(state.turns)
        return changed

    async def drive(self, graph_input: NegotiationState | None) -> Transcript:
        """Run the graph to the end (or to an error), saving the transcript as it goes."""
        run_dir = self.store.run_dir(self.run_id)
        state = NegotiationState()
        async with open_checkpointer(run_dir) as saver:
            compiled = compiled_graph(saver)
            config = _thread(self.run_id)
            existing = await compiled.aget_state(config)
            if existing.values:
                state = NegotiationState.model_validate(existing.values)
                self.seen_turns = len(state.turns)
                # Finished: nothing next and no task. A kill after a step's writes were saved but
                # before its checkpoint leaves `next` empty with that task still listed.
                if not existing.next and not existing.tasks:
                    return self.save(state, "complete")
                graph_input = None
            self.emit("started", round=state.round)
            last_round = state.round
            writing: asyncio.Future[Transcript] | None = None
            try:
                async for values in compiled.astream(
                    graph_input,
                    config,
                    context=self.context,
                    stream_mode="values",
                    durability="sync",
                ):
                    state = NegotiationState.model_validate(values)
                    if state.round != last_round:
                        last_round = state.round
                        self.emit("round", round=state.round)
                    if self.observe(state) or state.outcome is not None:
                        # The transcript is written in a thread while the next step runs (the
                        # checkpoint, not this file, is what resume reads); writes stay in order.
                        if writing is not None:
                            await writing
                        writing = asyncio.ensure_future(
                            asyncio.to_thread(
                                self.write, self.take_prompts(), self.transcript(state, "running")
                            )
                        )
                if writing is not None:
                    await writing
            except ImpasseError as error:
                if writing is not None:
                    await asyncio.wait([writing])
                self.save(state, "error", error.one_line())
                raise EndpointError(
                    f"run {self.run_id} stopped: {error.one_line()}",
                    fix=f"its checkpoint is intact; continue with: impasse resume {self.run_id}",
                ) from None
        transcript = self.save(state, "complete")
        self.emit("finished", round=state.round)
        return transcript


def _write_request(store: RunStore, run_id: str, request: RunRequest) -> None:
    atomic_write_text(store.run_dir(run_id) / REQUEST_FILE, request.model_dump_json(indent=2))


def read_request(store: RunStore, run_id: str) -> RunRequest:
    path = store.run_dir(run_id) / REQUEST_FILE
    try:
        return RunRequest.model_validate_json(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise TranscriptError("no request.json: not a run folder", location=path) from None
    except ValidationError as error:
        first = error.errors()[0]
        field = ".".join(str(p) for p in first["loc"]) or "(root)"
        raise TranscriptError(first["msg"], location=path, field=field) from None


class _Checked(NamedTuple):
    pack: PersonaPack
    scenario: Scenario
    variants: dict[str, Persona]


def _checked_variants(request: RunRequest) -> _Checked:
    """The request's pack, scenario and persona variants, checked against the pack."""
    pack = load_pack(request.pack)
    scenario = _scenario(pack, request.scenario)
    variants: dict[str, Persona] = {}
    for pid, path in request.persona_files.items():
        if pid not in pack.personas:
            raise PackError(f"unknown persona {pid!r}", field="--set-persona")
        variant = load_persona_variant(path, pid)
        if variant.side != pack.personas[pid].side:
            raise PackError(f"variant of {pid!r} changes its side", field="side", location=path)
        variants[pid] = variant
    return _Checked(pack, scenario, variants)


async def run_scenario(
    request: RunRequest,
    models: SpeakerModels,
    *,
    store: RunStore,
    on_event: OnEvent | None = None,
    run_id: str | None = None,
) -> Transcript:
    """Start a new run of `request.scenario` and drive it to its end."""
    checked = _checked_variants(request)  # fail before creating a run folder
    run_id = run_id or store.new_run_id(request.scenario)
    _write_request(store, run_id, request)
    session = _Session(store, run_id, request, models, None, on_event, checked.pack)
    return await session.drive(NegotiationState(persona_overrides=checked.variants))


async def resume_run(
    run_ref: str, models: SpeakerModels, *, store: RunStore, on_event: OnEvent | None = None
) -> Transcript:
    """Continue a run from its last checkpoint: no turn lost, none repeated."""
    run_id = store.resolve(run_ref)
    request = read_request(store, run_id)
    # A kill -9 mid-write leaves a temp file beside the intact old one: sweep it.
    run_dir = store.run_dir(run_id)
    remove_stale_temps(run_dir, (TRANSCRIPT_FILE, REQUEST_FILE))
    remove_stale_temps(run_dir / PROMPTS_DIR, ("*",))
    meta = None
    try:
        meta = store.load_transcript(run_id).meta
    except TranscriptError:
        meta = None  # killed before the first save: the checkpoint still has everything
    session = _Session(store, run_id, request, models, meta, on_event)
    return await session.drive(None)


async def _state_after_round(store: RunStore, run_id: str, at_round: int) -> NegotiationState:
    async with open_checkpointer(store.run_dir(run_id)) as saver:
        compiled = compiled_graph(saver)
        async for snapshot in compiled.aget_state_history(_thread(run_id)):
            values = snapshot.values
            if values.get("round") == at_round and snapshot.next == ("open_round",):
                return NegotiationState.model_validate(values)
            if values.get("round") == at_round and values.get("outcome") is not None:
                return NegotiationState.model_validate(values)
    raise TranscriptError(
        f"run {run_id} has no checkpoint at the end of round {at_round}",
        field="--at-round",
        fix="choose a round the parent run completed",
    )


async def fork_run(
    run_ref: str,
    at_round: int,
    models: SpeakerModels,
    *,
    store: RunStore,
    event_text: str | None = None,
    persona_files: dict[str, str] | None = None,
    rounds: int | None = None,
    llm: CLIOverrides | None = None,
    on_event: OnEvent | None = None,
) -> Transcript:
    """A counterfactual branch from the end of round `at_round` of a run, as a new run."""
    parent_id = store.resolve(run_ref)
    parent_request = read_request(store, parent_id)
    updates: dict[str, Any] = {
        "persona_files": {**parent_request.persona_files, **(persona_files or {})}
    }
    if rounds is not None:
        updates["rounds"] = rounds
    if llm is not None:
        updates["llm"] = llm
    request = RunRequest.model_validate({**parent_request.model_dump(), **updates})
    parent_state = await _state_after_round(store, parent_id, at_round)
    pack, scenario, variants = _checked_variants(request)
    if at_round >= (request.rounds or scenario.max_rounds):
        raise TranscriptError(
            f"round {at_round} is the last round; nothing to fork",
            field="--at-round",
            fix="fork at an earlier round or give --rounds",
        )
    extra = list(parent_state.extra_events)
    if event_text:
        extra.append(
            ScriptedEvent(id=f"fork-{len(extra) + 1}", round=at_round + 1, text=event_text)
        )
    state = parent_state.model_copy(
        update={"extra_events": extra, "persona_overrides": variants, "outcome": None}
    )
    run_id = store.new_run_id(request.scenario)
    _write_request(store, run_id, request)
    session = _Session(store, run_id, request, models, None, on_event, pack)
    session.meta = session.meta.model_copy(
        update={"parent_run": parent_id, "fork_round": at_round, "fork_note": event_text}
    )
    async with open_checkpointer(store.run_dir(run_id)) as saver:
        compiled = compiled_graph(saver)
        values = {name: getattr(state, name) for name in NegotiationState.model_fields}
        await compiled.aupdate_state(_thread(run_id), values, as_node="close_round")
    session.save(state)
    return await session.drive(None)
