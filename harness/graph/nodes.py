"""The graph's nodes: small async functions, each named for what it does.

Every node returns a partial state update; LangGraph checkpoints after each one, so a run
killed at any point resumes at the step that was in flight, with no turn lost or repeated.
"""

from __future__ import annotations

import logging
from typing import Any, Literal

from langgraph.runtime import Runtime

from harness.graph import clauses as clause_tracker
from harness.graph import ending
from harness.graph.history import round_summary
from harness.graph.prompting import messages_for, persona_of, prompt_hash
from harness.graph.replies import reply_models, to_move
from harness.graph.state import NegotiationState, RunContext, Slot
from harness.graph.turn_order import events_due, schedule_round, sides_present
from harness.llm.errors import StructuredOutputError
from harness.transcript.model import ClauseSnapshot, Turn

Update = dict[str, Any]
RESAMPLE_SEED_OFFSET = 7919
logger = logging.getLogger("harness.graph")


def _turn_id(round_no: int, slot: Slot, cursor: int) -> str:
    return f"r{round_no:02d}.{slot.phase}.{cursor:02d}"


async def open_round(state: NegotiationState, runtime: Runtime[RunContext]) -> Update:
    ctx = runtime.context
    round_no = state.round + 1
    update: Update = {
        "round": round_no,
        "cursor": 0,
        "break_requested": False,
        "schedule": schedule_round(ctx.scenario, ctx.pack, round_no, state.extra_events),
    }
    if not state.clauses:
        update["clauses"] = clause_tracker.initial_clauses(ctx.scenario.agenda)
    return update


async def _speak(state: NegotiationState, ctx: RunContext) -> Turn:
    """One structured model call for the slot at the cursor, as a transcript turn."""
    slot = state.schedule[state.cursor]
    persona = persona_of(ctx, state, slot.speaker)
    single_side = len(sides_present(ctx.scenario, ctx.pack)) == 1
    messages = messages_for(ctx, state, persona, slot, single_side)
    digest = prompt_hash(messages)
    if ctx.record_prompt is not None:
        ctx.record_prompt(digest, messages)
    agenda = tuple(ctx.scenario.agenda)
    move_model, principal_model = reply_models(agenda)
    schema = principal_model if slot.phase == "principal" else move_model
    chat = ctx.models.for_speaker(persona.id, persona.side)
    try:
        result = await chat.structured(
            messages, schema, tag=persona.id, temperature=ctx.temperature, seed=ctx.seed,
            max_tokens=ctx.max_tokens,
        )  # fmt: skip
    except StructuredOutputError as error:
        # A small model can babble past every bound once; draw one fresh sample (another
        # seed, so a cached or seeded endpoint does not repeat itself). A second failure stops
        # the run, checkpoint intact.
        logger.warning("%s: %s; drawing one fresh sample", persona.id, error.problem)
        result = await chat.structured(
            messages, schema, tag=persona.id, temperature=ctx.temperature,
            seed=(ctx.seed or 0) + RESAMPLE_SEED_OFFSET, max_tokens=ctx.max_tokens,
        )  # fmt: skip
    move = to_move(result.value, agenda)
    audience = slot.audience
    directive_to = None
    if slot.phase == "principal" and getattr(result.value, "kind", None) == "directive":
        audience = persona.side
        directive_to = persona.side
    turn = Turn(
        id=_turn_id(state.round, slot, state.cursor),
        round=state.round,
        phase=slot.phase,
        speaker=persona.id,
        side=persona.side,
        audience=audience,
        utterance=move.utterance,
        move=move,
        usage=result.record.usage,
        latency_s=result.record.latency_s,
        retries=result.record.retries,
        model=result.record.model,
        prompt_hash=digest,
        directive_to=directive_to,
    )
    return turn


async def hold_caucus_turn(state: NegotiationState, runtime: Runtime[RunContext]) -> Update:
    # Caucus moves are private: they change no clause and end nothing at the table.
    turn = await _speak(state, runtime.context)
    return {"turns": [turn], "cursor": state.cursor + 1}


async def take_table_turn(state: NegotiationState, runtime: Runtime[RunContext]) -> Update:
    ctx = runtime.context
    turn = await _speak(state, ctx)
    sides = sides_present(ctx.scenario, ctx.pack)
    clauses, backtracks = clause_tracker.apply_turn(state.clauses, turn, sides)
    cursor = state.cursor + 1
    break_requested = state.break_requested or (
        turn.move is not None and turn.move.action == "request_break"
    )
    spoken = {t.side for t in state.turns if t.round == state.round and t.phase == "table"}
    if break_requested and set(sides) <= spoken | {turn.side}:
        # A break ends this table session, but only once every side has had the floor.
        while cursor < len(state.schedule) and state.schedule[cursor].phase == "table":
            cursor += 1
    update: Update = {
        "turns": [turn],
        "cursor": cursor,
        "clauses": clauses,
        "backtracking": backtracks,
        "break_requested": break_requested,
    }
    outcome = ending.after_turn(turn, clauses, [*state.turns, turn])
    if outcome is not None:
        update["outcome"] = outcome
    return update


async def principal_intervenes(state: NegotiationState, runtime: Runtime[RunContext]) -> Update:
    turn = await _speak(state, runtime.context)
    return {"turns": [turn], "cursor": state.cursor + 1}


async def apply_event(state: NegotiationState, runtime: Runtime[RunContext]) -> Update:
    ctx = runtime.context
    slot = state.schedule[state.cursor]
    event = next(
        e
        for e in events_due(ctx.scenario, state.extra_events, state.round)
        if e.id == slot.event_id
    )
    turn = Turn(
        id=_turn_id(state.round, slot, state.cursor),
        round=state.round,
        phase="event",
        speaker="event",
        side=None,
        audience=event.audience,
        utterance=event.text.strip(),
    )
    return {"turns": [turn], "cursor": state.cursor + 1}


async def close_round(state: NegotiationState, runtime: Runtime[RunContext]) -> Update:
    ctx = runtime.context
    update: Update = {
        "clause_history": [ClauseSnapshot(round=state.round, clauses=list(state.clauses.values()))],
        "summaries": {
            **state.summaries,
            state.round: round_summary(state.round, state.turns, state.clauses),
        },
    }
    if state.outcome is None:
        outcome = ending.at_round_close(state.round, ctx.max_rounds, state.turns)
        if outcome is not None:
            update["outcome"] = outcome
    return update


StepName = Literal[
    "hold_caucus_turn", "take_table_turn", "principal_intervenes", "apply_event", "close_round"
]

NODE_FOR_PHASE: dict[str, StepName] = {
    "caucus": "hold_caucus_turn",
    "table": "take_table_turn",
    "principal": "principal_intervenes",
    "event": "apply_event",
}


# The routers are `async def` although they never await: LangGraph runs a plain function in a
# thread-pool executor on every call, a thread round trip per step of every run.
async def next_step(state: NegotiationState) -> StepName:
    """Route to the node for the slot at the cursor, or close the round."""
    if state.outcome is not None or state.cursor >= len(state.schedule):
        return "close_round"
    return NODE_FOR_PHASE[state.schedule[state.cursor].phase]


async def after_close(state: NegotiationState) -> Literal["open_round", "__end__"]:
    return "__end__" if state.outcome is not None else "open_round"
