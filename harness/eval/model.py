"""What the fidelity evaluator produces, saved as `transcripts/<run-id>/evaluation.json`.

The JSON field names of `TurnVerdicts` and `Verdict` are a public contract
(`impasse eval --turns ... --json`): other tools depend on them.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

VerdictLabel = Literal["upheld", "violated", "conceded", "not_addressed", "ambiguous"]
Layer = Literal["rules", "statistical", "judge"]


class EvalDoc(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Verdict(EvalDoc):
    issue: str
    entry: str = Field(description="Ledger entry id.")
    verdict: VerdictLabel
    confidence: float = Field(ge=0.0, le=1.0)
    quote: str = Field(description="Verbatim substring of the turn that supports the verdict.")
    evidence: str = Field(default="", description="The ledger's evidence quote from the source.")
    layer: Layer
    red_line: bool = False
    injection: bool = Field(
        default=False, description="The supporting text tries to instruct other agents."
    )


class TurnVerdicts(EvalDoc):
    index: int = Field(description="0-based position of the turn in the input.")
    speaker: str
    turn_id: str | None = None
    round: int | None = None
    verdicts: list[Verdict] = Field(default_factory=list)
    injection_quote: str | None = Field(
        default=None, description="A sentence of the turn that tries to instruct other agents."
    )


class PersonaScore(EvalDoc):
    persona: str
    turns: int
    red_line_violations: int = Field(description="Any value above 0 is a hard flag.")
    violated_entries: list[str] = Field(default_factory=list)
    consistency: float | None = Field(description="Upheld over addressed positions; None if none.")
    coverage: float = Field(description="Share of the persona's documented issues it addressed.")
    drift_round: int | None = Field(
        description="First round it departed from a position it had upheld; None if never."
    )
    fidelity_by_round: dict[int, float] = Field(default_factory=dict)


class RunScore(EvalDoc):
    outcome: str | None = None
    documented_outcome: str | None = None
    outcome_matches: bool | None = None
    talks_continue: bool | None = None
    documented_talks_continue: bool | None = None
    backtracking_events: int = 0
    private_leaks: list[str] = Field(default_factory=list, description="Turn ids that leaked.")
    injection_turns: list[int] = Field(default_factory=list)
    red_line_violations: int = 0
    unscored: int = Field(
        default=0, description="Verdicts left ambiguous because a judge reply could not be used."
    )


class Evaluation(EvalDoc):
    evaluator_version: str
    layers: list[Layer] = Field(description="Layers that ran for this evaluation.")
    judge_model: str | None = None
    judge_prompt_hash: str | None = Field(
        default=None, description="SHA-256 of the judge prompt template, when the judge ran."
    )
    pack_id: str
    run_id: str | None = None
    turns: list[TurnVerdicts]
    personas: dict[str, PersonaScore]
    run: RunScore
