"""Issue 7: a suite of 10 runs against an endpoint failing 30% of requests completes every run.

The faults are drawn from the fake server's seeded `fault_rate`: 429 with Retry-After, 500,
dropped connections, 5 s stalls past the (0.5 s) client timeout, and truncated JSON bodies. The
same suite against a healthy endpoint gives the turns to compare with: the scripted replies are
deterministic per prompt, so a run that retried must end with exactly the same turns.
Backoff waits are patched (conftest), so only the stalls cost real time.
"""

from __future__ import annotations

from pathlib import Path

from harness.eval.report import SuiteReport
from harness.transcript.store import RunStore
from tests.cli_process import holding_reply
from tests.fake_openai import FakeOpenAI, Fault
from tests.test_suite_run import read_report, run_args, suite_cli, write_suite

FAULTS = (
    Fault("rate_limit", retry_after=1.0),
    Fault("server_error", status=500),
    Fault("drop"),
    Fault("stall", seconds=5.0),  # the 5 s; the client gives up at its 0.5 s timeout
    Fault("truncated_body"),
)
SEEDS = list(range(1, 11))


def run_suite_at(tmp: Path, label: str, suite: Path, fake: FakeOpenAI, capsys) -> SuiteReport:
    # One process: `retry_waits` records the retry sleeps of this process (forked workers
    # would sleep in theirs); tests/test_suite_workers.py covers suites with workers.
    args = run_args(suite, tmp / label, fake, "--parallel", "10", "--workers", "1")
    code, stdout, stderr = suite_cli(args, capsys)
    assert code == 0, stdout + stderr
    return read_report(tmp / label / "report")


def test_flaky_endpoint_suite_completes_every_run(
    tmp_path: Path, fake_openai: FakeOpenAI, capsys, monkeypatch, retry_waits
) -> None:
    monkeypatch.setenv("IMPASSE_TIMEOUT", "0.5")
    monkeypatch.setenv("IMPASSE_RETRY_ATTEMPTS", "12")
    monkeypatch.setenv("IMPASSE_RETRY_DEADLINE", "120")
    suite = write_suite(tmp_path, "flaky", matrix={"seeds": SEEDS, "rounds": [2]})
    fake_openai.responder = holding_reply

    healthy = run_suite_at(tmp_path, "healthy", suite, fake_openai, capsys)
    assert healthy.aggregates.retries == 0 and healthy.session.retries == 0

    fake_openai.fault_rate = 0.3
    fake_openai.fault_kinds = FAULTS
    before = fake_openai.count
    flaky = run_suite_at(tmp_path, "flaky", suite, fake_openai, capsys)

    faults = [r.fault for r in fake_openai.requests[before:] if r.fault is not None]
    chats = [r for r in fake_openai.requests[before:] if r.path.endswith("/chat/completions")]
    assert 0.2 < len(faults) / len(chats) < 0.4, (len(faults), len(chats))
    assert {f.kind for f in FAULTS} <= set(faults)  # every kind of fault happened

    assert len(flaky.runs) == len(SEEDS)
    assert all(r.status == "complete" and r.evaluated for r in flaky.runs)
    store = RunStore(tmp_path / "flaky" / "runs")
    clean = RunStore(tmp_path / "healthy" / "runs")
    for good, shaky in zip(healthy.runs, flaky.runs, strict=True):
        assert good.spec == shaky.spec and good.turns == shaky.turns > 0
        a = clean.load_transcript(good.run_id or "")  # validates against the schema
        b = store.load_transcript(shaky.run_id or "")
        assert b.status == "complete" and b.outcome is not None
        assert [t.id for t in a.turns] == [t.id for t in b.turns]
        assert [t.utterance for t in a.turns] == [t.utterance for t in b.turns]
        assert shaky.retries == b.meta.retries == sum(t.retries for t in b.turns)

    # The report lists the retries: per run, summed, and for the whole invocation.
    assert flaky.aggregates.retries == sum(r.retries for r in flaky.runs) > 0
    assert flaky.session.retries >= flaky.aggregates.retries
    assert flaky.session.failures == 0
    assert flaky.aggregates.errors == 0 and flaky.passed
    assert len(retry_waits) >= flaky.session.retries and 1.0 in retry_waits  # Retry-After honoured
