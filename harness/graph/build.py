"""The graph's wiring: open a round, run its scheduled steps, close it, repeat or end."""

from __future__ import annotations

import functools

from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.graph import END, START, StateGraph
from langgraph.graph.state import CompiledStateGraph

from harness.graph import nodes
from harness.graph.state import NegotiationState, RunContext


def build_graph() -> StateGraph:
    graph = StateGraph(NegotiationState, context_schema=RunContext)
    graph.add_node("open_round", nodes.open_round)
    graph.add_node("hold_caucus_turn", nodes.hold_caucus_turn)
    graph.add_node("take_table_turn", nodes.take_table_turn)
    graph.add_node("principal_intervenes", nodes.principal_intervenes)
    graph.add_node("apply_event", nodes.apply_event)
    graph.add_node("close_round", nodes.close_round)

    graph.add_edge(START, "open_round")
    steps = [
        "hold_caucus_turn",
        "take_table_turn",
        "principal_intervenes",
        "apply_event",
        "close_round",
    ]
    graph.add_conditional_edges("open_round", nodes.next_step, steps)
    for step in steps[:-1]:
        graph.add_conditional_edges(step, nodes.next_step, steps)
    graph.add_conditional_edges("close_round", nodes.after_close, ["open_round", END])
    return graph


@functools.cache
def _compiled() -> CompiledStateGraph:
    return build_graph().compile()


def compiled_graph(checkpointer: BaseCheckpointSaver) -> CompiledStateGraph:
    """The graph compiled once per process, bound to one run's checkpointer.

    Compiling costs several milliseconds; a suite of many runs binds the same compiled graph.
    """
    return _compiled().copy(update={"checkpointer": checkpointer})
