"""Helpers for tests that drive the real `impasse` CLI: subprocesses, scripted replies, disk checks.

Used by the reliability, bad-input, hostile-output and secrets tests. A subprocess runs
`python -m harness.cli.main ...` exactly as a user would, against `tests.fake_openai.FakeOpenAI`;
in-process calls go through `harness.cli.main.main(argv)`.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.llm.types import ChatMessage
from harness.transcript.model import Transcript
from harness.transcript.store import RunStore
from tests.fake_openai import FakeOpenAI, first_system_prompt
from tests.puppet import _round_and_phase

SCENARIO = "washington-2019-05"
RUN_ARGS = ["run", "--scenario", SCENARIO, "--rounds", "2", "--model", "fake-model"]

# Persona display names (first line of every system prompt) -> persona ids.
PERSONA_NAMES = {
    "Robert Lighthizer": "lighthizer",
    "Steven Mnuchin": "mnuchin",
    "Larry Kudlow": "kudlow",
    "Donald J. Trump": "trump",
    "Liu He": "liu_he",
    "Liao Min": "liao_min",
    "Wang Shouwen": "wang_shouwen",
    "Xi Jinping": "xi",
}


# -- processes ---------------------------------------------------------------------------------


def cli_env(base_url: str | None, root: Path, cache: Path, **extra: str) -> dict[str, str]:
    """The environment of one `impasse` subprocess: fake endpoint, tmp folders, no real key.

    The autouse fixture in conftest.py has already removed the user's OPENAI_* / IMPASSE_*
    variables from `os.environ`, so nothing from the shell leaks into the child.
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "IMPASSE_"))}
    env.update(
        OPENAI_API_KEY="sk-test-local",
        IMPASSE_TRANSCRIPTS=str(root),
        IMPASSE_CACHE_DIR=str(cache),
    )
    if base_url is not None:
        env["OPENAI_BASE_URL"] = base_url
    env.update(extra)
    return env


def spawn(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.Popen[str]:
    """Start `impasse ARGS` (as `python -m harness.cli.main`) in `cwd` (created if missing)."""
    cwd.mkdir(parents=True, exist_ok=True)
    return subprocess.Popen(
        [sys.executable, "-m", "harness.cli.main", *args],
        env=env,
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def run_cli(
    args: list[str], env: dict[str, str], cwd: Path, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """Run `impasse ARGS` to the end; returns the completed process (stdout, stderr, code)."""
    proc = spawn(args, env, cwd)
    out, err = proc.communicate(timeout=timeout)
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


def kill9(proc: subprocess.Popen[str]) -> None:
    """SIGKILL a process we started and reap it."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGKILL)
    proc.communicate(timeout=30)


def saved_run_id(out: str) -> str:
    """The run id from the closing line `run <id> saved; ...` of `impasse run`/`resume`."""
    for line in out.splitlines():
        if line.startswith("run ") and " saved" in line:
            return line.split()[1]
    raise AssertionError(f"no 'run <id> saved' line in:\n{out}")


# -- scripted model ----------------------------------------------------------------------------


_ROUND = re.compile(r"\bRound (\d+) of at most\b")


@dataclass(frozen=True)
class Cue:
    """Who is asked to speak, as read from a chat request (for responders)."""

    speaker: str
    round: int
    phase: str  # caucus, table, principal
    principal_schema: bool


def cue_of(body: dict[str, Any]) -> Cue:
    name = first_system_prompt(body).removeprefix("You are ").split(",", 1)[0]
    # The turn prompt; a repair request appends messages after it.
    prompts = [str(m["content"]) for m in body["messages"] if _ROUND.search(str(m["content"]))]
    round_no, phase = (
        _round_and_phase([ChatMessage(role="user", content=prompts[-1])]) if prompts else (0, "")
    )
    principal = "PrincipalReply" in json.dumps(body)  # the schema's name or title
    return Cue(PERSONA_NAMES.get(name, name), round_no, phase, principal)


def holding_reply(body: dict[str, Any], utterance: str | None = None) -> dict[str, Any]:
    """A valid reply that neither ends nor breaks the talks; deterministic per request.

    The utterance carries a digest of the prompt, so two runs only have equal utterances when
    every speaker saw the same prompt (what a resumed run must reproduce).
    """
    cue = cue_of(body)
    digest = hashlib.sha256(json.dumps(body["messages"], sort_keys=True).encode()).hexdigest()[:8]
    reply: dict[str, Any] = {
        "utterance": utterance
        if utterance is not None
        else f"{cue.speaker} holds firm in round {cue.round} ({cue.phase}) [{digest}].",
        "stances": [],
        "rationale": f"private reasoning of {cue.speaker}",
    }
    if cue.principal_schema:
        reply["kind"] = "directive"
    else:
        reply["action"] = None
    return reply


def scripted_fake(**kwargs: Any) -> FakeOpenAI:
    """A fake endpoint whose replies hold every position (a run lasts all its rounds)."""
    kwargs.setdefault("responder", holding_reply)
    return FakeOpenAI(**kwargs)


# -- disk checks -------------------------------------------------------------------------------


def snapshot(root: Path) -> dict[str, bytes | None]:
    """Every path under `root` (relative) -> its bytes (None for a folder)."""
    tree: dict[str, bytes | None] = {}
    for path in sorted(root.rglob("*")):
        rel = str(path.relative_to(root))
        tree[rel] = None if path.is_dir() else path.read_bytes()
    return tree


def only_run(root: Path) -> str:
    (run_id,) = [p.name for p in root.iterdir() if p.is_dir()]
    return run_id


def assert_run_folder_sound(root: Path, run_id: str) -> Transcript:
    """A run folder a kill must never leave broken: valid transcript, no temp file, db opens."""
    folder = root / run_id
    leftovers = [p.name for p in folder.rglob("*.tmp")]
    assert not leftovers, f"temp files left in {folder}: {leftovers}"
    json.loads((folder / "transcript.json").read_text(encoding="utf-8"))
    transcript = RunStore(root).load_transcript(run_id)
    ids = [t.id for t in transcript.turns]
    assert len(ids) == len(set(ids)), f"duplicated turn ids: {ids}"
    with sqlite3.connect(folder / "checkpoints.sqlite") as db:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        assert db.execute("SELECT count(*) FROM checkpoints").fetchone()[0] > 0
    return transcript


def turn_ids(transcript: Transcript) -> list[str]:
    return [t.id for t in transcript.turns]


def expected_turn_ids(rounds: int = 2) -> list[str]:
    """The turn ids of an uninterrupted `RUN_ARGS` run, from the scenario's schedule."""
    from harness.graph.turn_order import schedule_round
    from harness.pack.load import load_pack

    pack = load_pack("us-china-2019")
    scenario = pack.scenarios[SCENARIO]
    return [
        f"r{r:02d}.{slot.phase}.{cursor:02d}"
        for r in range(1, rounds + 1)
        for cursor, slot in enumerate(schedule_round(scenario, pack, r, []))
    ]
