"""Persona and turn prompts, assembled from the pack and the templates in harness/prompts/.

The system prompt depends only on the persona, the pack and the scenario, so it is byte-stable
for the whole run: llama.cpp (and hosted prompt caches) reuse it from turn to turn. Everything
that changes (the history, the clause status, the round) goes in the user message after it.
"""

from __future__ import annotations

import hashlib
import json

from harness.graph.history import render_clauses, render_turns, split_window, summarize, visible_to
from harness.graph.state import NegotiationState, RunContext, Slot
from harness.llm.types import ChatMessage
from harness.pack.models import LedgerEntry, Persona
from harness.prompts import render

SIDE_NAMES = {"us": "the United States", "cn": "China"}
ROLE_NAMES = {
    "principal": "principal (head of state, off the table)",
    "lead_negotiator": "lead negotiator",
    "negotiator": "negotiator",
    "adviser": "adviser",
    "spokesperson": "spokesperson",
}


def _bullets(items: list[str]) -> str:
    return "\n".join(f"- {item}" for item in items) if items else "- (none documented)"


def _entry_line(entry: LedgerEntry) -> str:
    return f"[{entry.issue}] {entry.statement}"


def persona_of(ctx: RunContext, state: NegotiationState, persona_id: str) -> Persona:
    return state.persona_overrides.get(persona_id) or ctx.pack.personas[persona_id]


def system_prompt(ctx: RunContext, persona: Persona) -> str:
    scenario = ctx.scenario
    entries = ctx.pack.entries_for(persona.id)
    positions = [_entry_line(e) for e in entries if e.kind in ("position", "tactic", "belief")]
    red_lines = [_entry_line(e) for e in entries if e.kind == "red_line"]
    text = render(
        "persona_system",
        name=persona.name,
        title=persona.title,
        side_name=SIDE_NAMES[persona.side],
        role=ROLE_NAMES[persona.role],
        background=_bullets([c.text for c in persona.background]),
        goals=_bullets(persona.goals),
        voice=_bullets(persona.voice),
        positions=_bullets(positions),
        red_lines=_bullets(red_lines),
        private_knowledge=_bullets([c.text for c in persona.private_knowledge]),
        scenario_title=scenario.title,
        scenario_date=scenario.date.isoformat(),
        setting=scenario.setting.strip(),
        public_context=scenario.public_context.strip(),
        private_brief=scenario.private_briefs.get(persona.side, "(none)").strip(),
        agenda=", ".join(scenario.agenda),
    )
    if persona.role == "principal":
        text += "\n" + render("principal_system_extra")
    return text


def phase_instruction(ctx: RunContext, persona: Persona, slot: Slot, single_side: bool) -> str:
    if slot.phase == "caucus":
        return render("phase_caucus", side_name=SIDE_NAMES[persona.side]).strip()
    if slot.phase == "principal":
        return render("phase_principal").strip()
    if single_side:
        return render("phase_deliberation").strip()
    return render("phase_table").strip()


def turn_prompt(
    ctx: RunContext, state: NegotiationState, persona: Persona, slot: Slot, single_side: bool
) -> str:
    """The user message of a speaker's turn: bounded history, clauses, and what to do now."""
    visible = visible_to(persona.side, state.turns)
    older, recent = split_window(visible, state.round, ctx.summary_window)
    summary = None
    if older:
        last_old = max(t.round for t in older)
        snapshot = next((s for s in state.clause_history if s.round == last_old), None)
        clauses_then = {c.issue: c for c in snapshot.clauses} if snapshot else state.clauses
        summary = summarize(older, clauses_then, state.backtracking)
    return render(
        "turn_user",
        summary=summary or "(no earlier rounds)",
        recent=render_turns(recent, ctx.pack),
        clauses=render_clauses(state.clauses),
        round=str(state.round),
        max_rounds=str(ctx.max_rounds),
        phase_instruction=phase_instruction(ctx, persona, slot, single_side),
    )


def messages_for(
    ctx: RunContext, state: NegotiationState, persona: Persona, slot: Slot, single_side: bool
) -> list[ChatMessage]:
    return [
        ChatMessage(role="system", content=system_prompt(ctx, persona)),
        ChatMessage(role="user", content=turn_prompt(ctx, state, persona, slot, single_side)),
    ]


def prompt_hash(messages: list[ChatMessage]) -> str:
    payload = json.dumps([m.model_dump() for m in messages], sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()
