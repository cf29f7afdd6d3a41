"""kill -9 at many points of a real `impasse run`, then `impasse resume`: nothing lost or repeated.

Kills come in chains: `impasse run` (2 rounds of washington-2019-05, its own fake endpoint) is
SIGKILLed at the chain's first point, `impasse resume RUN_ID` is SIGKILLed at the next point,
and so on; a last `impasse resume` finishes the run. After every kill the folder holds a valid
transcript.json (or none yet) whose turns are a prefix of the run, never fewer than after the
previous kill. The finished run is compared with an uninterrupted reference run: the same turn
ids, the same utterances (every reply carries a digest of its prompt, so a resumed speaker must
have seen exactly the same history), no duplicates, no temp file left, and a checkpoint
database that passes SQLite's integrity check.

Kill points:
- `call`: while a given speaker's model call is in flight (the fake endpoint holds the reply),
  in every phase that calls a model (caucus, table, principal) of both rounds;
- `after`: a few milliseconds after a speaker's reply went out, so the kill lands in what
  follows it: parsing, the checkpoint write, the transcript write or, after the last
  principal, the event phase (the next model call is held, so the kill always lands before it);
- `write`: inside the N-th atomic write of transcript.json or of a prompts/<hash>.json file,
  after the temp file is written and before it is renamed (a `sitecustomize` in the child
  pauses `os.replace`).
"""

from __future__ import annotations

import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from harness.transcript.model import Transcript
from harness.transcript.store import RunStore
from tests.cli_process import (
    RUN_ARGS,
    assert_run_folder_sound,
    cli_env,
    cue_of,
    expected_turn_ids,
    holding_reply,
    kill9,
    only_run,
    run_cli,
    scripted_fake,
    spawn,
    turn_ids,
)

# Pauses the child's N-th `os.replace` onto a file name, after creating a marker file.
PAUSE_HOOK = """
import os, time

_spec = os.environ.get("KILL_TEST_PAUSE_REPLACE")
if _spec:
    _name, _nth, _marker = _spec.split("|")
    _real_replace = os.replace
    _seen = [0]

    def _paused_replace(src, dst, *args, **kwargs):
        dst = os.fspath(dst)
        # "prompts" names the folder of per-hash prompt files; anything else is a file name.
        hit = os.path.basename(os.path.dirname(dst)) if _name == "prompts" else os.path.basename(dst)
        if hit == _name:
            _seen[0] += 1
            if _seen[0] == int(_nth):
                open(_marker, "w").close()
                time.sleep(600)
        return _real_replace(src, dst, *args, **kwargs)

    os.replace = _paused_replace
"""


@dataclass(frozen=True)
class Kill:
    """Where to kill: `call`/`after` the turn of `speaker` in (round, phase), or in the `nth`
    write of `file` by the process (`write`). `delay_s`: pause between the signal and the kill."""

    name: str
    kind: str  # call | after | write
    round: int = 0
    phase: str = ""
    speaker: str = ""
    nth: int = 0
    file: str = ""
    delay_s: float = 0.0


def call(r: int, phase: str, speaker: str) -> Kill:
    return Kill(f"call-r{r}-{phase}-{speaker}", "call", r, phase, speaker)


def after(r: int, phase: str, speaker: str, ms: int) -> Kill:
    return Kill(
        f"after-r{r}-{phase}-{speaker}-{ms}ms", "after", r, phase, speaker, delay_s=ms / 1000
    )


def write(file: str, nth: int) -> Kill:
    return Kill(f"write-{file.split('.')[0]}-{nth}", "write", nth=nth, file=file)


