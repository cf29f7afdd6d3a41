"""Turns per second of the offline evaluator (rules + statistics) on this machine.

    python benchmarks/bench_eval.py [--repeat 5]

Uses the gold turns (train + dev) as a realistic mix; the model is trained (or loaded from the
cache folder, where a previous process left it) once before timing. Point IMPASSE_CACHE_DIR at
an empty folder to time the training.
"""

from __future__ import annotations

import argparse
import time

from harness.eval import evaluate_turns, statistical
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
    folder = statistical.cache_dir() / "eval"
    before = set(folder.glob("statistical-*.pkl"))
    started = time.perf_counter()
    evaluate_turns(turns[:1], pack)  # trains (or loads) and memoizes the statistical model
    trained = time.perf_counter() - started
    how = "trained" if set(folder.glob("statistical-*.pkl")) - before else "loaded from the cache"
    started = time.perf_counter()
    evaluate_turns(turns, pack)
    elapsed = time.perf_counter() - started
    print(
        f"offline evaluator: {len(turns)} turns in {elapsed:.2f}s = {len(turns) / elapsed:.0f} "
        f"turns/s (first use: model {how} in {trained:.2f}s)"
    )


if __name__ == "__main__":
    main()
