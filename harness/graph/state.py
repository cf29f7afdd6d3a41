"""The state LangGraph checkpoints, and the run context that is not state.

The state holds only what must survive a crash: the turns so far, the round's schedule and a
cursor into it, the clause tracker, and the outcome. Everything derivable from the pack, the
scenario or the run request lives in `RunContext`, which is rebuilt on resume.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated

from pydantic import BaseModel, ConfigDict, Field

from harness.pack.models import Persona, PersonaPack, Scenario, ScriptedEvent
from harness.transcript.model import (
    Audience,
    Backtrack,
    Clause,
    ClauseSnapshot,
    Outcome,
    Phase,
    Turn,
)

if TYPE_CHECKING:
    from harness.graph.runner import SpeakerModels
    from harness.llm.types import ChatMessage


class Slot(BaseModel):
    """One scheduled step of a round: a speaking turn or a scripted event."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    phase: Phase
    speaker: str = Field(description="Persona id, or 'event'.")
    audience: Audience
    event_id: str | None = None


class NegotiationState(BaseModel):
    """Checkpointed after every node. Lists with `operator.add` only ever grow."""

    model_config = ConfigDict(extra="forbid")

    round: int = 0
    schedule: list[Slot] = Field(default_factory=list)
    cursor: int = 0
    break_requested: bool = False
    turns: Annotated[list[Turn], operator.add] = Field(default_factory=list)
    clauses: dict[str, Clause] = Field(default_factory=dict)
    clause_history: Annotated[list[ClauseSnapshot], operator.add] = Field(default_factory=list)
    backtracking: Annotated[list[Backtrack], operator.add] = Field(default_factory=list)
    summaries: dict[int, str] = Field(
        default_factory=dict, description="Round -> one public line on it, set when it closes."
    )
    extra_events: list[ScriptedEvent] = Field(
        default_factory=list, description="Events added by a fork (--event)."
    )
    persona_overrides: dict[str, Persona] = Field(
        default_factory=dict, description="Persona variants set by a fork (--set-persona)."
    )
    outcome: Outcome | None = None


@dataclass
class RunContext:
    """Settings of one run: rebuilt from the run request on resume, never checkpointed."""

    run_id: str
    pack: PersonaPack
    scenario: Scenario
    max_rounds: int
    models: SpeakerModels
    seed: int | None = None
    summary_window: int = 2
    temperature: float = 0.7
    max_tokens: int = 1536
    record_prompt: Callable[[str, list[ChatMessage]], None] | None = None
