"""`impasse suite run --workers N`: simulations in forked worker processes.

The same suite gives the same report with one process or two; the endpoint's concurrency limit
holds across workers; a worker that dies fails only its own runs, which a re-run resumes; and
when the parent is killed its workers stop instead of running on unattended.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from harness.eval.suite_workers import AUTO_WORKERS_MAX, auto_workers, worker_count
from harness.llm.config import LLMSettings
from tests.cli_process import cli_env, holding_reply, kill9, run_cli, spawn
from tests.fake_openai import FakeOpenAI
from tests.test_suite_run import (
    read_report,
    run_args,
    soft_liu_breaks_red_line,
    soft_liu_variant,
    suite_cli,
    write_suite,
)

pytestmark = pytest.mark.skipif(
    "fork" not in multiprocessing.get_all_start_methods(), reason="workers need fork"
)


def four_run_suite(folder: Path) -> Path:
    soft_liu_variant(folder)
    matrix = {"seeds": [1, 2], "personas": {"soft-liu": {"liu_he": "liu_soft.yaml"}}}
    return write_suite(folder, "workers", matrix=matrix)


def chat_calls(fake: FakeOpenAI) -> list[Any]:
    return [r for r in fake.requests if r.path.endswith("/chat/completions")]


def summary(folder: Path) -> list[tuple[str, str, int, list[str]]]:
    return [(r.spec, r.status, r.turns, r.violated_entries) for r in read_report(folder).runs]


def test_two_workers_give_the_same_report_within_the_endpoint_limit(
    tmp_path: Path, fake_openai: FakeOpenAI, capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_openai.responder = soft_liu_breaks_red_line
    fake_openai.latency_s = 0.02  # long enough for requests to overlap
    monkeypatch.setenv("IMPASSE_MAX_CONCURRENCY", "2")
    suite = four_run_suite(tmp_path)
    one, two = tmp_path / "one", tmp_path / "two"
    code, _, err = suite_cli(run_args(suite, one, fake_openai, "--parallel", "4"), capsys)
    assert code == 0, err
    single_calls = len(chat_calls(fake_openai))
    fake_openai.max_in_flight = 0

    code, _, err = suite_cli(
        run_args(suite, two, fake_openai, "--parallel", "4", "--workers", "2"), capsys
    )
    assert code == 0, err
    assert summary(two / "report") == summary(one / "report")
    assert all(
        status == "complete" and turns > 0 for _, status, turns, _ in summary(two / "report")
    )
    # Each worker gets half of the limit of 2: never more than 2 requests in flight overall.
    assert 1 <= fake_openai.max_in_flight <= 2
    # The workers' calls are counted in the report, as a single process's would be.
    report = read_report(two / "report")
    assert report.session.calls == len(chat_calls(fake_openai)) - single_calls > 0


def test_a_dead_worker_fails_only_its_runs_and_a_rerun_resumes_them(
    tmp_path: Path, fake_openai: FakeOpenAI, capsys
) -> None:
    requests = 0
    lock = threading.Lock()

    def kill_worker_zero_once(body: dict[str, Any]) -> dict[str, Any]:
        nonlocal requests
        with lock:
            requests += 1
            if requests == 6:
                for child in multiprocessing.active_children():
                    if child.name == "impasse-suite-worker-0" and child.pid is not None:
                        os.kill(child.pid, signal.SIGKILL)
        return holding_reply(body)

    fake_openai.responder = kill_worker_zero_once
    suite = write_suite(tmp_path, "dies", matrix={"seeds": [1, 2, 3, 4]})
    args = run_args(suite, tmp_path, fake_openai, "--parallel", "4", "--workers", "2")
    suite_cli(args, capsys)
    first = read_report(tmp_path / "report").runs
    failed = [r for r in first if r.status == "error"]
    assert failed, "killing a worker must fail the runs it held"
    assert len(failed) < len(first), "the other worker's runs must finish"
    assert all("suite worker 0 died" in (r.error or "") for r in failed)

    fake_openai.responder = holding_reply
    code, _, err = suite_cli(args, capsys)
    assert code == 0, err
    again = read_report(tmp_path / "report").runs
    assert all(r.status == "complete" for r in again)
    turns = {r.spec: r.turns for r in again}
    assert len(set(turns.values())) == 1, f"a resumed run lost or repeated turns: {turns}"


def _children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(x) for x in path.read_text().split()] if path.exists() else []


def _gone(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return True
    return state in ("Z", "X")


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="needs /proc")
def test_killing_the_parent_stops_its_workers_at_once(tmp_path: Path) -> None:
    hold, release = threading.Event(), threading.Event()

    def held_after_a_while(body: dict[str, Any]) -> dict[str, Any]:
        if hold.is_set():  # the workers wait in a long call when their parent dies
            release.wait(60)
        return holding_reply(body)

    with FakeOpenAI(responder=held_after_a_while, latency_s=0.05) as fake:
        suite = write_suite(tmp_path, "orphans", matrix={"seeds": [1, 2, 3, 4]})
        env = cli_env(fake.base_url, tmp_path / "runs", tmp_path / "cache")
        args = ["suite", "run", str(suite), "--model", "fake-model", "--out",
                str(tmp_path / "report"), "--parallel", "4", "--workers", "2"]  # fmt: skip
        parent = spawn(args, env, tmp_path)
        deadline = time.monotonic() + 60
        while len(chat_calls(fake)) < 8:
            assert parent.poll() is None, parent.communicate()
            assert time.monotonic() < deadline, "the suite never got going"
            time.sleep(0.02)
        hold.set()
        while fake.in_flight < 2:
            assert time.monotonic() < deadline, "no call was held"
            time.sleep(0.02)
        workers = _children(parent.pid)
        assert len(workers) == 2, workers
        try:
            kill9(parent)
            deadline = time.monotonic() + 3  # far less than the held call or the client timeout
            while not all(_gone(pid) for pid in workers):
                assert time.monotonic() < deadline, "workers outlived their parent"
                time.sleep(0.02)
        finally:
            release.set()
        stopped_at = len(chat_calls(fake))
        time.sleep(0.5)
        assert len(chat_calls(fake)) == stopped_at, "a worker kept calling the model"

        hold.clear()
        done = run_cli(args, env, tmp_path)
        assert done.returncode == 0, done.stderr
    runs = read_report(tmp_path / "report").runs
    assert all(r.status == "complete" for r in runs)
    assert len({r.turns for r in runs}) == 1


def test_worker_count_respects_limits_and_the_embedded_model() -> None:
    remote = LLMSettings(model="m", base_url="http://127.0.0.1:9/v1", max_concurrency=8)
    assert worker_count(1, 32, {"default": remote}) == 1
    assert worker_count(4, 32, {"default": remote}) == 4
    assert worker_count(4, 2, {"default": remote}) == 2  # no more workers than runs in flight
    tight = remote.model_copy(update={"max_concurrency": 3})
    assert worker_count(8, 32, {"default": tight}) == 3  # each worker needs a slot
    embedded = LLMSettings()
    assert worker_count(4, 32, {"default": embedded}) == 1


def test_the_default_is_one_worker_per_core_and_quiet_for_the_embedded_model(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    remote = LLMSettings(model="m", base_url="http://127.0.0.1:9/v1", max_concurrency=8)
    monkeypatch.setattr("os.cpu_count", lambda: 2)
    assert auto_workers() == 2
    assert worker_count(None, 32, {"default": remote}) == 2
    assert worker_count(None, 1, {"default": remote}) == 1
    monkeypatch.setattr("os.cpu_count", lambda: 64)
    assert worker_count(None, 32, {"default": remote}) == AUTO_WORKERS_MAX
    with caplog.at_level("WARNING"):
        assert worker_count(None, 32, {"default": LLMSettings()}) == 1
        assert not caplog.records  # the default falls back without a word
        assert worker_count(2, 32, {"default": LLMSettings()}) == 1
        assert "--workers ignored" in caplog.text  # an explicit request is answered
