"""Markdown export: the whole run, private channels included and marked, for reading or review.

Model text is quoted as Markdown block quotes with HTML-significant characters escaped, so a
Markdown renderer that allows raw HTML still shows `<script>` as text.
"""

from __future__ import annotations

import html

from harness.transcript.view import RunView, audience_label, is_private


def _quote(text: str) -> str:
    return "\n".join(
        f"> {html.escape(line, quote=False)}" if line else ">" for line in text.splitlines() or [""]
    )


def _esc(text: str) -> str:
    return html.escape(text, quote=False).replace("|", "\\|")


def export_markdown(view: RunView) -> str:
    t = view.transcript
    meta = t.meta
    out = [f"# {_esc(view.scenario_title())}", ""]
    out.append(f"- run: `{meta.run_id}` ({t.status})")
    if meta.parent_run:
        out.append(f"- forked from `{meta.parent_run}` at round {meta.fork_round}")
    out.append(
        f"- pack: `{meta.pack_id}` ({meta.pack_hash[:12]}), source sha256 {meta.source_sha256[:12]}"
    )
    models = ", ".join(f"{m.role}: {_esc(m.model)}" for m in meta.models) or "-"
    out.append(f"- models: {models}; seed {meta.seed}")
    out.append(
        f"- started {meta.started_at.isoformat()}"
        + (f", ended {meta.ended_at.isoformat()}" if meta.ended_at else "")
    )
    out.append(
        f"- tokens: {meta.usage.prompt_tokens} prompt, {meta.usage.completion_tokens} completion"
    )
    if t.outcome:
        o = t.outcome
        out.append(
            f"- outcome: **{o.result}** after round {o.ended_round} — {_esc(o.reason)}"
            f" (talks continue: {'yes' if o.talks_continue else 'no'})"
        )
    documented, talks, summary = view.documented_outcome()
    if documented or summary:
        line = f"- documented outcome: **{documented or '?'}**"
        if talks is not None:
            line += f" (talks continue: {'yes' if talks else 'no'})"
        if summary:
            line += f" — {_esc(summary)}"
        out.append(line)
    if t.error:
        out.append(f"- error: {_esc(t.error)}")
    out.append("")

    current_round = None
    for index, turn in enumerate(t.turns):
        if turn.round != current_round:
            current_round = turn.round
            out += [f"## Round {turn.round}", ""]
        private = " · *private*" if is_private(turn) else ""
        side = f" ({turn.side})" if turn.side else ""
        out.append(
            f"### {_esc(view.name(turn.speaker))}{side} — {turn.phase} → {audience_label(turn)}{private}"
        )
        out.append(f"<sub>{turn.id}</sub>")
        out.append("")
        out.append(_quote(turn.utterance))
        out.append("")
        if turn.move and turn.move.stances:
            for s in turn.move.stances:
                proposal = f': "{_esc(s.proposal)}"' if s.proposal else ""
                out.append(f"- `{s.issue}` {s.stance}{proposal}")
            out.append("")
        if turn.move and turn.move.rationale:
            out += [f"*Rationale (private):* {_esc(turn.move.rationale)}", ""]
        for v in view.verdicts(index):
            mark = "**VIOLATED**" if v.verdict == "violated" else v.verdict
            red = " (red line)" if v.red_line else ""
            out.append(
                f"- {mark}{red} `{v.entry}` on `{v.issue}` ({v.layer}, {v.confidence:.2f}):"
                f' said "{_esc(v.quote)}"'
            )
            evidence = view.evidence(v)
            if evidence:
                out.append(f'  — source: "{_esc(evidence)}"')
        if view.verdicts(index):
            out.append("")

    if t.clauses:
        issues = list(dict.fromkeys(c.issue for snap in t.clauses for c in snap.clauses))
        rounds = [snap.round for snap in t.clauses]
        status = {(snap.round, c.issue): c.status for snap in t.clauses for c in snap.clauses}
        back = {(b.round, b.issue) for b in t.backtracking}
        out += ["## Clause tracker", ""]
        out.append("| issue | " + " | ".join(f"r{r}" for r in rounds) + " |")
        out.append("|---|" + "---|" * len(rounds))
        for issue in issues:
            cells = [
                status.get((r, issue), "") + (" ⟲" if (r, issue) in back else "") for r in rounds
            ]
            out.append(f"| `{issue}` | " + " | ".join(cells) + " |")
        out.append("")
    return "\n".join(out).rstrip() + "\n"
