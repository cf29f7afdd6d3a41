"""The fidelity evaluator: turn-by-turn verdicts against the pack's ledger, and scores.

    from harness.eval import evaluate_turns, evaluate_transcript, aevaluate_transcript

Layers: `rules` (harness.eval.rules, patterns in evals/rules/<pack>.yaml), `statistical`
(harness.eval.statistical), `judge` (harness.eval.judge). Scores: harness.eval.scores.
Meta-evaluation on the gold set: harness.eval.calibrate.
"""

from harness.eval.evaluate import (
    EVALUATOR_VERSION,
    Evaluator,
    RunScorer,
    TurnInput,
    aevaluate_transcript,
    aevaluate_turns,
    evaluate_transcript,
    evaluate_turns,
)

__all__ = [
    "EVALUATOR_VERSION",
    "Evaluator",
    "RunScorer",
    "TurnInput",
    "aevaluate_transcript",
    "aevaluate_turns",
    "evaluate_transcript",
    "evaluate_turns",
]
