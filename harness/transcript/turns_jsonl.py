"""Plain JSONL turns: one `{"speaker": ..., "text": ...}` object per line.

This is the exchange format with other tools: `impasse export RUN --format jsonl` writes the
public table and principal turns of a run this way, and the evaluator reads transcripts that
other tools produce in it (`impasse eval --turns FILE`).
"""

from __future__ import annotations

import json
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from harness.errors import TranscriptError
from harness.transcript.model import Transcript, Turn


class PlainTurn(BaseModel):
    """One spoken turn, with no structure beyond who said what."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    speaker: str = Field(min_length=1, description="Persona id (or any name the tool uses).")
    text: str = Field(description="What was said.")


def is_public_speech(turn: Turn) -> bool:
    """A turn heard by both delegations: a table or principal turn with a public audience."""
    return turn.phase in ("table", "principal") and turn.audience == "public"


def plain_turns(transcript: Transcript) -> list[PlainTurn]:
    """The public table/principal turns of a run, in order, as plain turns."""
    return [
        PlainTurn(speaker=t.speaker, text=t.utterance)
        for t in transcript.turns
        if is_public_speech(t)
    ]


def dumps_plain_turns(turns: list[PlainTurn]) -> str:
    """JSONL text: one object per line, UTF-8 kept readable, trailing newline."""
    return "".join(json.dumps(t.model_dump(), ensure_ascii=False) + "\n" for t in turns)


def read_plain_turns(path: Path | str) -> list[PlainTurn]:
    """Read a plain JSONL turns file; blank lines are skipped.

    A bad line raises TranscriptError naming `file:line` and what is wrong with it.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise TranscriptError("turns file not found", location=path) from None
    except (OSError, UnicodeDecodeError) as error:
        raise TranscriptError(f"cannot read turns file: {error}", location=path) from None
    turns: list[PlainTurn] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        where = f"{path}:{number}"
        try:
            data = json.loads(line)
        except json.JSONDecodeError as error:
            raise TranscriptError(f"invalid JSON: {error.msg}", location=where) from None
        if not isinstance(data, dict):
            raise TranscriptError(
                f"expected an object with 'speaker' and 'text', got {type(data).__name__}",
                location=where,
            )
        try:
            turns.append(PlainTurn.model_validate(data))
        except ValidationError as error:
            item = error.errors()[0]
            field = ".".join(str(p) for p in item["loc"]) or "(line)"
            raise TranscriptError(item["msg"], location=where, field=field) from None
    return turns
