"""Compare two runs round by round: where do stances and clause statuses diverge?

The natural use is a fork against its parent: rounds before the fork point match, and the diff
shows where the new run took another path. Runs are aligned by round, then by speaker; a
speaker's stance on an issue in a round is the last stance their public turns took on it.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from harness.transcript.model import Transcript


class Cell(BaseModel):
    """One aligned value in run A and in run B (None where a run has nothing)."""

    model_config = ConfigDict(extra="forbid")

    key: str = Field(description="Issue key (for stances: the issue a speaker addressed).")
    a: str | None
    b: str | None

    @property
    def differs(self) -> bool:
        return self.a != self.b


class SpeakerRow(BaseModel):
    model_config = ConfigDict(extra="forbid")

    speaker: str
    stances: list[Cell] = Field(description="Per issue, the stance in A and in B.")
    said_a: str | None = Field(default=None, description="Last public utterance in A this round.")
    said_b: str | None = Field(default=None, description="Last public utterance in B this round.")


class RoundDiff(BaseModel):
    model_config = ConfigDict(extra="forbid")

    round: int
    speakers: list[SpeakerRow]
    clauses: list[Cell] = Field(description="Per issue, the clause status after the round.")
    diverges: bool = Field(description="Some stance or clause status differs this round.")


class RunDiff(BaseModel):
    """What `impasse diff A B --json` prints."""

    model_config = ConfigDict(extra="forbid")

    run_a: str
    run_b: str
    b_forked_from_a: bool = Field(description="Run B's parent is run A.")
    fork_round: int | None = Field(description="Round B was forked at, when it is a fork.")
    first_divergence: int | None = Field(description="First round that differs; None if none.")
    rounds: list[RoundDiff]
    outcome_a: str | None
    outcome_b: str | None


def _stances(t: Transcript) -> dict[int, dict[str, dict[str, str]]]:
    """round -> speaker -> issue -> 'stance' or 'stance: proposal' (public turns only)."""
    found: dict[int, dict[str, dict[str, str]]] = {}
    for turn in t.turns:
        if turn.audience != "public" or turn.move is None:
            continue
        per = found.setdefault(turn.round, {}).setdefault(turn.speaker, {})
        for s in turn.move.stances:
            per[s.issue] = f"{s.stance}: {s.proposal}" if s.proposal else s.stance
    return found


def _said(t: Transcript) -> dict[tuple[int, str], str]:
    return {
        (turn.round, turn.speaker): turn.utterance
        for turn in t.turns
        if turn.audience == "public" and turn.phase in ("table", "principal")
    }


def _clauses(t: Transcript) -> dict[int, dict[str, str]]:
    out: dict[int, dict[str, str]] = {}
    for snap in t.clauses:
        out[snap.round] = {c.issue: c.status for c in snap.clauses}
    backtracked = {(b.round, b.issue) for b in t.backtracking}
    for round_, issue in backtracked:
        if issue in out.get(round_, {}):
            out[round_][issue] += " (backtracked)"
    return out


def _order(*lists: list[str]) -> list[str]:
    return list(dict.fromkeys(x for items in lists for x in items))


def diff_runs(a: Transcript, b: Transcript) -> RunDiff:
    stances_a, stances_b = _stances(a), _stances(b)
    said_a, said_b = _said(a), _said(b)
    clauses_a, clauses_b = _clauses(a), _clauses(b)
    speaker_order = _order([t.speaker for t in a.turns], [t.speaker for t in b.turns])
    rounds = sorted(
        {t.round for t in a.turns} | {t.round for t in b.turns} | set(clauses_a) | set(clauses_b)
    )
    diffs: list[RoundDiff] = []
    for r in rounds:
        sa, sb = stances_a.get(r, {}), stances_b.get(r, {})
        rows = []
        for speaker in [s for s in speaker_order if s in sa or s in sb]:
            issues = _order(list(sa.get(speaker, {})), list(sb.get(speaker, {})))
            rows.append(
                SpeakerRow(
                    speaker=speaker,
                    stances=[
                        Cell(key=i, a=sa.get(speaker, {}).get(i), b=sb.get(speaker, {}).get(i))
                        for i in issues
                    ],
                    said_a=said_a.get((r, speaker)),
                    said_b=said_b.get((r, speaker)),
                )
            )
        ca, cb = clauses_a.get(r, {}), clauses_b.get(r, {})
        clause_cells = [Cell(key=i, a=ca.get(i), b=cb.get(i)) for i in _order(list(ca), list(cb))]
        diverges = any(c.differs for row in rows for c in row.stances) or any(
            c.differs for c in clause_cells
        )
        # A speaker present in only one run is a divergence even with no stances.
        diverges = diverges or any((row.speaker in sa) != (row.speaker in sb) for row in rows)
        diffs.append(RoundDiff(round=r, speakers=rows, clauses=clause_cells, diverges=diverges))
    first = next((d.round for d in diffs if d.diverges), None)
    return RunDiff(
        run_a=a.meta.run_id,
        run_b=b.meta.run_id,
        b_forked_from_a=b.meta.parent_run == a.meta.run_id,
        fork_round=b.meta.fork_round if b.meta.parent_run == a.meta.run_id else None,
        first_divergence=first,
        rounds=diffs,
        outcome_a=a.outcome.result if a.outcome else None,
        outcome_b=b.outcome.result if b.outcome else None,
    )
