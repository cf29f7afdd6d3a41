"""An endpoint that goes down and stays down: the run stops cleanly, then resumes to the end.

The fake endpoint answers the first turns, then fails every request with HTTP 500. With a small
retry budget (IMPASSE_RETRY_ATTEMPTS / IMPASSE_RETRY_DEADLINE) `impasse run` must stop after
that budget with one line naming `impasse resume <run-id>`, exit 2, its checkpoint intact and
its transcript saved with status "error". Once the endpoint is back, `impasse resume` finishes
the run, and the result equals a clean run turn for turn.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from harness.transcript.store import RunStore
from tests.cli_process import (
    RUN_ARGS,
    assert_run_folder_sound,
    cli_env,
    expected_turn_ids,
    holding_reply,
    only_run,
    run_cli,
    scripted_fake,
    spawn,
    turn_ids,
)
from tests.fake_openai import Fault

ANSWERED = 8  # chat requests answered before the endpoint goes down (mid round 1)
ATTEMPTS = 4
DEADLINE_S = 1.5


def test_endpoint_down_stops_with_resume_hint_then_resume_finishes(tmp_path: Path) -> None:
    served = 0

    def goes_down(body: dict[str, Any]) -> Any:
        nonlocal served
        served += 1
        if served > ANSWERED:
            return Fault("server_error", status=500, message="upstream is down")
        return holding_reply(body)

    with scripted_fake() as clean_fake, scripted_fake(responder=goes_down) as fake:
        clean_root, root = tmp_path / "clean", tmp_path / "down"
        clean = spawn(RUN_ARGS, cli_env(clean_fake.base_url, clean_root, tmp_path / "c1"), tmp_path)
        env = cli_env(
            fake.base_url, root, tmp_path / "c2",
            IMPASSE_RETRY_ATTEMPTS=str(ATTEMPTS), IMPASSE_RETRY_DEADLINE=str(DEADLINE_S),
        )  # fmt: skip
        started = time.monotonic()
        down = run_cli(RUN_ARGS, env, tmp_path)
        elapsed = time.monotonic() - started
        _, clean_err = clean.communicate(timeout=120)
        assert clean.returncode == 0, clean_err

        run_id = only_run(root)
        assert down.returncode == 2, down.stderr
        assert "Traceback" not in down.stderr
        # stderr holds the retry log, then exactly one error line
        errors = [line for line in down.stderr.splitlines() if line.startswith("error:")]
        assert len(errors) == 1 and down.stderr.splitlines()[-1] == errors[0], down.stderr
        line = errors[0]
        assert line.startswith(f"error: run {run_id} stopped: ")
        assert "HTTP 500: upstream is down" in line and "attempt(s)" in line
        assert line.endswith(f"continue with: impasse resume {run_id})")
        failed = [r for r in fake.chat_requests if r.fault == "server_error"]
        assert 1 < len(failed) <= ATTEMPTS  # retried, then stopped within the budget
        assert elapsed < 60

        stopped = assert_run_folder_sound(root, run_id)
        assert stopped.status == "error"
        assert stopped.error is not None and "HTTP 500" in stopped.error
        assert turn_ids(stopped) == expected_turn_ids()[:ANSWERED]

        fake.responder = holding_reply  # the endpoint is back
        resumed = run_cli(["resume", run_id], env, tmp_path)
        assert resumed.returncode == 0, resumed.stderr

    final = assert_run_folder_sound(root, run_id)
    reference = RunStore(clean_root).load_transcript(only_run(clean_root))
    assert final.status == "complete" and final.error is None
    assert turn_ids(final) == turn_ids(reference) == expected_turn_ids()
    assert [t.utterance for t in final.turns] == [t.utterance for t in reference.turns]
