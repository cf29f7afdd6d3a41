"""The run store: ids, references, prompts, evaluations and listing."""

from __future__ import annotations

import datetime as dt
import json
import multiprocessing
import os
import re
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from transcript_samples import sample_evaluation, sample_transcript

from harness.errors import TranscriptError
from harness.llm.types import ChatMessage
from harness.transcript.runs import format_run_id
from harness.transcript.store import RunStore


def _ids_from_process(root: str, count: int, queue: multiprocessing.Queue) -> None:  # type: ignore[type-arg]
    store = RunStore(Path(root))
    queue.put([store.new_run_id("washington-2019-05") for _ in range(count)])


def test_run_id_shape() -> None:
    when = dt.datetime(2026, 11, 29, 8, 30, 12, tzinfo=dt.UTC)
    assert (
        format_run_id("washington-2019-05", when, "3f9a")
        == "20261129-083012-washington-2019-05-3f9a"
    )
    assert re.fullmatch(r"\d{8}-\d{6}-a-b-[0-9a-f]{4}", format_run_id("A/B", when))


def test_new_ids_unique_across_threads(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Force collisions: only 4 possible suffixes, so uniqueness must come from mkdir.
    suffixes = iter(["aaaa", "bbbb", "cccc", "dddd"] * 1000)
    monkeypatch.setattr("harness.transcript.runs.secrets.token_hex", lambda n: next(suffixes))
    store = RunStore(tmp_path)
    with ThreadPoolExecutor(max_workers=4) as pool:
        ids = list(pool.map(lambda _: store.new_run_id("s"), range(4)))
    assert len(set(ids)) == 4
    assert all((tmp_path / i).is_dir() for i in ids)


def test_new_ids_unique_across_processes(tmp_path: Path) -> None:
    ctx = multiprocessing.get_context("spawn" if os.name == "nt" else "fork")
    queue = ctx.Queue()
    procs = [
        ctx.Process(target=_ids_from_process, args=(str(tmp_path), 25, queue)) for _ in range(2)
    ]
    for p in procs:
        p.start()
    ids = queue.get(timeout=30) + queue.get(timeout=30)
    for p in procs:
        p.join(timeout=30)
    assert len(ids) == 50 and len(set(ids)) == 50


@pytest.fixture
def store(tmp_path: Path) -> RunStore:
    s = RunStore(tmp_path / "transcripts")
    for run_id in ("20261129-083012-w-aaaa", "20261129-083012-w-aaab", "20261130-090000-w-cccc"):
        s.save_transcript(sample_transcript(run_id))
    return s


def test_resolve_full_id_and_unique_prefix(store: RunStore) -> None:
    assert store.resolve("20261129-083012-w-aaaa") == "20261129-083012-w-aaaa"
    assert store.resolve("20261130") == "20261130-090000-w-cccc"


def test_ambiguous_prefix_lists_candidates(store: RunStore) -> None:
    with pytest.raises(TranscriptError) as info:
        store.resolve("20261129-083012-w-aa")
    message = str(info.value)
    assert "ambiguous" in message
    assert "20261129-083012-w-aaaa" in message and "20261129-083012-w-aaab" in message


def test_unknown_id(store: RunStore) -> None:
    with pytest.raises(TranscriptError, match="no run 'zzz'"):
        store.load_transcript("zzz")


def test_path_inside_root_resolves(store: RunStore) -> None:
    folder = store.root / "20261130-090000-w-cccc"
    assert store.resolve(str(folder)) == "20261130-090000-w-cccc"
    assert store.resolve(str(folder / "transcript.json")) == "20261130-090000-w-cccc"


@pytest.mark.parametrize("ref", ["/etc", "../outside", "./../transcripts/../x"])
def test_path_outside_root_refused(
    store: RunStore, ref: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(store.root)
    (store.root.parent / "outside").mkdir(exist_ok=True)
    with pytest.raises(TranscriptError, match="outside the transcripts folder"):
        store.load_transcript(ref)


def test_symlink_escaping_root_refused(store: RunStore, tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (store.root / "link").symlink_to(elsewhere)
    with pytest.raises(TranscriptError, match="outside the transcripts folder"):
        store.resolve(str(store.root / "link"))


def test_missing_transcript_in_run_folder(store: RunStore) -> None:
    run_id = store.new_run_id("w")
    with pytest.raises(TranscriptError, match="no transcript.json"):
        store.load_transcript(run_id)


def test_invalid_run_id_refused(store: RunStore) -> None:
    with pytest.raises(TranscriptError, match="invalid run id"):
        store.run_dir("../escape")


def test_prompts_stored_once_by_hash(store: RunStore) -> None:
    run_id = "20261130-090000-w-cccc"
    first = {"h1": [ChatMessage(role="system", content="You are Liu He.")]}
    store.save_prompts(run_id, first)
    store.save_prompts(
        run_id,
        {
            "h1": [ChatMessage(role="system", content="ignored: same hash")],
            "h2": [ChatMessage(role="user", content="Round 2")],
        },
    )
    prompts = store.load_prompts(run_id)
    assert set(prompts) == {"h1", "h2"}
    assert prompts["h1"][0].content == "You are Liu He."
    assert store.load_prompts("20261129-083012-w-aaaa") == {}


def test_evaluation_round_trip(store: RunStore) -> None:
    run_id = "20261130-090000-w-cccc"
    assert store.load_evaluation(run_id) is None
    ev = sample_evaluation(store.load_transcript(run_id))
    store.save_evaluation(run_id, ev)
    assert store.load_evaluation(run_id) == ev


def test_list_runs_filters_and_fidelity(store: RunStore) -> None:
    later = sample_transcript(
        "20261201-000000-other-dddd", started=dt.datetime(2026, 12, 1, tzinfo=dt.UTC)
    )
    later.meta.scenario_id = "other"
    store.save_transcript(later)
    store.save_evaluation(later.meta.run_id, sample_evaluation(later))
    rows = store.list_runs()
    assert [r.id for r in rows][-1] == "20261201-000000-other-dddd"
    assert rows[-1].fidelity == pytest.approx(0.75)
    assert rows[0].fidelity is None
    assert [r.id for r in store.list_runs(scenario="other")] == ["20261201-000000-other-dddd"]
    assert [r.id for r in store.list_runs(since=dt.date(2026, 11, 30))] == [
        "20261201-000000-other-dddd"
    ]


def test_list_runs_shows_unreadable_runs(store: RunStore) -> None:
    bad = store.run_dir("20261129-000000-bad-0000") / "transcript.json"
    bad.write_text(json.dumps({"schema_version": 1}))
    rows = {r.id: r for r in store.list_runs()}
    assert rows["20261129-000000-bad-0000"].status == "unreadable"
    assert "meta" in (rows["20261129-000000-bad-0000"].problem or "")
