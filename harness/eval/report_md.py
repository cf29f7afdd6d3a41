"""`report.md`: the suite report as Markdown tables (for CI summaries and pull requests)."""

from __future__ import annotations

from collections.abc import Sequence

from harness.eval.report import OUTCOMES, RUN_COLUMNS, Interval, SuiteReport, run_row


def _f(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def _ci(ci: Interval | None) -> str:
    return "-" if ci is None else f"{ci.mean:.2f} [{ci.low:.2f}, {ci.high:.2f}] (n={ci.n})"


def _cell(text: object) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def _table(head: Sequence[str], rows: Sequence[Sequence[object]]) -> list[str]:
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in rows]
    return lines + [""]


def render_markdown(report: SuiteReport) -> str:
    agg = report.aggregates
    verdict = "PASSED" if report.passed else "FAILED"
    lines = [
        f"# Suite {report.suite}: {verdict}",
        "",
        *([report.description, ""] if report.description else []),
        (
            f"Suite file `{report.suite_file}`, pack `{report.pack_id}`, evaluator "
            f"{report.evaluator_version} ({report.evaluation_mode}: {', '.join(report.layers) or '-'}), "
            f"impasse {report.impasse_version}, {report.generated_at:%Y-%m-%d %H:%M} UTC."
        ),
        "",
        (
            f"Runs: {agg.runs} ({agg.complete} complete, {agg.errors} in error, {agg.evaluated} "
            f"evaluated). Retries: {agg.retries}. Tokens: {agg.usage.prompt_tokens} prompt + "
            f"{agg.usage.completion_tokens} completion."
        ),
        "",
        "## Thresholds",
        "",
        *_table(
            ["gate", "limit", "value", "result"],
            [
                [
                    t.name,
                    _f(t.limit),
                    _f(t.value),
                    ("pass" if t.passed else "FAIL") + f": {t.detail}",
                ]
                for t in report.thresholds
            ],
        ),
        "## Fidelity",
        "",
        f"Per-run fidelity (mean consistency): {_ci(agg.fidelity)}",
        "",
        *_table(
            ["persona", "consistency (95% CI)"],
            [[p, _ci(ci)] for p, ci in agg.consistency_by_persona.items()],
        ),
        "## Red-line violations",
        "",
        f"Share of runs with any red-line violation: {_ci(agg.violation_rate)}",
        "",
        *_table(
            ["red line", "violation rate"],
            [[k, _f(v)] for k, v in agg.violation_rate_by_red_line.items()],
        ),
        "## Outcomes against the documented outcome",
        "",
        *_table(
            ["scenario", "documented", *OUTCOMES, "match rate"],
            [
                [
                    o.scenario,
                    o.documented or "-",
                    *(o.counts.get(k, 0) for k in OUTCOMES),
                    _f(o.match_rate),
                ]
                for o in agg.outcomes
            ],
        ),
        "## Groups",
        "",
        *_table(
            ["model/variant", "runs", "fidelity", "violation rate", "outcome match"],
            [
                [g, s.runs, _ci(s.fidelity), _f(s.violation_rate), _f(s.outcome_match_rate)]
                for g, s in agg.by_group.items()
            ],
        ),
        "## Runs",
        "",
        *_table(RUN_COLUMNS, [run_row(r) for r in report.runs]),
        (
            f"This invocation: {report.session.calls} model calls, {report.session.retries} retries, "
            f"{report.session.failures} failed calls, {report.session.cache_hits} cache hits."
        ),
        "",
    ]
    return "\n".join(lines)
