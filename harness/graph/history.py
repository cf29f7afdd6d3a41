"""What a speaker may see, and the bounded summary of rounds that aged out of the window.

Information boundaries are enforced here, by construction: a speaker of side S sees turns whose
audience is public or S, and nothing else. Rationales are never shown to anyone in a prompt.

Context stays bounded: the last `window` rounds enter the prompt verbatim; everything older is
folded into a summary whose size depends on the agenda, not on the number of rounds.
"""

from __future__ import annotations

from harness.pack.models import PersonaPack, Side
from harness.transcript.model import Backtrack, Clause, Turn

MAX_EVENTS_IN_SUMMARY = 4
MAX_UTTERANCE_CHARS = 600


def visible_to(side: Side, turns: list[Turn]) -> list[Turn]:
    """Turns a member of `side` may know about: public ones and its own side's channel."""
    return [t for t in turns if t.audience in ("public", side)]


def _label(turn: Turn, pack: PersonaPack) -> str:
    if turn.speaker == "event":
        return "EVENT"
    persona = pack.personas.get(turn.speaker)
    name = persona.name if persona else turn.speaker
    channel = {"caucus": "caucus", "table": "table", "principal": "off the table"}[turn.phase]
    if turn.phase == "principal":
        channel = "directive to your side" if turn.audience != "public" else "public statement"
    return f"{name} ({channel})"


def render_turns(turns: list[Turn], pack: PersonaPack) -> str:
    if not turns:
        return "(nothing yet)"
    lines = []
    for turn in turns:
        text = " ".join(turn.utterance.split())
        if len(text) > MAX_UTTERANCE_CHARS:
            text = text[:MAX_UTTERANCE_CHARS] + " [...]"
        lines.append(f"[round {turn.round}] {_label(turn, pack)}: {text}")
    return "\n".join(lines)


def render_clauses(clauses: dict[str, Clause]) -> str:
    lines = []
    for clause in clauses.values():
        text = f': "{clause.text}"' if clause.text else ""
        who = f" (accepted by {', '.join(clause.accepted_by)})" if clause.accepted_by else ""
        lines.append(f"- {clause.issue}: {clause.status}{who}{text}")
    return "\n".join(lines) or "(no agenda)"


def split_window(
    turns: list[Turn], current_round: int, window: int
) -> tuple[list[Turn], list[Turn]]:
    """(older turns, recent turns): recent = the last `window` rounds before and this round."""
    first_recent = max(1, current_round - window)
    older = [t for t in turns if t.round < first_recent]
    recent = [t for t in turns if t.round >= first_recent]
    return older, recent


def summarize(
    older: list[Turn], clauses_then: dict[str, Clause], backtracking: list[Backtrack]
) -> str:
    """A summary of the rounds before the window, bounded by the agenda size.

    It names how many rounds passed, the clause status at the end of the last summarised round,
    backtracking on each issue, walk-outs and breaks, and the last few events.
    """
    if not older:
        return "(no earlier rounds)"
    last_round = max(t.round for t in older)
    lines = [f"Rounds 1-{last_round} took place. Clause status after round {last_round}:"]
    lines.append(render_clauses(clauses_then))
    reopened: dict[str, int] = {}
    for bt in backtracking:
        if bt.round <= last_round:
            reopened[bt.issue] = reopened.get(bt.issue, 0) + 1
    if reopened:
        parts = ", ".join(f"{issue} ({n}x)" for issue, n in sorted(reopened.items()))
        lines.append(f"Agreed clauses reopened (backtracking): {parts}.")
    breaks = sum(1 for t in older if t.move and t.move.action == "request_break")
    if breaks:
        lines.append(f"Breaks requested: {breaks}.")
    events = [t for t in older if t.phase == "event"][-MAX_EVENTS_IN_SUMMARY:]
    for event in events:
        lines.append(f"Event in round {event.round}: {' '.join(event.utterance.split())}")
    return "\n".join(lines)


def round_summary(round_no: int, turns: list[Turn], clauses: dict[str, Clause]) -> str:
    """One public line on a round: clause statuses, actions and events (no private content)."""
    public = [t for t in turns if t.round == round_no and t.audience == "public"]
    statuses: dict[str, list[str]] = {}
    for clause in clauses.values():
        statuses.setdefault(clause.status, []).append(clause.issue)
    parts = [f"{status}: {', '.join(issues)}" for status, issues in sorted(statuses.items())]
    actions = [f"{t.speaker} {t.move.action}" for t in public if t.move and t.move.action]
    events = [t for t in public if t.phase == "event"]
    text = f"Round {round_no}: " + "; ".join(parts)
    if actions:
        text += f". Actions: {', '.join(actions)}"
    if events:
        text += f". {len(events)} public event{'s' if len(events) > 1 else ''}"
    return text + "."
