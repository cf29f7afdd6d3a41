"""Kill a real `impasse run` process mid-round with SIGKILL, resume it, compare with a clean run.

The model is the fake OpenAI-compatible server (deterministic: the same prompt gets the same
reply), so an interrupted-then-resumed run must equal an uninterrupted one turn for turn.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from harness.transcript.store import RunStore
from tests.cli_process import scripted_fake
from tests.fake_openai import FakeOpenAI

ARGS = ["--scenario", "washington-2019-05", "--rounds", "3", "--model", "fake-model"]


def impasse(args: list[str], env: dict[str, str]) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "harness.cli.main", *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def env_for(fake: FakeOpenAI, root: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        OPENAI_BASE_URL=fake.base_url,
        OPENAI_API_KEY="sk-test-local",
        IMPASSE_TRANSCRIPTS=str(root),
        IMPASSE_CACHE_DIR=str(root.parent / "cache"),
    )
    return env


def turns_on_disk(root: Path) -> int:
    for path in root.glob("*/transcript.json"):
        try:
            return len(json.loads(path.read_text())["turns"])
        except (json.JSONDecodeError, KeyError, FileNotFoundError):
            return 0
    return 0


def test_sigkill_mid_round_then_resume_equals_an_uninterrupted_run(tmp_path: Path):
    with scripted_fake(latency_s=0.05) as fake:
        clean_root = tmp_path / "clean" / "transcripts"
        done = impasse(["run", *ARGS], env_for(fake, clean_root))
        out, err = done.communicate(timeout=120)
        assert done.returncode == 0, err
        (clean_id,) = [p.name for p in clean_root.iterdir()]
        clean = RunStore(clean_root).load_transcript(clean_id)

        root = tmp_path / "killed" / "transcripts"
        env = env_for(fake, root)
        victim = impasse(["run", *ARGS], env)
        deadline = time.monotonic() + 60
        while turns_on_disk(root) < 7 and time.monotonic() < deadline:  # mid round 1
            time.sleep(0.02)
        victim.send_signal(signal.SIGKILL)
        victim.wait(timeout=10)
        (run_id,) = [p.name for p in root.iterdir()]
        partial = RunStore(root).load_transcript(run_id)  # valid JSON: never half-written
        assert 0 < len(partial.turns) < len(clean.turns)
        assert partial.status == "running"

        resumed = impasse(["resume", run_id[:10]], env)
        out, err = resumed.communicate(timeout=120)
        assert resumed.returncode == 0, err
        assert run_id in out.splitlines()[-1] or run_id in out

    final = RunStore(root).load_transcript(run_id)
    assert final.status == "complete"
    assert [t.id for t in final.turns] == [t.id for t in clean.turns]
    assert [t.utterance for t in final.turns] == [t.utterance for t in clean.turns]
    assert len({t.id for t in final.turns}) == len(final.turns)
    assert not list(root.glob("**/*.tmp"))
