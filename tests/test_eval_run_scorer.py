"""`RunScorer`: a run scored turn by turn while it goes equals the run scored at its end.

A suite with worker processes feeds each turn to the parent's scorer as it arrives (see
`SuiteRunner._score_turn`); the evaluation it stores must not depend on that.
"""

from __future__ import annotations

import random

import pytest
from transcript_samples import _turn, sample_transcript

from harness.eval import RunScorer, evaluate_transcript
from harness.eval.gold import gold_path, read_gold
from harness.pack.load import load_pack
from harness.pack.models import PersonaPack
from harness.transcript.model import Transcript


@pytest.fixture(scope="module")
def pack() -> PersonaPack:
    return load_pack("us-china-2019")


@pytest.fixture(scope="module")
def transcript(pack: PersonaPack) -> Transcript:
    """The sample run plus 30 gold training turns (violations among them), one said twice."""
    rows = [r for r in read_gold(gold_path("train")) if r.speaker in pack.personas][:30]
    extra = [
        _turn(3, "table", n, r.speaker, pack.personas[r.speaker].side, "public", r.text)
        for n, r in enumerate([*rows, rows[0]], start=1)
    ]
    base = sample_transcript()
    return base.model_copy(update={"turns": [*base.turns, *extra]})


def persona_turns(transcript: Transcript) -> list[tuple[str, str]]:
    return [(t.speaker, t.utterance) for t in transcript.turns if t.side is not None]


def test_turns_scored_as_they_come_give_the_end_of_run_evaluation(
    pack: PersonaPack, transcript: Transcript
) -> None:
    at_end = evaluate_transcript(transcript, pack)
    assert any(v.verdict == "violated" for t in at_end.turns for v in t.verdicts)  # not vacuous

    live = RunScorer(pack)
    turns = persona_turns(transcript)
    random.Random(7).shuffle(turns)  # the order of arrival does not matter
    for speaker, text in turns:
        live.add(speaker, text)
    live.add("event", "A scripted event is not a persona turn.")  # ignored, as at the end
    assert live.evaluation(transcript).model_dump() == at_end.model_dump()


def test_a_resumed_run_scores_the_turns_it_did_not_see_at_the_end(
    pack: PersonaPack, transcript: Transcript
) -> None:
    live = RunScorer(pack)
    for speaker, text in persona_turns(transcript)[-10:]:  # only the turns after a resume
        live.add(speaker, text)
    assert (
        live.evaluation(transcript).model_dump()
        == evaluate_transcript(transcript, pack).model_dump()
    )