# Each chain's kills are in run order; every kill after the first hits a resumed process. The
# 250 ms kill after Xi always lands after round 1's events (the next call is held meanwhile).
# A process paused in its nth transcript write may still finish the step in flight (the write
# runs in a thread), so the kill after a write kill aims at least two turns later.
CHAINS: dict[str, list[Kill]] = {
    "a": [call(1, "caucus", "lighthizer"), write("transcript.json", 1), call(1, "table", "liu_he"),
          after(1, "principal", "xi", 0), call(2, "caucus", "wang_shouwen"), call(2, "principal", "xi")],
    "b": [call(1, "caucus", "liu_he"), after(1, "table", "liu_he", 3), call(1, "principal", "trump"),
          after(1, "principal", "xi", 8), call(2, "table", "liu_he"), write("prompts", 3)],
    "c": [write("transcript.json", 5), call(1, "table", "mnuchin"), after(1, "principal", "xi", 15),
          call(2, "caucus", "lighthizer"), after(2, "caucus", "kudlow", 5), write("transcript.json", 4)],
    "d": [call(1, "table", "lighthizer"), after(1, "principal", "xi", 250), call(2, "caucus", "kudlow"),
          write("transcript.json", 3), after(2, "principal", "trump", 5)],
}  # fmt: skip
KILLS = [(chain, i, kill) for chain, kills in CHAINS.items() for i, kill in enumerate(kills)]


class Trigger:
    """A responder that holds or marks the chosen turn's request; `fired` is set on reaching it."""

    def __init__(self, kill: Kill) -> None:
        self.kill = kill
        self.fired = threading.Event()
        self.release = threading.Event()

    def __call__(self, body: dict[str, Any]) -> Any:
        cue = cue_of(body)
        k = self.kill
        target = (cue.round, cue.phase, cue.speaker) == (k.round, k.phase, k.speaker)
        if k.kind == "call" and target:
            self.fired.set()
            self.release.wait(60)  # the caller is killed meanwhile
        elif k.kind == "after":
            if target:
                self.fired.set()
            elif self.fired.is_set():  # hold the next call: the kill lands before it
                self.release.wait(60)
        return holding_reply(body)


@dataclass
class ChainResult:
    partials: list[Transcript | None] = field(default_factory=list)  # on disk after each kill
    temps: list[list[str]] = field(default_factory=list)  # temp files right after each kill
    final: Transcript | None = None
    error: BaseException | None = None


@pytest.fixture(scope="module")
def hook_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("hook")
    (folder / "sitecustomize.py").write_text(PAUSE_HOOK)
    return folder


