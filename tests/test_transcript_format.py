"""The transcript format: round-trip, published schema, atomic writes, load errors, plain JSONL."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from transcript_samples import sample_transcript

from harness.errors import TranscriptError
from harness.transcript.model import Transcript
from harness.transcript.schema import transcript_schema_text
from harness.transcript.store import RunStore
from harness.transcript.turns_jsonl import (
    PlainTurn,
    dumps_plain_turns,
    plain_turns,
    read_plain_turns,
)

DOCS_SCHEMA = Path(__file__).parent.parent / "docs" / "transcript.schema.json"


def test_round_trip_through_the_store(tmp_path: Path) -> None:
    store = RunStore(tmp_path)
    original = sample_transcript()
    path = store.save_transcript(original)
    assert path == tmp_path / original.meta.run_id / "transcript.json"
    loaded = store.load_transcript(original.meta.run_id)
    assert loaded == original
    assert Transcript.model_validate_json(original.model_dump_json()) == original


def test_published_schema_matches_the_model() -> None:
    assert DOCS_SCHEMA.read_text(encoding="utf-8") == transcript_schema_text(), (
        "docs/transcript.schema.json is stale: run "
        "`python -m harness.transcript.schema > docs/transcript.schema.json`"
    )


def test_save_leaves_no_temp_files(tmp_path: Path) -> None:
    store = RunStore(tmp_path)
    transcript = sample_transcript()
    store.save_transcript(transcript)
    store.save_transcript(transcript.model_copy(update={"status": "error", "error": "boom"}))
    assert sorted(p.name for p in (tmp_path / transcript.meta.run_id).iterdir()) == [
        "transcript.json"
    ]


def test_failed_write_keeps_the_old_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = RunStore(tmp_path)
    transcript = sample_transcript()
    path = store.save_transcript(transcript)
    before = path.read_bytes()

    def broken_fsync(fd: int) -> None:
        raise OSError("disk full")

    monkeypatch.setattr("harness.files.os.fsync", broken_fsync)
    with pytest.raises(OSError, match="disk full"):
        store.save_transcript(transcript.model_copy(update={"status": "error"}))
    assert path.read_bytes() == before
    assert [p.name for p in path.parent.iterdir()] == ["transcript.json"]


def test_invalid_transcript_names_file_and_field(tmp_path: Path) -> None:
    store = RunStore(tmp_path)
    transcript = sample_transcript()
    path = store.save_transcript(transcript)
    data = json.loads(path.read_text())
    data["turns"][3]["phase"] = "lunch"
    path.write_text(json.dumps(data))
    with pytest.raises(TranscriptError) as info:
        store.load_transcript(transcript.meta.run_id)
    message = str(info.value)
    assert str(path) in message and "turns.3.phase" in message
    assert "\n" not in message


def test_unknown_field_is_an_error(tmp_path: Path) -> None:
    store = RunStore(tmp_path)
    transcript = sample_transcript()
    path = store.save_transcript(transcript)
    data = json.loads(path.read_text())
    data["meta"]["api_key"] = "sk-nope"
    path.write_text(json.dumps(data))
    with pytest.raises(TranscriptError, match=r"meta\.api_key"):
        store.load_transcript(transcript.meta.run_id)


def test_truncated_json_names_file_and_line(tmp_path: Path) -> None:
    store = RunStore(tmp_path)
    transcript = sample_transcript()
    path = store.save_transcript(transcript)
    path.write_text(path.read_text()[:200])
    with pytest.raises(TranscriptError, match=r"transcript\.json:\d+:\d+: invalid JSON"):
        store.load_transcript(transcript.meta.run_id)


def test_newer_schema_version_is_refused(tmp_path: Path) -> None:
    store = RunStore(tmp_path)
    transcript = sample_transcript()
    path = store.save_transcript(transcript)
    data = json.loads(path.read_text())
    data["schema_version"] = 99
    path.write_text(json.dumps(data))
    with pytest.raises(TranscriptError, match="schema_version 99 is newer"):
        store.load_transcript(transcript.meta.run_id)


def test_plain_turns_export_and_read_back(tmp_path: Path) -> None:
    transcript = sample_transcript()
    turns = plain_turns(transcript)
    # Public table turns only: no caucus, no directive to one side, no event.
    assert [t.speaker for t in turns] == ["lighthizer", "liu_he", "lighthizer", "liu_he"]
    path = tmp_path / "turns.jsonl"
    path.write_text(dumps_plain_turns(turns) + "\n\n", encoding="utf-8")
    assert read_plain_turns(path) == turns


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ('{"speaker": "a", "text": ', "invalid JSON"),
        ('["a", "b"]', "expected an object"),
        ('{"speaker": "a"}', "text"),
        ('{"speaker": "", "text": "x"}', "speaker"),
        ('{"speaker": "a", "text": "x", "extra": 1}', "extra"),
    ],
)
def test_plain_turns_bad_line_names_file_and_line(tmp_path: Path, line: str, expected: str) -> None:
    path = tmp_path / "turns.jsonl"
    path.write_text('{"speaker": "a", "text": "fine"}\n\n' + line + "\n", encoding="utf-8")
    with pytest.raises(TranscriptError) as info:
        read_plain_turns(path)
    assert f"{path}:3" in str(info.value)
    assert expected in str(info.value)


def test_plain_turns_missing_file(tmp_path: Path) -> None:
    with pytest.raises(TranscriptError, match="not found"):
        read_plain_turns(tmp_path / "nope.jsonl")


def test_plain_turn_keeps_unicode() -> None:
    text = dumps_plain_turns([PlainTurn(speaker="liu_he", text="刘鹤: 我们不会让步")])
    assert "我们" in text
