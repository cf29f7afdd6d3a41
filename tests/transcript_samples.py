"""Builders of sample transcripts and evaluations, for tests that need a stored run.

Other test modules may import these. They need no pack: ids such as 'lighthizer' stand alone.
"""

from __future__ import annotations

import datetime as dt

from harness.eval.model import Evaluation, PersonaScore, RunScore, TurnVerdicts, Verdict
from harness.llm.types import Usage
from harness.transcript.model import (
    Backtrack,
    Clause,
    ClauseSnapshot,
    IssueStance,
    Move,
    Outcome,
    RoleModel,
    RunMeta,
    Transcript,
    Turn,
)

XSS = "<script>alert(1)</script>"
SCENARIO = "washington-2019-05"
ISSUES = ("structural_reforms", "tariffs", "purchases")
STARTED = dt.datetime(2026, 11, 29, 8, 30, 12, tzinfo=dt.UTC)


def _turn(
    round_: int,
    phase: str,
    n: int,
    speaker: str,
    side: str | None,
    audience: str,
    text: str,
    stances: list[tuple[str, str, str | None]] | None = None,
    rationale: str = "",
    directive_to: str | None = None,
) -> Turn:
    move = None
    if speaker != "event":
        move = Move(
            utterance=text,
            stances=[IssueStance(issue=i, stance=s, proposal=p) for i, s, p in stances or []],  # type: ignore[arg-type]
            rationale=rationale,
        )
    return Turn(
        id=f"r{round_:02d}.{phase}.{n:02d}",
        round=round_,
        phase=phase,  # type: ignore[arg-type]
        speaker=speaker,
        side=side,  # type: ignore[arg-type]
        audience=audience,  # type: ignore[arg-type]
        utterance=text,
        move=move,
        usage=Usage(prompt_tokens=1200, completion_tokens=80, cached_tokens=1000),
        latency_s=1.3,
        model=None if speaker == "event" else "smollm2-135m",
        prompt_hash=None if speaker == "event" else f"{round_:02d}{n:02d}" + "a" * 60,
        directive_to=directive_to,  # type: ignore[arg-type]
    )


def sample_transcript(
    run_id: str = "20261129-083012-washington-2019-05-3f9a",
    *,
    first_text: str | None = None,
    liu_round2: str = "rejects",
    parent_run: str | None = None,
    fork_round: int | None = None,
    started: dt.datetime = STARTED,
) -> Transcript:
    """A finished two-round run: caucuses, table turns, a directive, an event, a backtrack.

    `first_text` replaces Lighthizer's first table utterance (e.g. with `XSS`); `liu_round2`
    is Liu He's round-2 stance on structural reforms, so two samples can diverge for a diff.
    """
    turns = [
        _turn(
            1,
            "caucus",
            1,
            "lighthizer",
            "us",
            "us",
            "We hold the line on enforcement. No deal without it.",
            [("structural_reforms", "holds", None)],
            rationale="Beijing will test us on enforcement first.",
        ),
        _turn(
            1,
            "caucus",
            2,
            "liu_he",
            "cn",
            "cn",
            "Our red line is sovereignty: no law changes imposed from outside.",
            [("structural_reforms", "holds", None)],
            rationale="Keep the State Council text in our hands.",
        ),
        _turn(
            1,
            "table",
            1,
            "lighthizer",
            "us",
            "public",
            first_text or "The commitments must be written into Chinese law.",
            [
                ("structural_reforms", "proposes", "China amends its laws on IP and transfers."),
                ("tariffs", "holds", None),
            ],
            rationale="Anchor high on legal changes.",
        ),
        _turn(
            1,
            "table",
            2,
            "liu_he",
            "cn",
            "public",
            "We can accept the text on purchases; tariffs must go first.",
            [("purchases", "accepts", None), ("tariffs", "proposes", "All added tariffs removed.")],
            rationale="Purchases cost us little.",
        ),
        _turn(
            1,
            "principal",
            1,
            "trump",
            "us",
            "us",
            "Don't give anything on tariffs until they sign.",
            [("tariffs", "holds", None)],
            directive_to="us",
        ),
        _turn(
            2,
            "event",
            1,
            "event",
            None,
            "public",
            "The U.S. announces tariffs rise from 10% to 25% on Friday.",
        ),
        _turn(
            2,
            "table",
            1,
            "lighthizer",
            "us",
            "public",
            "The tariff increase goes ahead unless the text is restored.",
            [("tariffs", "holds", None), ("structural_reforms", "holds", None)],
            rationale="Pressure works on this timeline.",
        ),
        _turn(
            2,
            "table",
            2,
            "liu_he",
            "cn",
            "public",
            "Changing our laws is something we will do ourselves; we reopen the purchases text.",
            [("structural_reforms", liu_round2, None), ("purchases", "rejects", None)],
            rationale="The Politburo rejected the draft.",
        ),
    ]
    clauses = [
        ClauseSnapshot(
            round=1,
            clauses=[
                Clause(
                    issue="structural_reforms",
                    status="bracketed",
                    text="China amends its laws on IP and transfers.",
                    proposed_by="lighthizer",
                ),
                Clause(
                    issue="tariffs",
                    status="bracketed",
                    text="All added tariffs removed.",
                    proposed_by="liu_he",
                ),
                Clause(
                    issue="purchases",
                    status="agreed",
                    text="China buys U.S. farm goods.",
                    proposed_by="lighthizer",
                    accepted_by=["us", "cn"],
                ),
            ],
        ),
        ClauseSnapshot(
            round=2,
            clauses=[
                Clause(
                    issue="structural_reforms",
                    status="bracketed" if liu_round2 == "rejects" else "agreed",
                    text="China amends its laws on IP and transfers.",
                    proposed_by="lighthizer",
                ),
                Clause(issue="tariffs", status="open"),
                Clause(
                    issue="purchases",
                    status="reopened",
                    text="China buys U.S. farm goods.",
                    proposed_by="lighthizer",
                    accepted_by=["us"],
                ),
            ],
        ),
    ]
    return Transcript(
        status="complete",
        meta=RunMeta(
            run_id=run_id,
            parent_run=parent_run,
            fork_round=fork_round,
            pack_id="sample-pack-for-tests",
            pack_hash="b" * 64,
            source_sha256="c" * 64,
            scenario_id=SCENARIO,
            models=[
                RoleModel(role="default", model="smollm2-135m", endpoint="http://127.0.0.1:8080/v1")
            ],
            seed=7,
            max_rounds=2,
            impasse_version="0.1.0",
            started_at=started,
            ended_at=started + dt.timedelta(minutes=3),
            usage=Usage(prompt_tokens=8400, completion_tokens=560, cached_tokens=7000),
            cost_usd=0.0,
        ),
        turns=turns,
        clauses=clauses,
        backtracking=[
            Backtrack(issue="purchases", round=2, turn_id="r02.table.02", speaker="liu_he")
        ],
        outcome=Outcome(
            result="breakdown",
            reason="Agreed text reopened; tariffs raised.",
            talks_continue=True,
            ended_round=2,
        ),
        summaries={1: "Round 1: purchases agreed, tariffs and reforms bracketed."},
    )


