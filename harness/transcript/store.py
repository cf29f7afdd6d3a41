"""The transcripts folder: one folder per run, holding its transcript, prompts and evaluation.

    transcripts/<run-id>/transcript.json   the Transcript (harness.transcript.model)
    transcripts/<run-id>/prompts/<hash>.json   the exact messages sent, stored once by hash
    transcripts/<run-id>/evaluation.json   the Evaluation (harness.eval.model), when evaluated
    transcripts/<run-id>/transcript.{md,html,jsonl}   exports

Every write is atomic (`harness.files`). Every read validates and, on failure, names the file
and the field path, so a hand-edited or truncated file is easy to find and fix.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path
from typing import TypeVar

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from harness.errors import TranscriptError
from harness.eval.model import Evaluation
from harness.files import atomic_write_text
from harness.llm.types import ChatMessage
from harness.transcript.model import SCHEMA_VERSION, Transcript
from harness.transcript.runs import check_run_id, format_run_id, resolve_run_ref, run_folders

TRANSCRIPT_FILE = "transcript.json"
PROMPTS_DIR = "prompts"
EVALUATION_FILE = "evaluation.json"

M = TypeVar("M", bound=BaseModel)
_MESSAGES = TypeAdapter(list[ChatMessage])


def _check_digest(digest: str) -> str:
    if not re.fullmatch(r"[0-9a-zA-Z_-]{1,128}", digest):
        raise TranscriptError(f"not a prompt hash: {digest!r}", field="prompt_hash")
    return digest


class RunSummary(BaseModel):
    """One row of `impasse list`."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(description="The run id (its folder name).")
    scenario: str | None = Field(description="Scenario id; None when the transcript is unreadable.")
    started: dt.datetime | None = Field(description="When the run started (UTC).")
    models: list[str] = Field(default_factory=list, description="Distinct model names used.")
    rounds: int = Field(default=0, description="Rounds that have turns.")
    outcome: str | None = Field(default=None, description="Outcome result, when the run ended.")
    fidelity: float | None = Field(
        default=None,
        description="Mean consistency of the evaluated personas; None when not evaluated.",
    )
    status: str = Field(description="running, complete, error, or unreadable.")
    parent_run: str | None = Field(default=None, description="The run this one was forked from.")
    problem: str | None = Field(default=None, description="Why an unreadable run failed to load.")


def _format_validation(error: ValidationError, limit: int = 3) -> str:
    parts = []
    for item in error.errors()[:limit]:
        field = ".".join(str(p) for p in item["loc"]) or "(document)"
        parts.append(f"{field}: {item['msg']}")
    if error.error_count() > limit:
        parts.append(f"and {error.error_count() - limit} more errors")
    return "; ".join(parts)


