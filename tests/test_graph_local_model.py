"""End to end on the real embedded SmolLM2 model: the smoke suite, two rounds of Washington.

One simulation serves two checks, because each minute of CPU counts on CI's two cores:
- the engine end to end (issue 4): xllamacpp serves the model pulled from PyPI, every turn comes
  back as a valid structured move, and the transcript validates;
- `evals/suites/smoke.yaml` on the embedded model (issue 6): the suite runs, is evaluated
  offline, writes its report, and passes its gate.
Quality is not asserted: a 135M model argues poorly, and showing that is the evaluator's job.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

from harness.cli.main import main
from harness.graph.turn_order import schedule_round
from harness.pack.load import load_pack
from harness.transcript.store import RunStore

pytestmark = [
    pytest.mark.local_model,
    pytest.mark.skipif(
        importlib.util.find_spec("xllamacpp") is None,
        reason="xllamacpp is not installed (pip install 'impasse[local]')",
    ),
]

SMOKE = Path(__file__).resolve().parents[1] / "evals" / "suites" / "smoke.yaml"


def test_smoke_suite_runs_two_rounds_of_washington_on_the_embedded_model(tmp_path, capsys):
    out, runs = tmp_path / "report", tmp_path / "transcripts"
    with pytest.raises(SystemExit) as done:
        main(["suite", "run", str(SMOKE), "--out", str(out), "--transcripts-dir", str(runs)])
    assert done.value.code == 0, capsys.readouterr()

    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    (run,) = report["runs"]
    assert run["status"] == "complete" and run["evaluated"] and run["rounds"] == 2
    assert (out / "report.html").exists() and (out / "report.md").exists()

    store = RunStore(runs)
    transcript = store.load_transcript(run["run_id"])
    assert transcript.status == "complete"
    assert transcript.meta.models[0].endpoint.startswith("http://127.0.0.1:")
    assert transcript.outcome is not None and transcript.outcome.ended_round <= 2
    pack = load_pack("us-china-2019")
    scenario = pack.scenarios["washington-2019-05"]
    if transcript.outcome.result == "no_deal":
        expected = sum(len(schedule_round(scenario, pack, r, [])) for r in (1, 2))
        # a request_break can shorten a table session; nothing else drops a turn
        assert len(transcript.turns) <= expected
        assert {t.round for t in transcript.turns} == {1, 2}
    spoken = [t for t in transcript.turns if t.phase != "event"]
    assert spoken and all(t.move is not None and t.model for t in spoken)
    assert all(t.usage.prompt_tokens > 0 for t in spoken)
    assert store.load_evaluation(run["run_id"]) is not None
