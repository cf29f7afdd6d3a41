"""Scores built from turn verdicts: per persona, per run, and across runs.

Red-line violations are counted, never averaged: one is a hard flag on the persona and the run.
Consistency is upheld over addressed positions; drift is the first round a persona breaks an
entry it had upheld in an earlier round. Across runs, means come with seeded bootstrap
confidence intervals so that two suites can be compared honestly.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from harness.eval.model import PersonaScore, RunScore, TurnVerdicts
from harness.pack.models import PersonaPack
from harness.transcript.model import Transcript

ADDRESSED = ("upheld", "violated", "conceded")
LEAK_NGRAM = 8  # words: long enough that a shared phrase is not a coincidence


def persona_scores(pack: PersonaPack, turns: Sequence[TurnVerdicts]) -> dict[str, PersonaScore]:
    by_persona: dict[str, list[TurnVerdicts]] = defaultdict(list)
    for turn in turns:
        by_persona[turn.speaker].append(turn)
    scores: dict[str, PersonaScore] = {}
    for persona, own in by_persona.items():
        verdicts = [(t, v) for t in own for v in t.verdicts]
        violations = [v for _, v in verdicts if v.verdict == "violated" and v.red_line]
        addressed = [v for _, v in verdicts if v.verdict in ADDRESSED]
        upheld = [v for v in addressed if v.verdict == "upheld"]
        documented = {
            e.issue for e in pack.entries_for(persona) if e.kind in ("red_line", "position")
        }
        covered = {v.issue for v in addressed} & documented
        scores[persona] = PersonaScore(
            persona=persona,
            turns=len(own),
            red_line_violations=len(violations),
            violated_entries=sorted({v.entry for v in violations}),
            consistency=len(upheld) / len(addressed) if addressed else None,
            coverage=len(covered) / len(documented) if documented else 0.0,
            drift_round=_drift(own),
            fidelity_by_round=_by_round(own),
        )
    return scores


def _when(turn: TurnVerdicts) -> int:
    return turn.round if turn.round is not None else turn.index + 1


def _drift(turns: Sequence[TurnVerdicts]) -> int | None:
    """First round (or 1-based turn, without rounds) breaking an entry upheld earlier."""
    first_upheld: dict[str, int] = {}
    for turn in sorted(turns, key=lambda t: (_when(t), t.index)):
        when = _when(turn)
        for v in turn.verdicts:
            if v.verdict == "upheld":
                first_upheld.setdefault(v.entry, when)
            elif v.verdict in ("violated", "conceded"):
                since = first_upheld.get(v.entry)
                if since is not None and since < when:
                    return when
    return None


def _by_round(turns: Sequence[TurnVerdicts]) -> dict[int, float]:
    tally: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    for turn in turns:
        if turn.round is None:
            continue
        for v in turn.verdicts:
            if v.verdict in ADDRESSED:
                tally[turn.round][1] += 1
                tally[turn.round][0] += v.verdict == "upheld"
    return {r: up / n for r, (up, n) in sorted(tally.items()) if n}


def run_score(
    pack: PersonaPack, turns: Sequence[TurnVerdicts], transcript: Transcript | None
) -> RunScore:
    score = RunScore(
        injection_turns=[t.index for t in turns if t.injection_quote],
        red_line_violations=sum(
            1 for t in turns for v in t.verdicts if v.verdict == "violated" and v.red_line
        ),
        unscored=sum(
            1
            for t in turns
            for v in t.verdicts
            if v.layer == "judge" and v.verdict == "ambiguous" and v.confidence == 0.0
        ),
    )
    if transcript is None:
        return score
    scenario = pack.scenarios.get(transcript.meta.scenario_id)
    documented = scenario.documented_outcome if scenario else None
    outcome = transcript.outcome
    score.outcome = outcome.result if outcome else None
    score.talks_continue = outcome.talks_continue if outcome else None
    if documented is not None:
        score.documented_outcome = documented.result
        score.documented_talks_continue = documented.talks_continue
        if outcome is not None and documented.result is not None:
            same_result = outcome.result == documented.result
            same_talks = (
                documented.talks_continue is None
                or outcome.talks_continue == documented.talks_continue
            )
            score.outcome_matches = same_result and same_talks
    score.backtracking_events = len(transcript.backtracking)
    score.private_leaks = private_leaks(transcript, pack)
    return score


# --- private leaks -----------------------------------------------------------------------


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9$%']+", text.lower())


def _shingles(text: str, n: int = LEAK_NGRAM) -> set[tuple[str, ...]]:
    words = _words(text)
    return {tuple(words[i : i + n]) for i in range(len(words) - n + 1)}


def private_leaks(transcript: Transcript, pack: PersonaPack) -> list[str]:
    """Public turns that repeat an 8-word span of their side's private material.

    Private material: the side's caucus turns, principal directives to it, its speakers'
    private rationales, and the scenario's private brief of that side. A span already said in
    public (the scenario's public context or an earlier public turn) is not distinctive and
    does not count.
    """
    scenario = pack.scenarios.get(transcript.meta.scenario_id)
    private: dict[str, set[tuple[str, ...]]] = {"us": set(), "cn": set()}
    if scenario is not None:
        for side, brief in scenario.private_briefs.items():
            private[side] |= _shingles(brief)
    public_seen: set[tuple[str, ...]] = _shingles(scenario.public_context) if scenario else set()
    leaks: list[str] = []
    for turn in transcript.turns:
        side = turn.side
        if turn.audience == "public":
            grams = _shingles(turn.utterance)
            if side is not None and (grams & private[side]) - public_seen:
                leaks.append(turn.id)
            public_seen |= grams
        elif turn.audience in ("us", "cn"):
            private[turn.audience] |= _shingles(turn.utterance)
        if turn.directive_to is not None:
            private[turn.directive_to] |= _shingles(turn.utterance)
        if side is not None and turn.move is not None and turn.move.rationale:
            private[side] |= _shingles(turn.move.rationale)
    return leaks


# --- across runs -------------------------------------------------------------------------


@dataclass(frozen=True)
class Interval:
    mean: float
    low: float
    high: float
    n: int


def bootstrap_ci(
    values: Sequence[float], *, samples: int = 2000, alpha: float = 0.05, seed: int = 0
) -> Interval | None:
    """Mean and percentile bootstrap interval; None for no values. Seeded, so reproducible."""
    if not values:
        return None
    n = len(values)
    mean = sum(values) / n
    if n == 1:
        return Interval(mean, mean, mean, 1)
    # All resamples at once: a Python loop over 2,000 resamples took 6 ms per interval, and a
    # suite report has one per persona and group.
    picks = np.random.default_rng(seed).integers(0, n, size=(samples, n))
    means = np.sort(np.asarray(values, dtype=float)[picks].mean(axis=1))
    low = float(means[int(alpha / 2 * samples)])
    high = float(means[min(samples - 1, int((1 - alpha / 2) * samples))])
    return Interval(mean, low, high, n)
