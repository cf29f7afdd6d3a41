"""The negotiation engine on LangGraph.

state.py         the graph state and the per-run context (settings live in context, not state)
turn_order.py    who speaks when, decided by code from the scenario's turn policy
replies.py       the structured replies a model returns, turned into transcript `Move`s
prompting.py     persona and turn prompts, assembled from the pack and harness/prompts/*.md
history.py       what each speaker may see, and the bounded summary of older rounds
clauses.py       the clause tracker and backtracking detection
ending.py        when and how a run ends
nodes.py         the graph's nodes, one small function each
build.py         the graph's wiring
checkpointer.py  the run's SQLite checkpoint store (LangGraph's saver, written on the loop)
runner.py        run, resume and fork, with SQLite checkpoints and transcript saving
"""
