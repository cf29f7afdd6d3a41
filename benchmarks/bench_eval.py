"""Turns per second of the offline evaluator (rules + statistics) on this machine.

    python benchmarks/bench_eval.py [--repeat 5]

Uses the gold turns (train + dev) as a realistic mix; the model is trained once before timing.
"""

from __future__ import annotations

import argparse
import time

from harness.eval import evaluate_turns
from harness.eval.gold import gold_path, read_gold
from harness.pack.load import load_pack
from harness.transcript.turns_jsonl import PlainTurn


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=5, help="Copies of the gold turns to time.")
    args = parser.parse_args()
    pack = load_pack("us-china-2019")
    rows = read_gold(gold_path("train")) + read_gold(gold_path("dev"))
    turns = [PlainTurn(speaker=r.speaker, text=r.text) for r in rows] * args.repeat
    started = time.perf_counter()
    evaluate_turns(turns[:1], pack)  # trains and memoizes the statistical model
    trained = time.perf_counter() - started
    started = time.perf_counter()
    evaluate_turns(turns, pack)
    elapsed = time.perf_counter() - started
    print(
        f"offline evaluator: {len(turns)} turns in {elapsed:.2f}s = {len(turns) / elapsed:.0f} "
        f"turns/s (first use, incl. training: {trained:.2f}s)"
    )


if __name__ == "__main__":
    main()
