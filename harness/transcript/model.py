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
    """One step of the talks: a persona speaking in a phase, or a scripted event."""

    id: str = Field(description="Stable id, e.g. 'r02.table.03'; equal across resumes.")
    round: int = Field(ge=1, description="Round number, from 1.")
    phase: Phase = Field(
        description="caucus (own side only), table (both sides), principal, or event."
    )
    speaker: str = Field(description="A persona id, or 'event' for a scripted event.")
    side: Literal["us", "cn"] | None = Field(description="Speaker's side; None for events.")
    audience: Audience = Field(description="Who hears the utterance.")
    utterance: str = Field(description="What was said (or, for an event, what happened).")
    move: Move | None = Field(default=None, description="The structured move (None for events).")
    usage: Usage = Field(default=Usage(), description="Tokens of the call behind this turn.")
    latency_s: float = Field(default=0.0, description="Wall time of the call, in seconds.")
    retries: int = Field(default=0, description="Retries the call needed.")
    model: str | None = Field(default=None, description="Model that produced it; None for events.")
    prompt_hash: str | None = Field(
        default=None, description="SHA-256 of the prompt sent; the text is in prompts/<hash>.json."
    )
    directive_to: Literal["us", "cn"] | None = Field(
        default=None, description="For a principal's private directive, the side it goes to."
    )


class Clause(Doc):
    """The draft clause of one agenda issue, as the tracker sees it."""

    issue: str = Field(description="The agenda issue key the clause covers.")
    status: ClauseStatus = Field(default="open", description="Where the clause stands.")
    text: str | None = Field(default=None, description="The latest proposed text.")
    proposed_by: str | None = Field(default=None, description="Persona id that proposed `text`.")
    accepted_by: list[str] = Field(default_factory=list, description="Sides that accepted it.")


class ClauseSnapshot(Doc):
    """The clause tracker's state at the end of one round."""

    round: int = Field(description="The round this state closes.")
    clauses: list[Clause] = Field(description="One clause per agenda issue.")


class Backtrack(Doc):
    """An agreed clause reopened: what broke the May 2019 talks."""

    issue: str = Field(description="The issue whose agreed clause was reopened.")
    round: int = Field(description="Round it was reopened in.")
    turn_id: str = Field(description="The turn that reopened it.")
    speaker: str = Field(description="Persona id that reopened it.")


class Outcome(Doc):
    """How the run ended."""

    result: OutcomeResult = Field(description="deal, breakdown, or no_deal.")
    reason: str = Field(description="Why the run ended, in words.")
    talks_continue: bool = Field(
        description="Whether both sides committed to keep talking (no walk-out at the end)."
    )
    ended_round: int = Field(description="The last round played.")


class RoleModel(Doc):
    """Which model and endpoint served a role (never a key)."""

    role: str = Field(description="'default', a side, a persona id, or 'judge'.")
    model: str = Field(description="Model name as sent to the endpoint.")
    endpoint: str = Field(description="Base URL of the endpoint.")


class RunMeta(Doc):
    """Provenance of a run: what was simulated, with which models, when, and at what cost."""

    run_id: str = Field(description="The run id, also the name of its folder.")
    parent_run: str | None = Field(default=None, description="Run this one was forked from.")
    fork_round: int | None = Field(default=None, description="Round the fork starts from.")
    fork_note: str | None = Field(default=None, description="What the fork changed, in words.")
    pack_id: str = Field(description="Persona pack id.")
    pack_hash: str = Field(description="SHA-256 over the pack's files when the run started.")
    source_sha256: str = Field(description="SHA-256 of the source article the pack cites.")
    scenario_id: str = Field(description="Scenario id within the pack.")
    models: list[RoleModel] = Field(
        default_factory=list, description="Model and endpoint per role."
    )
    seed: int | None = Field(default=None, description="Sampling seed, when set.")
    max_rounds: int = Field(description="Round limit of the run.")
    impasse_version: str = Field(description="impasse version that ran it.")
    started_at: dt.datetime = Field(description="Start time (UTC).")
    ended_at: dt.datetime | None = Field(default=None, description="End time (UTC).")
    usage: Usage = Field(default=Usage(), description="Token totals over all calls.")
    cost_usd: float | None = Field(default=None, description="Cost total, when priced.")
    retries: int = Field(default=0, description="Retries over all calls.")


class Transcript(Doc):
    """One run. Saved as `transcripts/<run-id>/transcript.json`."""

    schema_version: int = Field(
        default=SCHEMA_VERSION, description="Version of this format; bumped on field changes."
    )
    status: RunStatus = Field(default="running", description="running, complete, or error.")
    error: str | None = Field(default=None, description="Why the run failed, when it did.")
    meta: RunMeta = Field(description="Provenance of the run.")
    turns: list[Turn] = Field(default_factory=list, description="Every turn, in order.")
    clauses: list[ClauseSnapshot] = Field(
        default_factory=list, description="The clause tracker's state after every round."
    )
    backtracking: list[Backtrack] = Field(
        default_factory=list, description="Agreed clauses reopened, in order."
    )
    outcome: Outcome | None = Field(default=None, description="How the run ended; None if running.")
    summaries: dict[int, str] = Field(
        default_factory=dict,
        description="Round -> one public line on it: clause statuses, actions, events.",
    )
