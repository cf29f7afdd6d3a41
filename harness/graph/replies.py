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
# so a small model that starts to babble still ends its JSON before max_tokens.
UTTERANCE_CHARS = 500
PROPOSAL_CHARS = 200
RATIONALE_CHARS = 240


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
            Field(default=None, max_length=PROPOSAL_CHARS, description="Clause text, when proposing."),
        ),
    )
    move = create_model(
        "MoveReply",
        __base__=_Reply,
        utterance=(
            str, Field(max_length=UTTERANCE_CHARS, description="What you say, one to four sentences.")
        ),
        stances=(
            list[stance],  # type: ignore[valid-type]
            Field(max_length=len(agenda), description="Stances on the issues you address."),
        ),
        action=(Action | None, Field(default=None, description="Optional procedural action.")),
        rationale=(
            str, Field(max_length=RATIONALE_CHARS, description="Private reasoning; only your side sees it.")
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
            str, Field(max_length=UTTERANCE_CHARS, description="The directive or statement.")
        ),
        stances=(
            list[stance],  # type: ignore[valid-type]
            Field(max_length=len(agenda), description="Stances on the issues you address."),
        ),
        rationale=(
            str, Field(max_length=RATIONALE_CHARS, description="Private reasoning; only your side sees it.")
        ),
    )
    return move, principal


def to_move(reply: BaseModel, agenda: tuple[str, ...]) -> Move:
    """A transcript `Move` from a reply; stances on one issue keep the last one given."""
    stances: dict[str, IssueStance] = {}
    for item in getattr(reply, "stances", []):
        if item.issue in agenda:
            proposal = (item.proposal or "").strip() or None
            stances[item.issue] = IssueStance(issue=item.issue, stance=item.stance, proposal=proposal)
    return Move(
        utterance=reply.utterance.strip(),  # type: ignore[attr-defined]
        stances=list(stances.values()),
        action=getattr(reply, "action", None),
        rationale=reply.rationale.strip(),  # type: ignore[attr-defined]
    )
