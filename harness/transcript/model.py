"""The transcript: one versioned pydantic document per run.

Changing a field here means bumping `SCHEMA_VERSION` and regenerating
`docs/transcript.schema.json` (a test keeps the two in sync).
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from harness.llm.types import Usage

SCHEMA_VERSION = 1

Phase = Literal["caucus", "table", "principal", "event"]
Audience = Literal["public", "us", "cn"]
StanceTaken = Literal["holds", "proposes", "concedes", "accepts", "rejects", "silent"]
Action = Literal["walk_out", "request_break", "propose_final_text"]
ClauseStatus = Literal["open", "bracketed", "agreed", "reopened"]
OutcomeResult = Literal["deal", "breakdown", "no_deal"]
RunStatus = Literal["running", "complete", "error"]


class Doc(BaseModel):
    """Base for the stored document: unknown fields are errors."""

    model_config = ConfigDict(extra="forbid")


class IssueStance(Doc):
    """The stance a move takes on one agenda issue."""

    issue: str = Field(description="An agenda issue key.")
    stance: StanceTaken = Field(description="What the speaker does on the issue this turn.")
    proposal: str | None = Field(default=None, description="Clause text proposed, if any.")


class Move(Doc):
    """What an LLM returns for one speaking turn."""

    utterance: str = Field(description="What the speaker says, heard by the turn's audience.")
    stances: list[IssueStance] = Field(
        default_factory=list, description="Per agenda issue, the stance taken this turn."
    )
    action: Action | None = Field(default=None, description="An optional procedural action.")
    rationale: str = Field(
        default="", description="Private reasoning; only the speaker's own side ever sees it."
    )


class Turn(Doc):
    id: str = Field(description="Stable id, e.g. 'r02.table.03'; equal across resumes.")
    round: int = Field(ge=1)
    phase: Phase
    speaker: str = Field(description="A persona id, or 'event' for a scripted event.")
    side: Literal["us", "cn"] | None = Field(description="Speaker's side; None for events.")
    audience: Audience = Field(description="Who hears the utterance.")
    utterance: str
    move: Move | None = Field(default=None, description="The structured move (None for events).")
    usage: Usage = Usage()
    latency_s: float = 0.0
    retries: int = 0
    model: str | None = None
    prompt_hash: str | None = Field(
        default=None, description="SHA-256 of the prompt sent; the text is in prompts.json."
    )
    directive_to: Literal["us", "cn"] | None = Field(
        default=None, description="For a principal's private directive, the side it goes to."
    )


class Clause(Doc):
    """The draft clause of one agenda issue, as the tracker sees it."""

    issue: str
    status: ClauseStatus = "open"
    text: str | None = Field(default=None, description="The latest proposed text.")
    proposed_by: str | None = None
    accepted_by: list[str] = Field(default_factory=list, description="Sides that accepted it.")


class ClauseSnapshot(Doc):
    round: int
    clauses: list[Clause]


class Backtrack(Doc):
    """An agreed clause reopened: what broke the May 2019 talks."""

    issue: str
    round: int
    turn_id: str
    speaker: str


class Outcome(Doc):
    result: OutcomeResult
    reason: str = Field(description="Why the run ended, in words.")
    talks_continue: bool = Field(
        description="Whether both sides committed to keep talking (no walk-out at the end)."
    )
    ended_round: int


class RoleModel(Doc):
    """Which model and endpoint served a role (never a key)."""

    role: str = Field(description="'default', a side, a persona id, or 'judge'.")
    model: str
    endpoint: str


class RunMeta(Doc):
    run_id: str
    parent_run: str | None = None
    fork_round: int | None = None
    fork_note: str | None = None
    pack_id: str
    pack_hash: str
    source_sha256: str
    scenario_id: str
    models: list[RoleModel] = Field(default_factory=list)
    seed: int | None = None
    max_rounds: int
    impasse_version: str
    started_at: dt.datetime
    ended_at: dt.datetime | None = None
    usage: Usage = Usage()
    cost_usd: float | None = None
    retries: int = 0


class Transcript(Doc):
    """One run. Saved as `transcripts/<run-id>/transcript.json`."""

    schema_version: int = SCHEMA_VERSION
    status: RunStatus = "running"
    error: str | None = None
    meta: RunMeta
    turns: list[Turn] = Field(default_factory=list)
    clauses: list[ClauseSnapshot] = Field(
        default_factory=list, description="The clause tracker's state after every round."
    )
    backtracking: list[Backtrack] = Field(default_factory=list)
    outcome: Outcome | None = None
    summaries: dict[int, str] = Field(
        default_factory=dict, description="Round -> the summary used in prompts after it aged out."
    )
