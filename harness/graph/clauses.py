"""The clause tracker: one draft clause per agenda issue, updated from table moves.

Statuses: `open` (nothing proposed), `bracketed` (text proposed, not yet accepted by every
side present), `agreed` (every side present accepted the current text), `reopened` (it was
agreed, then a side rejected it or proposed new text). Reopening an agreed clause is
backtracking, and is recorded with the turn that did it: it is what broke the May 2019 talks.
"""

from __future__ import annotations

from harness.pack.models import Side
from harness.transcript.model import Backtrack, Clause, IssueStance, Turn


def initial_clauses(agenda: list[str]) -> dict[str, Clause]:
    return {issue: Clause(issue=issue) for issue in agenda}


def _after(clause: Clause, stance: IssueStance, side: Side, sides: list[Side]) -> Clause:
    """The clause after one side's stance on it (pure)."""
    kind = stance.stance
    if kind == "proposes" and stance.proposal:
        status = "reopened" if clause.status in ("agreed", "reopened") else "bracketed"
        return Clause(
            issue=clause.issue,
            status=status,
            text=stance.proposal,
            proposed_by=side,
            accepted_by=[side],
        )
    if kind in ("accepts", "concedes") and clause.text is not None:
        accepted = sorted({*clause.accepted_by, side})
        agreed = all(s in accepted for s in sides)
        status = "agreed" if agreed else clause.status
        return clause.model_copy(update={"accepted_by": accepted, "status": status})
    if kind == "rejects" and clause.text is not None:
        accepted = [s for s in clause.accepted_by if s != side]
        status = "reopened" if clause.status == "agreed" else clause.status
        return clause.model_copy(update={"accepted_by": accepted, "status": status})
    return clause


def apply_turn(
    clauses: dict[str, Clause], turn: Turn, sides: list[Side]
) -> tuple[dict[str, Clause], list[Backtrack]]:
    """Apply a table turn's stances (and a final-text proposal) to the clauses."""
    if turn.move is None or turn.side is None:
        return clauses, []
    side: Side = turn.side
    updated = dict(clauses)
    backtracks: list[Backtrack] = []
    for stance in turn.move.stances:
        before = updated.get(stance.issue)
        if before is None:
            continue
        after = _after(before, stance, side, sides)
        if before.status == "agreed" and after.status == "reopened":
            backtracks.append(
                Backtrack(
                    issue=stance.issue, round=turn.round, turn_id=turn.id, speaker=turn.speaker
                )
            )
        updated[stance.issue] = after
    if turn.move.action == "propose_final_text":
        # Tabling the final text means this side accepts every clause that has text.
        for issue, clause in updated.items():
            if clause.text is not None and clause.status != "agreed":
                updated[issue] = _after(
                    clause, IssueStance(issue=issue, stance="accepts"), side, sides
                )
    return updated, backtracks


def all_agreed(clauses: dict[str, Clause]) -> bool:
    return bool(clauses) and all(c.status == "agreed" for c in clauses.values())
