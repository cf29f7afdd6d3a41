"""`report.html`: the suite report as one self-contained page (inline CSS and SVG, no script).

Three charts: fidelity per persona with confidence-interval bars, violation rate per red line
(with the gate drawn as a line), and the outcome distribution per scenario with the documented
outcome marked. Every piece of text from a run or a file is escaped.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

from harness.eval.report import OUTCOMES, RUN_COLUMNS, Interval, SuiteReport, run_row

ROW_H, LABEL_W, PLOT_W, PAD, CHAR_W = 26, 160, 380, 12, 7
COLOURS = {"deal": "#2a9d8f", "no_deal": "#e9c46a", "breakdown": "#e76f51"}
BAR = "#3d6fb6"


@dataclass(frozen=True)
class Bar:
    label: str
    value: float  # 0-1
    low: float | None = None
    high: float | None = None
    colour: str = BAR
    note: str = ""
    marked: bool = False  # drawn with a heavy outline (the documented outcome)


def bar_chart(bars: Sequence[Bar], title: str, *, limit: float | None = None) -> str:
    """Horizontal bars on a 0-1 scale, optional whiskers (interval) and a vertical gate line."""
    height = PAD * 2 + ROW_H * max(len(bars), 1) + 20
    label_w = max([LABEL_W, *(len(b.label) * CHAR_W + 16 for b in bars)])
    note_w = max([60, *(len(b.note) * CHAR_W + 50 for b in bars)])
    width = label_w + PLOT_W + note_w

    def x(v: float) -> float:
        return label_w + max(0.0, min(1.0, v)) * PLOT_W

    out = [
        (
            f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" '
            f'xmlns="http://www.w3.org/2000/svg" aria-label="{escape(title)}">'
        ),
        f"<title>{escape(title)}</title>",
    ]
    axis_y = PAD + ROW_H * len(bars)
    for q in (0.0, 0.25, 0.5, 0.75, 1.0):
        out.append(
            f'<line class="grid" x1="{x(q):.1f}" x2="{x(q):.1f}" y1="{PAD}" y2="{axis_y}"/>'
            f'<text class="axis" x="{x(q):.1f}" y="{axis_y + 14}" text-anchor="middle">{q:g}</text>'
        )
    for i, bar in enumerate(bars):
        y = PAD + i * ROW_H
        label = escape(bar.label)
        tip = escape(f"{bar.label}: {bar.value:.2f}" + (f" {bar.note}" if bar.note else ""))
        stroke = ' class="documented" stroke="#111" stroke-width="2.5"' if bar.marked else ""
        out.append(f'<g class="bar" data-label="{label}">')
        out.append(
            f'<text class="label" x="{label_w - 8}" y="{y + ROW_H * 0.65:.1f}" '
            f'text-anchor="end">{label}</text>'
        )
        out.append(
            f'<rect x="{label_w}" y="{y + 4}" width="{x(bar.value) - label_w:.1f}" '
            f'height="{ROW_H - 8}" fill="{escape(bar.colour)}"{stroke}><title>{tip}</title></rect>'
        )
        if bar.low is not None and bar.high is not None:
            mid = y + ROW_H / 2
            out.append(
                f'<g class="ci"><line x1="{x(bar.low):.1f}" x2="{x(bar.high):.1f}" y1="{mid}" '
                f'y2="{mid}"/><line x1="{x(bar.low):.1f}" x2="{x(bar.low):.1f}" y1="{mid - 6}" '
                f'y2="{mid + 6}"/><line x1="{x(bar.high):.1f}" x2="{x(bar.high):.1f}" '
                f'y1="{mid - 6}" y2="{mid + 6}"/></g>'
            )
        text = f"{bar.value:.2f}" + (f" {bar.note}" if bar.note else "")
        out.append(
            f'<text class="value" x="{x(1.0) + 6}" y="{y + ROW_H * 0.65:.1f}">'
            f"{escape(text)}</text></g>"
        )
    if limit is not None:
        out.append(
            f'<line class="limit" x1="{x(limit):.1f}" x2="{x(limit):.1f}" y1="{PAD - 4}" '
            f'y2="{axis_y + 2}"><title>gate {limit:g}</title></line>'
        )
    out.append("</svg>")
    return "".join(out)


def _ci_bar(label: str, ci: Interval) -> Bar:
    return Bar(label, ci.mean, ci.low, ci.high, note=f"[{ci.low:.2f}, {ci.high:.2f}] n={ci.n}")


def fidelity_chart(report: SuiteReport) -> str:
    agg = report.aggregates
    bars = [_ci_bar(p, ci) for p, ci in agg.consistency_by_persona.items()]
    if agg.fidelity is not None:
        bars.append(_ci_bar("per-run fidelity", agg.fidelity))
    return bar_chart(bars, "Fidelity (consistency) per persona, with 95% intervals")


def violation_chart(report: SuiteReport) -> str:
    gate = next(
        (t.limit for t in report.thresholds if t.name == "max_red_line_violation_rate"), None
    )
    bars = [
        Bar(k, v, colour="#c0392b") for k, v in report.aggregates.violation_rate_by_red_line.items()
    ]
    return bar_chart(bars, "Violation rate per red line (share of runs)", limit=gate)


def outcome_chart(report: SuiteReport) -> str:
    bars = []
    for dist in report.aggregates.outcomes:
        for result in (*OUTCOMES, *(k for k in dist.counts if k not in OUTCOMES)):
            count = dist.counts.get(result, 0)
            documented = result == dist.documented
            bars.append(
                Bar(
                    f"{dist.scenario} {result}",
                    count / dist.runs if dist.runs else 0.0,
                    colour=COLOURS.get(result, "#888"),
                    note=f"{count}/{dist.runs}" + (" documented" if documented else ""),
                    marked=documented,
                )
            )
    return bar_chart(bars, "Outcome distribution against the documented outcome (outlined)")


CSS = """
body{font:14px/1.45 system-ui,sans-serif;margin:2rem auto;max-width:1100px;color:#222;padding:0 1rem}
h1 .pass{color:#1b7f3b}h1 .fail{color:#b3261e}
table{border-collapse:collapse;margin:.5rem 0 1.5rem}td,th{border:1px solid #ccc;padding:3px 8px;
text-align:left;vertical-align:top}th{background:#f3f3f3}td.num{text-align:right}
tr.failed td{background:#fdecea}tr.error td{background:#fff4e5}
svg.chart{max-width:100%;height:auto;display:block;margin:.5rem 0 1.5rem}
svg .grid{stroke:#ddd}svg .axis,svg .value{font-size:11px;fill:#555}svg .label{font-size:12px;fill:#222}
svg .ci line{stroke:#111;stroke-width:1.5}svg .limit{stroke:#b3261e;stroke-width:2;stroke-dasharray:5 3}
code{background:#f3f3f3;padding:0 3px}
"""


def _f(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def _rows(cells: Sequence[Sequence[object]], css: Sequence[str] = ()) -> str:
    out = []
    for i, row in enumerate(cells):
        cls = f' class="{escape(css[i])}"' if i < len(css) and css[i] else ""
        out.append(f"<tr{cls}>" + "".join(f"<td>{escape(str(c))}</td>" for c in row) + "</tr>")
    return "".join(out)


def _head(*names: str) -> str:
    return "<tr>" + "".join(f"<th>{escape(n)}</th>" for n in names) + "</tr>"


def render_html(report: SuiteReport) -> str:
    agg = report.aggregates
    verdict = (
        '<span class="pass">passed</span>' if report.passed else '<span class="fail">failed</span>'
    )
    gates = _rows(
        [
            [t.name, _f(t.limit), _f(t.value), ("pass" if t.passed else "FAIL") + ": " + t.detail]
            for t in report.thresholds
        ],
        ["" if t.passed else "failed" for t in report.thresholds],
    )
    runs = _rows(
        [run_row(r) for r in report.runs],
        ["error" if r.status == "error" else "" for r in report.runs],
    )
    s = report.session
    return "".join(
        [
            '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">',
            (
                '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; '
                "style-src 'unsafe-inline'; img-src data:\">"
            ),
            f"<title>Suite {escape(report.suite)}</title><style>{CSS}</style></head><body>",
            f"<h1>Suite {escape(report.suite)}: {verdict}</h1>",
            f"<p>{escape(report.description)}</p>" if report.description else "",
            (
                f"<p>Suite file <code>{escape(report.suite_file)}</code>, pack <code>{escape(report.pack_id)}"
                f"</code>, evaluator {escape(report.evaluator_version)} ({escape(report.evaluation_mode)}: "
                f"{escape(', '.join(report.layers) or '-')}), impasse {escape(report.impasse_version)}, "
                f"generated {report.generated_at:%Y-%m-%d %H:%M} UTC.</p>"
            ),
            (
                f"<p>Runs: {agg.runs} ({agg.complete} complete, {agg.errors} in error, {agg.evaluated} "
                f"evaluated). Retries in runs: {agg.retries}. This invocation: {s.calls} calls, "
                f"{s.retries} retries, {s.failures} failed calls.</p>"
            ),
            f"<h2>Thresholds</h2><table>{_head('gate', 'limit', 'value', 'result')}{gates}</table>",
            f'<h2>Fidelity per persona</h2><div id="chart-fidelity">{fidelity_chart(report)}</div>',
            f'<h2>Red-line violations</h2><div id="chart-violations">{violation_chart(report)}</div>',
            f'<h2>Outcomes</h2><div id="chart-outcomes">{outcome_chart(report)}</div>',
            "<h2>Runs</h2><table>",
            _head(*RUN_COLUMNS),
            f"{runs}</table></body></html>\n",
        ]
    )
