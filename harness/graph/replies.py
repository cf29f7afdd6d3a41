"""The structured replies a model returns, and their conversion to transcript `Move`s.

Reply schemas are built per scenario so that `issue` is a `Literal` of the agenda: a
grammar-constrained endpoint then cannot name an issue that is not on the table.
"""

from __future__ import annotations

from functools import cache
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, create_model

from harness.transcript.model import Action, IssueStance, Move, StanceTaken

# Bounds in the reply schema: a grammar-constrained endpoint (llama.cpp) cannot run past them,
# so a small model that starts to babble still closes its JSON before max_tokens. Worst case,
# at one token per character (SmolLM2 spends a token per digit): 400 + 200 + 3 x (160 + ~70)
# + ~80 of JSON = ~1,370 tokens, inside the default max_tokens of 1,536 and, with a ~2,300-token
# prompt, inside a 4,096-token llama.cpp slot.
UTTERANCE_CHARS = 400
PROPOSAL_CHARS = 160
RATIONALE_CHARS = 200
MAX_STANCES = 3  # issues one turn may take a stance on; a final text covers the rest


class _Reply(BaseModel):
    model_config = ConfigDict(extra="forbid")


@cache
def reply_models(agenda: tuple[str, ...]) -> tuple[type[BaseModel], type[BaseModel]]:
    """(table/caucus reply model, principal reply model) for an agenda."""
    issue_type = Literal[agenda]  # type: ignore[valid-type]
    stance = create_model(
        "IssueStanceReply",
        __base__=_Reply,
        issue=(issue_type, Field(description="An agenda issue key.")),
        stance=(StanceTaken, Field(description="Your stance on the issue this turn.")),
        proposal=(
            str | None,
            Field(
                default=None, max_length=PROPOSAL_CHARS, description="Clause text, when proposing."
            ),
        ),
    )
    move = create_model(
        "MoveReply",
        __base__=_Reply,
        utterance=(
            str,
            Field(max_length=UTTERANCE_CHARS, description="What you say, one to four sentences."),
        ),
        stances=(
            list[stance],  # type: ignore[valid-type]
            Field(
                max_length=min(len(agenda), MAX_STANCES),
                description="Stances on up to three issues you address this turn.",
            ),
        ),
        action=(Action | None, Field(default=None, description="Optional procedural action.")),
        rationale=(
            str,
            Field(
                max_length=RATIONALE_CHARS, description="Private reasoning; only your side sees it."
            ),
        ),
    )
    principal = create_model(
        "PrincipalReply",
        __base__=_Reply,
        kind=(
            Literal["directive", "public_statement"],
            Field(description="A private directive to your team, or a public statement."),
        ),
        utterance=(
            str,
            Field(max_length=UTTERANCE_CHARS, description="The directive or statement."),
        ),
        stances=(
            list[stance],  # type: ignore[valid-type]
            Field(
                max_length=min(len(agenda), MAX_STANCES),
                description="Stances on up to three issues you address this turn.",
            ),
        ),
        rationale=(
            str,
            Field(
                max_length=RATIONALE_CHARS, description="Private reasoning; only your side sees it."
            ),
        ),
    )
    return move, principal


def to_move(reply: BaseModel, agenda: tuple[str, ...]) -> Move:
    """A transcript `Move` from a reply; stances on one issue keep the last one given."""
    stances: dict[str, IssueStance] = {}
    for item in getattr(reply, "stances", []):
        if item.issue in agenda:
            proposal = (item.proposal or "").strip() or None
            stances[item.issue] = IssueStance(
                issue=item.issue, stance=item.stance, proposal=proposal
            )
    return Move(
        utterance=reply.utterance.strip(),  # type: ignore[attr-defined]
        stances=list(stances.values()),
        action=getattr(reply, "action", None),
        rationale=reply.rationale.strip(),  # type: ignore[attr-defined]
    )
