"""Perturbations: an injected violation is flagged, a speaker swap clears it, reformatting
changes nothing."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from harness.eval import evaluate_turns
from harness.pack.models import PersonaPack
from harness.transcript.turns_jsonl import PlainTurn

FIXTURE = Path(__file__).parent / "fixtures" / "eval_pack" / "pack.yaml"

FAITHFUL = [
    ("lighthizer", "Welcome to USTR. The tariffs stay on until China shows it will carry through."),
    ("liu_he", "We will make these changes through regulations, not by rewriting our laws."),
    ("mnuchin", "China must pledge not to retaliate if we reimpose tariffs."),
    ("liao_min", "Only a summary of the agreement should be released."),
    ("trump", "We will never look weak on China."),
    ("wang_shouwen", "Enforcement will go through our domestic law-enforcement channels."),
]


@pytest.fixture(scope="module")
def pack() -> PersonaPack:
    return PersonaPack.model_validate(yaml.safe_load(FIXTURE.read_text(encoding="utf-8")))


def labels(pack: PersonaPack, turns: list[tuple[str, str]]) -> list[set[tuple[str, str]]]:
    evaluation = evaluate_turns([PlainTurn(speaker=s, text=t) for s, t in turns], pack)
    return [{(v.entry, v.verdict) for v in turn.verdicts} for turn in evaluation.turns]


def violations(pack: PersonaPack, turns: list[tuple[str, str]]) -> list[int]:
    return [i for i, got in enumerate(labels(pack, turns)) if any(v == "violated" for _, v in got)]


def test_faithful_transcript_has_no_violation(pack: PersonaPack) -> None:
    assert violations(pack, FAITHFUL) == []


@pytest.mark.parametrize(
    ("index", "sentence"),
    [
        (1, " But to be clear, the NPC will amend the patent law this year."),
        (0, " Frankly, we will lift all tariffs as soon as we sign."),
        (3, " We also agree to publish the full text."),
    ],
)
def test_injected_violation_flags_that_turn(pack: PersonaPack, index: int, sentence: str) -> None:
    turns = list(FAITHFUL)
    speaker, text = turns[index]
    turns[index] = (speaker, text + sentence)
    assert violations(pack, turns) == [index]


def test_swapping_speaker_to_other_side_clears_it(pack: PersonaPack) -> None:
    violating = "We will amend our laws on intellectual property."
    assert violations(pack, [("liu_he", violating)]) == [0]
    assert violations(pack, [("lighthizer", violating)]) == []
    tariff = "We will remove all tariffs the day the deal is signed."
    assert violations(pack, [("mnuchin", tariff)]) == [0]
    assert violations(pack, [("liu_he", tariff)]) == []


def _reformat(text: str, how: str) -> str:
    if how == "upper":
        return text.upper()
    if how == "lower":
        return text.lower()
    if how == "spaces":
        return "  " + text.replace(" ", "   ").replace(". ", ".\n") + "  "
    if how == "punct":
        return text.replace("'", "\u2019").rstrip(".") + "!!"
    raise AssertionError(how)


@pytest.mark.parametrize("how", ["upper", "lower", "spaces", "punct"])
def test_reformatting_changes_no_verdict(pack: PersonaPack, how: str) -> None:
    turns = [*FAITHFUL, ("liu_he", "We will amend our laws. We won't publish the full text.")]
    before = labels(pack, turns)
    after = labels(pack, [(s, _reformat(t, how)) for s, t in turns])
    assert after == before


def test_conditional_offer_flags_and_speaker_swap_clears(pack: PersonaPack) -> None:
    offer = "If you sign this week, tariffs come off that day."
    assert violations(pack, [("lighthizer", offer)]) == [0]
    # said by China it demands the other side's move: no Chinese red line is touched
    assert violations(pack, [("liu_he", offer)]) == []
    # reformatting changes nothing
    assert violations(
        pack, [("lighthizer", "  IF YOU SIGN THIS WEEK,   TARIFFS COME OFF THAT DAY ")]
    ) == [0]