def sample_evaluation(transcript: Transcript) -> Evaluation:
    """An evaluation with one red-line violation on Liu He's round-1 table turn."""

    def verdict(
        label: str, entry: str, issue: str, quote: str, evidence: str, red: bool = False
    ) -> Verdict:
        return Verdict(
            issue=issue,
            entry=entry,
            verdict=label,
            confidence=0.9,
            quote=quote,  # type: ignore[arg-type]
            evidence=evidence,
            layer="rules",
            red_line=red,
        )

    return Evaluation(
        evaluator_version="rules-1",
        layers=["rules"],
        pack_id=transcript.meta.pack_id,
        run_id=transcript.meta.run_id,
        turns=[
            TurnVerdicts(
                index=0,
                speaker="lighthizer",
                turn_id="r01.table.01",
                round=1,
                verdicts=[
                    verdict(
                        "upheld",
                        "us.enforcement",
                        "structural_reforms",
                        "written into Chinese law",
                        "commitments enshrined in Chinese law",
                    )
                ],
            ),
            TurnVerdicts(
                index=1,
                speaker="liu_he",
                turn_id="r01.table.02",
                round=1,
                verdicts=[
                    verdict(
                        "violated",
                        "cn.tariffs_first",
                        "tariffs",
                        "tariffs must go first",
                        "all additional tariffs must be removed",
                        red=True,
                    )
                ],
            ),
            TurnVerdicts(
                index=4,
                speaker="liu_he",
                turn_id="r02.table.02",
                round=2,
                verdicts=[
                    verdict(
                        "upheld",
                        "cn.sovereignty",
                        "structural_reforms",
                        "something we will do ourselves",
                        "China will not change its laws",
                    )
                ],
            ),
        ],
        personas={
            "lighthizer": PersonaScore(
                persona="lighthizer",
                turns=2,
                red_line_violations=0,
                consistency=1.0,
                coverage=0.67,
                drift_round=None,
                fidelity_by_round={1: 1.0, 2: 0.9},
            ),
            "liu_he": PersonaScore(
                persona="liu_he",
                turns=2,
                red_line_violations=1,
                violated_entries=["cn.tariffs_first"],
                consistency=0.5,
                coverage=0.67,
                drift_round=1,
                fidelity_by_round={1: 0.4, 2: 0.8},
            ),
        },
        run=RunScore(
            outcome="breakdown",
            documented_outcome="breakdown",
            outcome_matches=True,
            talks_continue=True,
            documented_talks_continue=True,
            backtracking_events=1,
            red_line_violations=1,
        ),
    )
