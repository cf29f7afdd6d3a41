"""Every evidence quote stands verbatim at its offsets in the source article (when it is here)."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.pack.load import load_pack
from harness.pack.models import MAX_QUOTE_WORDS, Evidence, PersonaPack
from harness.pack.source import candidate_paths, evidence_error, find_source, read_source, sha256_of


@pytest.fixture(scope="module")
def pack() -> PersonaPack:
    return load_pack("us-china-2019")


@pytest.fixture(scope="module")
def source(pack: PersonaPack) -> Path:
    path = find_source(pack)
    if path is None:
        looked = ", ".join(str(p) for p in candidate_paths(pack.source.filename))
        pytest.skip(f"source article not found at {looked}")
    return path


def _all_evidence(pack: PersonaPack) -> list[Evidence]:
    found = [ev for entry in pack.ledger for ev in entry.evidence]
    for scenario in pack.scenarios.values():
        if scenario.documented_outcome is not None:
            found += scenario.documented_outcome.evidence
    return found


def test_source_hash_matches_the_pack(pack: PersonaPack, source: Path) -> None:
    assert sha256_of(source) == pack.source.sha256


def test_every_quote_is_verbatim_at_its_offsets(pack: PersonaPack, source: Path) -> None:
    text = read_source(source)
    evidence = _all_evidence(pack)
    assert len(evidence) > 80
    for item in evidence:
        assert text[item.start : item.end] == item.quote


def test_every_quote_is_short(pack: PersonaPack) -> None:
    for item in _all_evidence(pack):
        assert len(item.quote.split()) <= MAX_QUOTE_WORDS, item.quote


def test_a_misplaced_quote_says_where_it_is() -> None:
    text = "Tariffs rose. Talks went on."
    message = evidence_error(text, Evidence(quote="Talks went on.", start=0, end=14))
    assert message is not None and "found at 14-28" in message


def test_a_retyped_quote_points_to_the_near_match() -> None:
    text = "He said “time is on our side,” and left."
    message = evidence_error(text, Evidence(quote='"time is on our side,"', start=0, end=22))
    assert message is not None and "near match" in message and "at 8-30" in message


def test_find_source_prefers_an_explicit_path_then_the_environment(
    pack: PersonaPack, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert find_source(pack, tmp_path / "given.md") == tmp_path / "given.md"
    (tmp_path / pack.source.filename).write_text("x", encoding="utf-8")
    monkeypatch.setenv("IMPASSE_SOURCES", str(tmp_path))
    assert find_source(pack) == tmp_path / pack.source.filename
