"""Two `impasse run` processes writing into the same transcripts folder at once lose nothing.

Both start together against one fake endpoint. Each must finish, under its own run id, with a
complete, valid transcript holding every turn of the schedule; the two runs overlap in time
(so they really ran at once: each uses its own key, and the fake answers no one until both keys
have called) and, the model being deterministic, say the same things.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.cli.main import main
from harness.transcript.store import RunStore
from tests.cli_process import (
    RUN_ARGS,
    assert_run_folder_sound,
    cli_env,
    expected_turn_ids,
    saved_run_id,
    scripted_fake,
    spawn,
    turn_ids,
)


def test_two_processes_share_a_transcripts_folder(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = tmp_path / "transcripts"
    with scripted_fake(latency_s=0.01, rendezvous_keys=2) as fake:
        procs = [
            spawn(
                RUN_ARGS,
                cli_env(fake.base_url, root, tmp_path / "cache", OPENAI_API_KEY=f"sk-test-{i}"),
                tmp_path,
            )
            for i in range(2)
        ]
        results = [proc.communicate(timeout=120) for proc in procs]
    for proc, (_, err) in zip(procs, results, strict=True):
        assert proc.returncode == 0, err

    ids = [saved_run_id(out) for out, _ in results]
    assert len(set(ids)) == 2
    assert sorted(p.name for p in root.iterdir()) == sorted(ids)
    runs = [assert_run_folder_sound(root, run_id) for run_id in ids]
    for run in runs:
        assert run.status == "complete"
        assert turn_ids(run) == expected_turn_ids()
    first, second = runs
    assert [t.utterance for t in first.turns] == [t.utterance for t in second.turns]
    assert first.meta.ended_at and second.meta.ended_at
    assert (
        first.meta.started_at < second.meta.ended_at
        and second.meta.started_at < first.meta.ended_at
    )
    assert len(fake.chat_requests) == 2 * sum(1 for t in first.turns if t.phase != "event")

    listed = RunStore(root).list_runs()
    assert sorted(r.id for r in listed) == sorted(ids) and {r.status for r in listed} == {
        "complete"
    }
    with pytest.raises(SystemExit) as exited:
        main(["list", "--json", "--transcripts-dir", str(root)])
    out = capsys.readouterr().out
    assert exited.value.code == 0 and all(run_id in out for run_id in ids)
