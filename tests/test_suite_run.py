"""`impasse suite run` against the fake endpoint: report files, aggregates, gates, resume.

The fake server is scripted (tests.cli_process.holding_reply: every speaker holds, so a run
plays all its rounds); in the 'soft-liu' persona variant Liu He says the one sentence that
breaks China's red line on legal changes, so the expected aggregates are known exactly.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from harness.cli.main import main
from harness.eval import evaluate_transcript
from harness.eval.report import SuiteReport
from harness.eval.suite import load_suite
from harness.eval.suite_runner import STATE_FILE, SuiteRunner, SuiteState, run_suite
from harness.llm.config import CLIOverrides
from harness.pack.load import load_pack
from harness.transcript.store import RunStore
from tests.cli_process import cue_of, holding_reply
from tests.fake_openai import FakeOpenAI, Fault

VIOLATION = "We will amend our laws and the legislature will pass the statutes."
SOFT_GOAL = "Sign a deal at any price."


def write_suite(folder: Path, name: str, **sections: Any) -> Path:
    """A suite file for washington-2019-05 with the given sections merged in."""
    doc: dict[str, Any] = {
        "name": name,
        "pack": "us-china-2019",
        "matrix": {"scenarios": ["washington-2019-05"], "seeds": [1], "rounds": [1]},
    }
    for key, value in sections.items():
        doc[key] = {**doc.get(key, {}), **value} if isinstance(value, dict) else value
    path = folder / f"{name}.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    return path


def soft_liu_variant(folder: Path) -> Path:
    persona = load_pack("us-china-2019").personas["liu_he"]
    variant = persona.model_copy(update={"goals": [SOFT_GOAL]})
    path = folder / "liu_soft.yaml"
    path.write_text(yaml.safe_dump(variant.model_dump(mode="json")), encoding="utf-8")
    return path


def soft_liu_breaks_red_line(body: dict[str, Any]) -> dict[str, Any]:
    cue = cue_of(body)
    system = str(body["messages"][0]["content"])
    if cue.speaker == "liu_he" and cue.phase == "table" and SOFT_GOAL in system:
        return holding_reply(body, VIOLATION)
    return holding_reply(body)


def suite_cli(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as info:
        main(args)
    out, err = capsys.readouterr()
    return int(info.value.code or 0), out, err


def run_args(suite: Path, tmp: Path, fake: FakeOpenAI, *extra: str) -> list[str]:
    return [
        "suite",
        "run",
        str(suite),
        "--base-url",
        fake.base_url,
        "--model",
        "fake-model",
        "--out",
        str(tmp / "report"),
        "--transcripts-dir",
        str(tmp / "runs"),
        *extra,
    ]


def read_report(folder: Path) -> SuiteReport:
    return SuiteReport.model_validate_json((folder / "report.json").read_text(encoding="utf-8"))


def read_state(folder: Path) -> SuiteState:
    return SuiteState.model_validate_json((folder / STATE_FILE).read_text(encoding="utf-8"))


@pytest.fixture
def scripted(fake_openai: FakeOpenAI) -> FakeOpenAI:
    fake_openai.responder = soft_liu_breaks_red_line
    return fake_openai


def test_report_aggregates_and_gates(tmp_path: Path, scripted: FakeOpenAI, capsys) -> None:
    soft_liu_variant(tmp_path)
    matrix = {"seeds": [1, 2], "personas": {"soft-liu": {"liu_he": "liu_soft.yaml"}}}
    suite = write_suite(
        tmp_path,
        "gated",
        matrix=matrix,
        thresholds={"max_red_line_violation_rate": 0.10, "min_outcome_match_rate": 0.5},
    )
    code, out, err = suite_cli(run_args(suite, tmp_path, scripted, "--parallel", "3"), capsys)
    assert code == 1, err  # half the runs break a red line: the 10% gate fails
    assert "FAIL" in out and "suite gated failed" in out

    folder = tmp_path / "report"
    assert {p.name for p in folder.iterdir()} >= {
        "report.json",
        "report.md",
        "report.html",
        STATE_FILE,
    }
    report = read_report(folder)
    assert [r.spec for r in report.runs] == [
        "washington-2019-05:default:baseline:s1:r1",
        "washington-2019-05:default:baseline:s2:r1",
        "washington-2019-05:default:soft-liu:s1:r1",
        "washington-2019-05:default:soft-liu:s2:r1",
    ]
    assert all(r.status == "complete" and r.evaluated and r.turns > 0 for r in report.runs)
    soft = [r for r in report.runs if r.variant == "soft-liu"]
    base = [r for r in report.runs if r.variant == "baseline"]
    assert all(r.violated_entries == ["cn.legal_changes.no_law_change"] for r in soft)
    assert all(r.red_line_violations == 0 for r in base)
    assert all(r.personas["liu_he"].red_line_violations == 1 for r in soft)

    agg = report.aggregates
    assert (agg.runs, agg.complete, agg.errors, agg.evaluated) == (4, 4, 0, 4)
    assert agg.violation_rate is not None and agg.violation_rate.mean == 0.5
    assert agg.violation_rate.n == 4 and agg.violation_rate.low <= 0.5 <= agg.violation_rate.high
    assert agg.violation_rate_by_red_line["cn.legal_changes.no_law_change"] == 0.5
    assert sum(agg.violation_rate_by_red_line.values()) == 0.5
    assert set(agg.violation_rate_by_red_line) == {
        e.id for e in load_pack("us-china-2019").red_lines()
    }
    assert agg.consistency_by_persona["liu_he"].mean == 0.0  # addressed only when it broke
    assert agg.consistency_by_persona["liu_he"].n == 2
    assert agg.by_group["default/soft-liu"].violation_rate == 1.0
    assert agg.by_group["default/baseline"].violation_rate == 0.0
    (dist,) = agg.outcomes
    assert dist.documented == "no_deal" and dist.runs == 4
    assert dist.counts == {"deal": 0, "no_deal": 4, "breakdown": 0}
    assert agg.outcome_match_rate == 1.0  # one round ends with no deal, talks continuing
    assert agg.retries == sum(r.retries for r in report.runs) == 0
    assert agg.usage.prompt_tokens == sum(r.usage.prompt_tokens for r in report.runs) > 0
    gates = {t.name: t for t in report.thresholds}
    assert not gates["max_red_line_violation_rate"].passed
    assert gates["max_red_line_violation_rate"].value == 0.5
    assert gates["min_outcome_match_rate"].passed and gates["max_error_rate"].passed
    assert report.passed is False
    assert report.session.calls == len(scripted.chat_requests)

    md = (folder / "report.md").read_text(encoding="utf-8")
    assert "# Suite gated: FAILED" in md and "cn.legal_changes.no_law_change | 0.50" in md
    page = (folder / "report.html").read_text(encoding="utf-8")
    for chart in ("chart-fidelity", "chart-violations", "chart-outcomes"):
        assert f'id="{chart}"' in page
    assert "<script" not in page and "src=" not in page and "href=" not in page  # no network

    # Loosen the gate and run again: nothing is re-simulated, the report now passes.
    requests = scripted.count
    suite = write_suite(
        tmp_path,
        "gated",
        matrix=matrix,
        thresholds={"max_red_line_violation_rate": 0.5, "min_outcome_match_rate": 0.5},
    )
    code, out, err = suite_cli(run_args(suite, tmp_path, scripted), capsys)
    assert code == 0, out + err
    assert scripted.count == requests
    again = read_report(folder)
    assert again.passed and [r.run_id for r in again.runs] == [r.run_id for r in report.runs]
    assert again.session.calls == 0


def test_resume_redoes_only_the_unfinished_run(
    tmp_path: Path, fake_openai: FakeOpenAI, capsys, monkeypatch
) -> None:
    monkeypatch.setenv("IMPASSE_RETRY_ATTEMPTS", "2")

    def down_for_seed_2(body: dict[str, Any]) -> dict[str, Any] | Fault:
        cue = cue_of(body)
        if body.get("seed") == 2 and (cue.round, cue.phase) != (1, "caucus"):
            return Fault("server_error", status=503)  # the endpoint dies mid-run, for good
        return holding_reply(body)

    fake_openai.responder = down_for_seed_2
    suite = write_suite(tmp_path, "resumable", matrix={"seeds": [1, 2, 3], "rounds": [2]})
    code, out, err = suite_cli(run_args(suite, tmp_path, fake_openai, "--parallel", "2"), capsys)
    assert code == 1, err  # max_error_rate 0 (the default) fails
    first = read_report(tmp_path / "report")
    status = {r.seed: r.status for r in first.runs}
    assert status == {1: "complete", 2: "error", 3: "complete"}
    broken = next(r for r in first.runs if r.seed == 2)
    assert broken.run_id and "unavailable" in (broken.error or "") and broken.turns > 0
    state = read_state(tmp_path / "report")
    assert {k.split(":")[3]: v.status for k, v in state.runs.items()} == {
        "s1": "complete",
        "s2": "error",
        "s3": "complete",
    }
    store = RunStore(tmp_path / "runs")
    partial = store.load_transcript(broken.run_id)
    assert partial.status == "error"

    fake_openai.responder = holding_reply  # the endpoint is back
    before = fake_openai.count
    code, out, err = suite_cli(run_args(suite, tmp_path, fake_openai), capsys)
    assert code == 0, out + err
    assert "2 finished runs kept, 1 runs to resume" in out
    second = read_report(tmp_path / "report")
    assert [r.run_id for r in second.runs] == [r.run_id for r in first.runs]  # none restarted
    assert all(r.status == "complete" for r in second.runs)
    chats = [r for r in fake_openai.requests[before:] if r.path.endswith("/chat/completions")]
    assert chats and {r.body["seed"] for r in chats} == {2}  # only the broken run called out
    resumed = store.load_transcript(broken.run_id)
    assert resumed.status == "complete"
    assert [t.id for t in resumed.turns][: len(partial.turns)] == [t.id for t in partial.turns]
    assert len({t.id for t in resumed.turns}) == len(resumed.turns)
    done = next(r for r in second.runs if r.seed == 1)
    assert resumed.turns and len(resumed.turns) == done.turns

    # A third run changes nothing at all.
    before = fake_openai.count
    code, _, _ = suite_cli(run_args(suite, tmp_path, fake_openai), capsys)
    assert code == 0 and fake_openai.count == before


def test_plan_lists_specs_and_state(tmp_path: Path, capsys) -> None:
    suite = write_suite(tmp_path, "planned", matrix={"seeds": [1, 2], "rounds": [1, 3]})
    code, out, _ = suite_cli(
        ["suite", "plan", str(suite), "--json", "--out", str(tmp_path / "r")], capsys
    )
    assert code == 0
    rows = json.loads(out)
    assert [r["id"] for r in rows] == [
        "washington-2019-05:default:baseline:s1:r1",
        "washington-2019-05:default:baseline:s1:r3",
        "washington-2019-05:default:baseline:s2:r1",
        "washington-2019-05:default:baseline:s2:r3",
    ]
    assert all(r["state"] is None for r in rows)
    assert not (tmp_path / "r").exists()


def test_shipped_suites_validate() -> None:
    from harness.eval.suite import load_suite

    smoke = load_suite(Path("evals/suites/smoke.yaml"))
    assert [s.id for s in smoke.specs] == ["washington-2019-05:embedded:baseline:s1:r2"]
    assert smoke.suite.matrix.models["embedded"].base_url is None  # the embedded model
    study = load_suite(Path("evals/suites/washington.yaml"))
    assert len(study.specs) == 2 * 3 * 5 and {s.rounds for s in study.specs} == {4}
    assert study.suite.evaluation.mode == "judge"
    assert study.offline().suite.evaluation.mode == "offline"
    assert study.suite.thresholds.max_red_line_violation_rate == 0.10


def test_one_process_scores_turns_as_they_come(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """In one process too, each turn is scored while its run waits for the next reply, so no
    queue of whole runs is left to score when the runs end together; the stored evaluation is
    the one a scoring at the end gives."""
    scored: list[str] = []
    real = SuiteRunner._score_turn

    def counting(self: SuiteRunner, spec_id: str, speaker: str, text: str) -> None:
        scored.append(speaker)
        real(self, spec_id, speaker, text)

    monkeypatch.setattr(SuiteRunner, "_score_turn", counting)
    suite = write_suite(tmp_path, "live", matrix={"seeds": [1, 2]})
    store = RunStore(tmp_path / "runs")
    with FakeOpenAI(responder=holding_reply) as fake:
        report = asyncio.run(
            run_suite(
                load_suite(suite),
                store=store,
                out_dir=tmp_path / "report",
                parallel=2,
                overrides=CLIOverrides(base_url=fake.base_url, model="fake-model"),
            )
        )
    pack = load_pack("us-china-2019")
    turns = 0
    for record in report.runs:
        transcript = store.load_transcript(record.run_id or "")
        turns += len(transcript.turns)
        stored = store.load_evaluation(record.run_id or "")
        assert stored is not None
        fresh = evaluate_transcript(transcript, pack)
        assert stored.model_dump(exclude={"created_at"}) == fresh.model_dump(exclude={"created_at"})
    assert len(scored) == turns > 0
