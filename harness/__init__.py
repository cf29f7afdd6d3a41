"""impasse: source-grounded negotiation simulations and a fidelity evaluator.

Folders read as the architecture:
  harness/pack/        persona packs: sources, ledger, personas, scenarios (load + validate)
  harness/llm/         every model call: endpoints, retries, structured output, cache, accounting
  harness/graph/       the negotiation engine on LangGraph (turn order, clause tracker, runs)
  harness/prompts/     prompt templates, as files
  harness/transcript/  the versioned transcript format, storage, review, export
  harness/eval/        the fidelity evaluator, calibration and eval suites
  harness/cli/         the thin `impasse` command line
"""

__version__ = "0.1.0"