def _wait_for(path: Path, proc: Any, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        if proc.poll() is not None:
            out, err = proc.communicate()
            raise AssertionError(f"exited {proc.returncode} before the write:\n{out}\n{err}")
        assert time.monotonic() < deadline, "the write was never reached"
        time.sleep(0.005)


def _on_disk(root: Path) -> Transcript | None:
    """What a killed process left: a valid transcript (or none yet), never half a file."""
    run_id = only_run(root)
    path = root / run_id / "transcript.json"
    if not path.exists():
        return None
    json.loads(path.read_text(encoding="utf-8"))
    return RunStore(root).load_transcript(run_id)


def _kill_at(
    kill: Kill, args: list[str], env: dict[str, str], work: Path, trigger: Trigger, hook_dir: Path
) -> None:
    if kill.kind == "write":
        marker = work / f"paused-{kill.name}"
        env = {
            **env,
            "PYTHONPATH": str(hook_dir),
            "KILL_TEST_PAUSE_REPLACE": f"{kill.file}|{kill.nth}|{marker}",
        }
        victim = spawn(args, env, work)
        _wait_for(marker, victim)
    else:
        victim = spawn(args, env, work)
        deadline = time.monotonic() + 60
        while not trigger.fired.wait(0.01):
            if victim.poll() is not None:
                out, err = victim.communicate()
                raise AssertionError(
                    f"{kill.name}: exited {victim.returncode} first:\n{out}\n{err}"
                )
            assert time.monotonic() < deadline, f"{kill.name}: the kill point was never reached"
        time.sleep(kill.delay_s)
    kill9(victim)
    trigger.release.set()


def _run_chain(name: str, base: Path, hook_dir: Path) -> ChainResult:
    work = base / name
    root = work / "transcripts"
    result = ChainResult()
    try:
        with scripted_fake() as fake:
            env = cli_env(fake.base_url, root, work / "cache")
            args = RUN_ARGS
            for kill in CHAINS[name]:
                trigger = Trigger(kill)
                fake.responder = trigger
                _kill_at(kill, args, env, work, trigger, hook_dir)
                result.partials.append(_on_disk(root))
                run_id = only_run(root)
                result.temps.append([p.name for p in (root / run_id).rglob("*.tmp")])
                args = ["resume", run_id]
            fake.responder = holding_reply
            done = run_cli(args, env, work)
        assert done.returncode == 0, f"chain {name}: the last resume failed:\n{done.stderr}"
        result.final = assert_run_folder_sound(root, only_run(root))
    except BaseException as error:  # noqa: BLE001 - reported by the tests below
        result.error = error
    return result


@pytest.fixture(scope="module")
def chains(tmp_path_factory: pytest.TempPathFactory, hook_dir: Path) -> dict[str, Any]:
    base = tmp_path_factory.mktemp("kills")

    def reference() -> Transcript:
        root = base / "reference" / "transcripts"
        with scripted_fake() as fake:
            done = run_cli(
                RUN_ARGS,
                cli_env(fake.base_url, root, base / "reference" / "cache"),
                base / "reference",
            )
        assert done.returncode == 0, done.stderr
        return RunStore(root).load_transcript(only_run(root))

    with ThreadPoolExecutor(max_workers=len(CHAINS) + 1) as pool:  # mostly waiting on children
        ref = pool.submit(reference)
        futures = {name: pool.submit(_run_chain, name, base, hook_dir) for name in CHAINS}
        results: dict[str, Any] = {name: future.result() for name, future in futures.items()}
        results["reference"] = ref.result()
    return results


def test_at_least_20_kills_over_every_phase_and_both_files() -> None:
    assert len(KILLS) >= 20
    assert {k.phase for _, _, k in KILLS if k.kind == "call"} == {"caucus", "table", "principal"}
    assert {k.file for _, _, k in KILLS if k.kind == "write"} == {"transcript.json", "prompts"}
    assert any(
        k.phase == "principal" and k.speaker == "xi" for _, _, k in KILLS if k.kind == "after"
    )


def test_reference_run_is_complete(chains: dict[str, Any]) -> None:
    reference = chains["reference"]
    assert reference.status == "complete"
    assert turn_ids(reference) == expected_turn_ids()


@pytest.mark.parametrize(
    ("chain", "index", "kill"), KILLS, ids=[f"{c}{i}-{k.name}" for c, i, k in KILLS]
)
def test_after_each_kill_the_disk_holds_a_clean_prefix(
    chain: str, index: int, kill: Kill, chains: dict[str, Any]
) -> None:
    result: ChainResult = chains[chain]
    if index >= len(result.partials):
        raise AssertionError(f"chain {chain} stopped before this kill") from result.error
    reference: Transcript = chains["reference"]
    partial = result.partials[index]
    if partial is not None:
        assert partial.status == "running"
        assert turn_ids(partial) == turn_ids(reference)[: len(partial.turns)]
        assert [t.utterance for t in partial.turns] == [
            t.utterance for t in reference.turns[: len(partial.turns)]
        ]
    before = [p for p in result.partials[:index] if p is not None]
    if before:  # a resumed process never loses what an earlier one saved
        assert partial is not None and len(partial.turns) >= len(before[-1].turns)
    if kill.kind == "write":
        assert result.temps[index], (
            "the kill should have caught a write between temp file and rename"
        )


@pytest.mark.parametrize("chain", list(CHAINS))
def test_the_last_resume_equals_the_uninterrupted_run(chain: str, chains: dict[str, Any]) -> None:
    result: ChainResult = chains[chain]
    if result.error is not None:
        raise result.error
    reference: Transcript = chains["reference"]
    final = result.final
    assert final is not None and final.status == "complete"
    assert turn_ids(final) == turn_ids(reference)
    assert [t.utterance for t in final.turns] == [t.utterance for t in reference.turns]
    assert [t.audience for t in final.turns] == [t.audience for t in reference.turns]
    assert final.outcome == reference.outcome
    assert [c.round for c in final.clauses] == [c.round for c in reference.clauses]


def test_kills_landed_in_every_phase(chains: dict[str, Any]) -> None:
    """The last saved turn at each kill covers caucus, table, principal and event turns."""
    landed = {
        f"{name}{i}": p.turns[-1].phase
        for name in CHAINS
        for i, p in enumerate(chains[name].partials)
        if p is not None and p.turns
    }
    assert set(landed.values()) >= {"caucus", "table", "principal", "event"}, landed
