"""The HTML viewer in real headless Chromium (Debian's `chromium`, driven by playwright).

Checks what a reader relies on: the page loads with no console errors, model text that looks
like a script stays text, the private toggle shows and hides the caucus, and the violation
highlight and the fidelity chart are there. Saves test-artifacts/viewer.png.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from transcript_samples import XSS, sample_evaluation, sample_transcript

from harness.cli.main import main
from harness.transcript.store import RunStore

pytestmark = pytest.mark.browser

ARTIFACTS = Path(__file__).parent.parent / "test-artifacts"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-quic",
    "--disable-sync",
]


def _chromium() -> str:
    for name in ("chromium", "chromium-browser"):
        found = shutil.which(name) or (
            f"/usr/bin/{name}" if Path(f"/usr/bin/{name}").exists() else None
        )
        if found:
            return found
    pytest.skip("chromium is not installed (apt-get install -y chromium)")


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
    executable = _chromium()
    sync_api = pytest.importorskip("playwright.sync_api")
    problems: list[str] = []
    dialogs: list[str] = []
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 900})
            page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: problems.append(str(e)))
            page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
            page.on(
                "request",
                lambda r: None if r.url.startswith(("file:", "data:")) else problems.append(r.url),
            )
            page.goto(viewer_file.as_uri())
            page.wait_for_load_state("load")

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
            ARTIFACTS.mkdir(exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / "viewer.png"), full_page=True)
            assert page.evaluate("window.impasseRun.transcript.turns[2].utterance") == XSS
        finally:
            browser.close()
    assert problems == [], problems
    assert dialogs == []
