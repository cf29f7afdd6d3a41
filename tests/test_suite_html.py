"""The suite's report.html in real headless Chromium: no console error, no request, three charts.

Built from a report with hostile text in it (a persona variant name cannot hold markup, but a
run's error message can), so escaping is checked where a browser would execute it.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from harness.eval.report import (
    Aggregates,
    CallTotals,
    Interval,
    OutcomeDistribution,
    RunResult,
    SuiteReport,
    ThresholdResult,
)
from harness.eval.report_html import render_html
from tests.browser import watched_page

pytestmark = pytest.mark.browser
XSS = '<script>alert("x")</script><img src=x onerror=alert(1)>'


def sample_report() -> SuiteReport:
    ci = Interval(mean=0.7, low=0.5, high=0.9, n=4)
    runs = [
        RunResult(
            spec="washington-2019-05:default:baseline:s1:r2",
            scenario="washington-2019-05",
            model="default",
            variant="baseline",
            seed=1,
            rounds=2,
            run_id="r1",
            status="complete",
            evaluated=True,
            turns=20,
            outcome="no_deal",
            fidelity=0.8,
        ),
        RunResult(
            spec="washington-2019-05:default:baseline:s2:r2",
            scenario="washington-2019-05",
            model="default",
            variant="baseline",
            seed=2,
            rounds=2,
            run_id="r2",
            status="error",
            error=XSS,
        ),
    ]
    agg = Aggregates(
        runs=2,
        complete=1,
        errors=1,
        evaluated=1,
        fidelity=ci,
        consistency_by_persona={"liu_he": ci, "lighthizer": Interval(mean=1, low=1, high=1, n=4)},
        violation_rate=Interval(mean=0.25, low=0, high=0.75, n=4),
        violation_rate_by_red_line={"cn.legal_changes.no_law_change": 0.25, "us.x": 0.0},
        outcomes=[
            OutcomeDistribution(
                scenario="washington-2019-05",
                documented="no_deal",
                documented_talks_continue=True,
                counts={"deal": 1, "no_deal": 2, "breakdown": 1},
                runs=4,
                match_rate=0.5,
            )
        ],
        outcome_match_rate=0.5,
        by_group={},
        retries=3,
        usage={"prompt_tokens": 10},
    )
    return SuiteReport(
        suite="html",
        description=XSS,
        suite_file="evals/suites/x.yaml",
        pack_id="us-china-2019",
        pack_hash="0" * 64,
        generated_at=dt.datetime.now(dt.UTC),
        evaluation_mode="offline",
        layers=["rules", "statistical"],
        runs=runs,
        aggregates=agg,
        thresholds=[
            ThresholdResult(
                name="max_red_line_violation_rate",
                limit=0.1,
                value=0.25,
                passed=False,
                detail="too many",
            )
        ],
        session=CallTotals(calls=40, retries=3),
        passed=False,
    )


def test_report_html_in_headless_chromium(tmp_path: Path) -> None:
    page_file = tmp_path / "report.html"
    page_file.write_text(render_html(sample_report()), encoding="utf-8")
    with watched_page(page_file, width=1200) as watched:
        page, problems, dialogs = watched.page, watched.problems, watched.dialogs
        assert page.locator("#chart-fidelity svg.chart g.bar").count() == 3  # 2 personas + run
        assert page.locator("#chart-fidelity svg.chart g.ci").count() == 3
        assert page.locator("#chart-violations svg.chart g.bar").count() == 2
        assert page.locator("#chart-violations svg.chart line.limit").count() == 1
        outcomes = page.locator("#chart-outcomes svg.chart g.bar")
        assert outcomes.count() == 3
        marked = page.locator("#chart-outcomes rect.documented")
        assert marked.count() == 1 and "no_deal" in (marked.locator("title").text_content() or "")
        assert XSS in page.locator("body").inner_text()  # shown as text, never run
        assert page.locator("img").count() == 0
        watched.screenshot("suite-report.png")
    assert problems == [] and dialogs == []
