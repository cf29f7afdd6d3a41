"""Exports and diffs without a browser: escaping, self-containment, verdict placement."""

from __future__ import annotations

import json
import re

from transcript_samples import XSS, sample_evaluation, sample_transcript

from harness.eval.model import TurnVerdicts
from harness.transcript.diff import diff_runs
from harness.transcript.export_html import export_html, script_json
from harness.transcript.export_md import export_markdown
from harness.transcript.view import RunView


def _view(text: str = XSS, evaluated: bool = True) -> RunView:
    t = sample_transcript(first_text=text)
    return RunView(t, sample_evaluation(t) if evaluated else None)


def test_html_escapes_model_text_everywhere() -> None:
    page = export_html(_view())
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    # Only our two script elements exist.
    assert len(re.findall(r"<script\b", page)) == 2


def test_embedded_json_cannot_close_its_script() -> None:
    hostile = "</script><script>alert(2)</script> & more"
    page = export_html(_view(hostile))
    island = re.search(
        r'<script type="application/json" id="impasse-data">(.*?)</script>', page, re.DOTALL
    )
    assert island is not None
    data = json.loads(island.group(1))
    assert data["transcript"]["turns"][2]["utterance"] == hostile
    assert script_json({"a": "<>&"}) == '{"a": "\\u003c\\u003e\\u0026"}'


def test_html_is_self_contained() -> None:
    page = export_html(_view())
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", page)
    assert "@import" not in page and "url(" not in page


def test_html_without_evaluation_has_no_chart() -> None:
    page = export_html(_view(evaluated=False))
    assert 'id="fidelity"' not in page and 'id="toggle-violations"' not in page
    assert 'id="clauses"' in page and "toggle-private" in page


def test_verdicts_map_by_position_when_turn_ids_are_missing() -> None:
    t = sample_transcript()
    ev = sample_evaluation(t)
    # As from `impasse eval --turns transcript.jsonl`: positions among the public turns.
    ev.turns = [
        TurnVerdicts(index=1, speaker="liu_he", verdicts=ev.turns[1].verdicts),
        TurnVerdicts(index=0, speaker="wrong_speaker", verdicts=ev.turns[0].verdicts),
    ]
    view = RunView(t, ev)
    flagged = [i for i in range(len(t.turns)) if view.verdicts(i)]
    assert [t.turns[i].id for i in flagged] == ["r01.table.02"]


def test_markdown_marks_private_and_escapes() -> None:
    md = export_markdown(_view())
    assert "&lt;script&gt;" in md and "<script>" not in md
    assert "*private*" in md and "Rationale (private)" in md
    assert "| `purchases` | agreed | reopened ⟲ |" in md


def test_diff_identical_runs() -> None:
    t = sample_transcript()
    result = diff_runs(t, t)
    assert result.first_divergence is None
    assert not any(r.diverges for r in result.rounds)
