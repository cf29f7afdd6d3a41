"""A small inline SVG line chart (values 0-1 by round), so the HTML viewer needs no library."""

from __future__ import annotations

import html
from dataclasses import dataclass

WIDTH, HEIGHT = 420, 220
PAD_LEFT, PAD_RIGHT, PAD_TOP, PAD_BOTTOM = 40, 16, 14, 34


@dataclass(frozen=True)
class Series:
    label: str
    colour: str
    points: dict[int, float]  # round -> value in [0, 1]


def line_chart(series: list[Series], title: str) -> str:
    """An accessible SVG: gridlines at quarters, one polyline with dots per series."""
    rounds = sorted({r for s in series for r in s.points})
    if not rounds:
        return ""
    lo, hi = rounds[0], rounds[-1]
    plot_w = WIDTH - PAD_LEFT - PAD_RIGHT
    plot_h = HEIGHT - PAD_TOP - PAD_BOTTOM

    def x(r: int) -> float:
        return PAD_LEFT + (plot_w / 2 if hi == lo else (r - lo) / (hi - lo) * plot_w)

    def y(v: float) -> float:
        return PAD_TOP + (1 - max(0.0, min(1.0, v))) * plot_h

    out = [
        (
            f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
            f'xmlns="http://www.w3.org/2000/svg" aria-label="{html.escape(title)}">'
        ),
        f"<title>{html.escape(title)}</title>",
    ]
    for q in (0.0, 0.25, 0.5, 0.75, 1.0):
        out.append(
            f'<line class="grid" x1="{PAD_LEFT}" x2="{WIDTH - PAD_RIGHT}" y1="{y(q):.1f}" y2="{y(q):.1f}"/>'
            f'<text class="axis" x="{PAD_LEFT - 6}" y="{y(q) + 4:.1f}" text-anchor="end">{q:.2g}</text>'
        )
    step = max(1, len(rounds) // 10)
    for r in rounds[::step]:
        out.append(
            f'<text class="axis" x="{x(r):.1f}" y="{HEIGHT - PAD_BOTTOM + 16}" text-anchor="middle">r{r}</text>'
        )
    out.append(
        f'<text class="axis" x="{PAD_LEFT + plot_w / 2:.1f}" y="{HEIGHT - 4}" text-anchor="middle">round</text>'
    )
    for s in series:
        pts = sorted(s.points.items())
        colour = html.escape(s.colour)
        label = html.escape(s.label)
        coords = " ".join(f"{x(r):.1f},{y(v):.1f}" for r, v in pts)
        out.append(f'<g class="series" data-series="{label}">')
        if len(pts) > 1:
            out.append(
                f'<polyline fill="none" stroke="{colour}" stroke-width="2.5" points="{coords}"/>'
            )
        for r, v in pts:
            out.append(
                f'<circle cx="{x(r):.1f}" cy="{y(v):.1f}" r="4" fill="{colour}">'
                f"<title>{label}, round {r}: {v:.2f}</title></circle>"
            )
        out.append("</g>")
    out.append("</svg>")
    return "".join(out)
