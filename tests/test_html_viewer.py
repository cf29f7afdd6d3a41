"""The HTML viewer in real headless Chromium (Debian's `chromium`, driven by playwright).

Checks what a reader relies on: the page loads with no console errors, model text that looks
like a script stays text, the private toggle shows and hides the caucus, and the violation
highlight and the fidelity chart are there. Saves test-artifacts/viewer.png.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from transcript_samples import XSS, sample_evaluation, sample_transcript

from harness.cli.main import main
from harness.transcript.store import RunStore
from tests.browser import watched_page

pytestmark = pytest.mark.browser


@pytest.fixture
def viewer_file(tmp_path: Path) -> Path:
    store = RunStore(tmp_path / "runs")
    t = sample_transcript(first_text=XSS)
    store.save_transcript(t)
    store.save_evaluation(t.meta.run_id, sample_evaluation(t))
    with pytest.raises(SystemExit) as info:
        main(["export", t.meta.run_id, "--format", "html", "--transcripts-dir", str(store.root)])
    assert info.value.code in (0, None)
    return store.root / t.meta.run_id / "transcript.html"


def test_viewer_in_headless_chromium(viewer_file: Path) -> None:
    with watched_page(viewer_file) as watched:
        page, problems, dialogs = watched.page, watched.problems, watched.dialogs

        # The script-looking utterance is visible as text and did not run.
        xss_turn = page.locator("#turn-r01\\.table\\.01 .utterance")
        assert xss_turn.inner_text() == XSS
        assert dialogs == []

        # Private channels: hidden by default, shown and hidden again by the toggle.
        caucus = page.locator("#turn-r01\\.caucus\\.01")
        directive = page.locator("#turn-r01\\.principal\\.01")
        rationale = page.locator("#turn-r01\\.table\\.01 .rationale")
        assert not caucus.is_visible() and not directive.is_visible()
        assert not rationale.is_visible()
        page.check("#toggle-private")
        assert caucus.is_visible() and directive.is_visible() and rationale.is_visible()
        page.uncheck("#toggle-private")
        assert not caucus.is_visible()

        # The violation is highlighted on its turn, with the entry and the evidence quote.
        flagged = page.locator(".turn.has-violation")
        assert flagged.count() == 1
        assert flagged.get_attribute("id") == "turn-r01.table.02"
        assert "cn.tariffs_first" in flagged.inner_text()
        assert "all additional tariffs must be removed" in flagged.inner_text()
        page.check("#toggle-violations")
        assert not page.locator("#turn-r02\\.table\\.01").is_visible()
        assert flagged.is_visible()
        page.uncheck("#toggle-violations")

        # The fidelity chart: one series per persona; the clause timeline marks backtracking.
        assert page.locator("#fidelity svg.chart g.series").count() == 2
        assert page.locator("#clauses td.backtracked").count() == 1

        page.check("#toggle-private")
        watched.screenshot("viewer.png")
        assert page.evaluate("window.impasseRun.transcript.turns[2].utterance") == XSS
    assert problems == [], problems
    assert dialogs == []