def read_model(path: Path, model: type[M]) -> M:
    """Read and validate a JSON document, raising TranscriptError naming file and field."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise TranscriptError("file not found", location=path) from None
    except (OSError, UnicodeDecodeError) as error:
        raise TranscriptError(f"cannot read: {error}", location=path) from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise TranscriptError(
            f"invalid JSON: {error.msg}", location=f"{path}:{error.lineno}:{error.colno}"
        ) from None
    if model is Transcript and isinstance(data, dict):
        version = data.get("schema_version")
        if isinstance(version, int) and version > SCHEMA_VERSION:
            raise TranscriptError(
                f"schema_version {version} is newer than this impasse reads ({SCHEMA_VERSION})",
                location=path,
                fix="upgrade impasse",
            )
    try:
        return model.model_validate(data)
    except ValidationError as error:
        raise TranscriptError(
            f"invalid {model.__name__}: {_format_validation(error)}", location=path
        ) from None


class RunStore:
    """The transcripts folder (`--transcripts-dir`, `$IMPASSE_TRANSCRIPTS`, or ./transcripts)."""

    def __init__(self, root: Path | str) -> None:
        self.root = Path(root).expanduser()

    # --- run ids and folders -------------------------------------------------------------

    def new_run_id(self, scenario_id: str) -> str:
        """A fresh run id whose folder now exists; unique across threads and processes.

        Uniqueness comes from creating the folder with an exclusive mkdir, not from the random
        suffix alone: two runs started in the same second by two processes cannot both win.
        """
        self.root.mkdir(parents=True, exist_ok=True)
        for _ in range(1000):
            run_id = format_run_id(scenario_id)
            try:
                (self.root / run_id).mkdir()
            except FileExistsError:
                continue
            return run_id
        raise TranscriptError(f"could not allocate a run id in {self.root}")  # pragma: no cover

    def run_dir(self, run_id: str) -> Path:
        """The folder of `run_id` (created when missing)."""
        path = self.root / check_run_id(run_id)
        path.mkdir(parents=True, exist_ok=True)
        return path

    def resolve(self, run_ref: str) -> str:
        """The full run id for an id, a unique prefix, or a run folder path inside the root."""
        return resolve_run_ref(self.root, run_ref)

    def path_of(self, run_ref: str, filename: str = TRANSCRIPT_FILE) -> Path:
        """Path of a file in a resolved run's folder (not created)."""
        return self.root / self.resolve(run_ref) / filename

    # --- transcript ----------------------------------------------------------------------

    def save_transcript(self, transcript: Transcript, *, durable: bool = True) -> Path:
        """Write `<run-id>/transcript.json` atomically; returns its path.

        `durable=False` (a running run's saves after each turn) skips the fsyncs: the write is
        still atomic and survives a killed process; the run's last save is durable.
        """
        path = self.run_dir(transcript.meta.run_id) / TRANSCRIPT_FILE
        atomic_write_text(path, transcript.model_dump_json(indent=2) + "\n", durable=durable)
        return path

    def load_transcript(self, run_ref: str) -> Transcript:
        run_id = self.resolve(run_ref)
        path = self.root / run_id / TRANSCRIPT_FILE
        if not path.exists():
            raise TranscriptError(
                "the run folder has no transcript.json (the run may not have started)",
                location=self.root / run_id,
            )
        return read_model(path, Transcript)

    # --- prompts -------------------------------------------------------------------------

    def save_prompts(self, run_id: str, prompts: dict[str, list[ChatMessage]]) -> Path:
        """Store each prompt once, as `<run-id>/prompts/<hash>.json`; returns the folder.

        One small file per prompt keeps a turn's write O(1): a long run never rewrites the
        prompts of its earlier rounds. Each file is written once, so always durably.
        """
        folder = self.run_dir(run_id) / PROMPTS_DIR
        folder.mkdir(exist_ok=True)
        for digest, messages in prompts.items():
            path = folder / f"{_check_digest(digest)}.json"
            if not path.exists():
                data = _MESSAGES.dump_python(messages, mode="json")
                atomic_write_text(path, json.dumps(data, indent=1, ensure_ascii=False) + "\n")
        return folder

    def load_prompts(self, run_id: str) -> dict[str, list[ChatMessage]]:
        """Prompt hash -> messages; empty when the run stored none."""
        folder = self.root / self.resolve(run_id) / PROMPTS_DIR
        prompts: dict[str, list[ChatMessage]] = {}
        for path in sorted(folder.glob("*.json")):
            try:
                data = json.loads(path.read_text(encoding="utf-8"))
            except json.JSONDecodeError as error:
                raise TranscriptError(
                    f"invalid JSON: {error.msg}", location=f"{path}:{error.lineno}:{error.colno}"
                ) from None
            try:
                prompts[path.stem] = _MESSAGES.validate_python(data)
            except ValidationError as error:
                raise TranscriptError(
                    f"invalid prompt: {_format_validation(error)}", location=path
                ) from None
        return prompts

    # --- evaluation ----------------------------------------------------------------------

    def save_evaluation(self, run_id: str, evaluation: Evaluation) -> Path:
        path = self.run_dir(run_id) / EVALUATION_FILE
        atomic_write_text(path, evaluation.model_dump_json(indent=2) + "\n")
        return path

    def load_evaluation(self, run_ref: str) -> Evaluation | None:
        """The run's evaluation, or None when it has not been evaluated."""
        path = self.root / self.resolve(run_ref) / EVALUATION_FILE
        if not path.exists():
            return None
        return read_model(path, Evaluation)

    # --- listing -------------------------------------------------------------------------

    def list_runs(
        self, scenario: str | None = None, since: dt.date | dt.datetime | None = None
    ) -> list[RunSummary]:
        """Summaries of the stored runs, oldest first. Unreadable runs are listed, not fatal."""
        since_dt = _as_utc(since) if since is not None else None
        rows: list[RunSummary] = []
        for name in run_folders(self.root):
            if not (self.root / name / TRANSCRIPT_FILE).exists():
                continue
            row = self._summary(name)
            if scenario is not None and row.scenario != scenario:
                continue
            if since_dt is not None and (row.started is None or _as_utc(row.started) < since_dt):
                continue
            rows.append(row)
        rows.sort(key=lambda r: (_as_utc(r.started) if r.started else _EPOCH, r.id))
        return rows

    def _summary(self, run_id: str) -> RunSummary:
        try:
            transcript = read_model(self.root / run_id / TRANSCRIPT_FILE, Transcript)
        except TranscriptError as error:
            return RunSummary(
                id=run_id, scenario=None, started=None, status="unreadable", problem=str(error)
            )
        fidelity = None
        try:
            evaluation = self.load_evaluation(run_id)
        except TranscriptError:
            evaluation = None
        if evaluation is not None:
            scores = [
                p.consistency for p in evaluation.personas.values() if p.consistency is not None
            ]
            fidelity = sum(scores) / len(scores) if scores else None
        models = list(dict.fromkeys(m.model for m in transcript.meta.models))
        return RunSummary(
            id=run_id,
            scenario=transcript.meta.scenario_id,
            started=transcript.meta.started_at,
            models=models,
            rounds=len({t.round for t in transcript.turns}),
            outcome=transcript.outcome.result if transcript.outcome else None,
            fidelity=fidelity,
            status=transcript.status,
            parent_run=transcript.meta.parent_run,
        )


_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


def _as_utc(value: dt.date | dt.datetime) -> dt.datetime:
    if not isinstance(value, dt.datetime):
        return dt.datetime(value.year, value.month, value.day, tzinfo=dt.UTC)
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)
