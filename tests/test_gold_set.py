"""The gold set keeps its own rules: valid speakers and red lines, consistent tags, and the
measurement splits (`dev`, `holdout`, `holdout2`, `holdout3`) never leak into what the statistical layer trains on."""

from __future__ import annotations

import pytest

from harness.eval.gold import GOLD_DIR, TRAINING_SPLITS, GoldTurn, read_gold
from harness.pack.load import load_pack

MEASUREMENT_SPLITS = ("dev", "holdout", "holdout2", "holdout3")
SPLITS = (*TRAINING_SPLITS, *MEASUREMENT_SPLITS)
CASES = {"plain", "negation", "other_side", "reported_speech", "hypothetical", "paraphrase",
         "multi_issue", "small_talk", "question", "sarcasm_or_irony", "injection"}  # fmt: skip


@pytest.fixture(scope="module")
def rows() -> dict[str, list[GoldTurn]]:
    return {split: read_gold(GOLD_DIR / f"{split}.jsonl") for split in SPLITS}


def _red_lines_of(speaker: str) -> set[str]:
    pack = load_pack("us-china-2019")
    return {e.issue for e in pack.entries_for(speaker) if e.kind == "red_line"}


def test_every_split_file_is_listed() -> None:
    assert {p.stem for p in GOLD_DIR.glob("*.jsonl")} == set(SPLITS)


def test_labels_name_the_speakers_own_red_lines(rows: dict[str, list[GoldTurn]]) -> None:
    pack = load_pack("us-china-2019")
    for split, turns in rows.items():
        for row in turns:
            where = f"{split}:{row.id}"
            assert row.speaker in pack.personas, where
            own = _red_lines_of(row.speaker)
            assert set(row.violated) <= own and set(row.upheld) <= own, where
            assert not set(row.violated) & set(row.upheld), where
            assert set(row.cases) <= CASES, where
            labels = len(row.violated) + len(row.upheld)
            assert ("multi_issue" in row.cases) == (labels > 1), where


def test_ids_are_unique_across_splits(rows: dict[str, list[GoldTurn]]) -> None:
    ids = [row.id for turns in rows.values() for row in turns]
    assert len(ids) == len(set(ids))


def test_measurement_splits_share_no_text_with_training(rows: dict[str, list[GoldTurn]]) -> None:
    def norm(text: str) -> str:
        return " ".join(text.lower().split())

    trained = {norm(r.text) for s in TRAINING_SPLITS for r in rows[s]}
    for split in MEASUREMENT_SPLITS:
        assert not {norm(r.text) for r in rows[split]} & trained, split
    assert not set(MEASUREMENT_SPLITS) & set(TRAINING_SPLITS)


def test_every_red_line_is_measured_in_both_directions(rows: dict[str, list[GoldTurn]]) -> None:
    for split in MEASUREMENT_SPLITS:
        for label in ("violated", "upheld"):
            issues = {i for r in rows[split] for i in getattr(r, label)}
            assert issues >= {"legal_changes", "text_publication", "sovereignty_dignity",
                              "tariff_removal", "retaliation_pledge", "enforcement",
                              "appear_soft"}, (split, label)  # fmt: skip
