"""When a run ends, and what the outcome is.

A run ends with a deal when every agenda clause is agreed, with a breakdown when a speaker
walks out, and with no deal when the last round closes. Whether the talks continue is read
from the moves: a walk-out ends them, and so does a side whose latest stance on keeping the
talks going (`talks_continuity`, when on the agenda) is a rejection.
"""

from __future__ import annotations

from harness.graph.clauses import all_agreed
from harness.transcript.model import Clause, Outcome, Turn

CONTINUITY_ISSUE = "talks_continuity"


def talks_continue(turns: list[Turn]) -> bool:
    if any(t.move and t.move.action == "walk_out" for t in turns):
        return False
    latest: dict[str, str] = {}
    for turn in turns:
        if turn.move is None or turn.side is None or turn.audience != "public":
            continue
        for stance in turn.move.stances:
            if stance.issue == CONTINUITY_ISSUE and stance.stance != "silent":
                latest[turn.side] = stance.stance
    return all(stance != "rejects" for stance in latest.values())


def after_turn(turn: Turn, clauses: dict[str, Clause], turns: list[Turn]) -> Outcome | None:
    """The outcome if this turn ends the run, else None."""
    if turn.move is not None and turn.move.action == "walk_out":
        return Outcome(
            result="breakdown",
            reason=f"{turn.speaker} walked out in round {turn.round}",
            talks_continue=False,
            ended_round=turn.round,
        )
    if turn.phase == "table" and all_agreed(clauses):
        return Outcome(
            result="deal",
            reason=f"every agenda clause agreed in round {turn.round}",
            talks_continue=talks_continue(turns),
            ended_round=turn.round,
        )
    return None


def at_round_close(round_no: int, max_rounds: int, turns: list[Turn]) -> Outcome | None:
    if round_no < max_rounds:
        return None
    return Outcome(
        result="no_deal",
        reason=f"no agreement on every clause after {max_rounds} round{'s' if max_rounds > 1 else ''}",
        talks_continue=talks_continue(turns),
        ended_round=round_no,
    )
