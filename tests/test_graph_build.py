"""The graph's wiring, checked on the built (uncompiled) graph."""

from __future__ import annotations

import inspect

from harness.graph.build import build_graph


def test_every_node_and_router_runs_on_the_event_loop() -> None:
    # LangGraph sends a plain function to a thread-pool executor on every call: a thread round
    # trip per step of every run. Only coroutine functions run inline.
    graph = build_graph()
    steps = {name: spec.runnable for name, spec in graph.nodes.items()}
    routers = {
        f"{source} -> {name}": branch.path
        for source, branches in graph.branches.items()
        for name, branch in branches.items()
    }
    assert steps and routers
    for name, runnable in {**steps, **routers}.items():
        assert runnable.func is None, f"{name} is a plain function: make it `async def`"
        assert inspect.iscoroutinefunction(runnable.afunc), name
