"""Engine benchmarks against the fake OpenAI-compatible server (tests/fake_openai.py).

Replies hold every position (no walk-out, no deal), so each run lasts all its rounds.

1. Harness time per turn: runs against a zero-latency server in another process (so none of
   the server's work lands in this process), after one untimed warm-up run: wall time and
   this process's CPU time, each over model turns (the best of three runs).
2. Latency accounting: a run against a server (in another process) with a fixed latency, wall
   time compared with the sum of the latencies its sequential turns had to wait for.
3. Context growth: prompt tokens per turn at rounds 5, 10, 20 and 40 (flat after the summary
   window), and total tokens per run (linear in rounds).

Run: python benchmarks/bench_engine.py [--latency 0.2] [--json]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.bench_suite import endpoint
from harness.graph.runner import RunRequest, run_scenario
from harness.llm.config import CLIOverrides, resolve_settings
from harness.llm.router import open_router
from harness.transcript.model import Transcript
from harness.transcript.store import RunStore
from tests.cli_process import scripted_fake

SCENARIO = "washington-2019-05"


async def one_run(base_url: str, root: Path, rounds: int) -> tuple[Transcript, float]:
    settings = resolve_settings(CLIOverrides(base_url=base_url, model="fake-model"))
    async with open_router(settings) as router:
        started = time.perf_counter()
        transcript = await run_scenario(
            RunRequest(scenario=SCENARIO, rounds=rounds, seed=1), router, store=RunStore(root)
        )
        return transcript, time.perf_counter() - started


def model_turns(transcript: Transcript) -> int:
    return sum(1 for t in transcript.turns if t.phase != "event")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--latency", type=float, default=0.2, help="Fixed latency in seconds.")
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    results: dict[str, object] = {}
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["IMPASSE_CACHE_DIR"] = str(Path(tmp) / "cache")
        with endpoint(0.0) as fake:
            asyncio.run(one_run(fake.base_url, Path(tmp) / "warm", 1))
            timed = []
            for k in range(3):
                cpu_started = time.process_time()
                transcript, wall = asyncio.run(
                    one_run(fake.base_url, Path(tmp) / f"zero{k}", args.rounds)
                )
                timed.append((wall, time.process_time() - cpu_started))
            turns = model_turns(transcript)
            wall, cpu = min(timed)
            results["zero_latency"] = {
                "rounds": args.rounds,
                "model_turns": turns,
                "wall_s": round(wall, 3),
                "harness_ms_per_turn": round(1000 * wall / turns, 2),
                "harness_cpu_ms_per_turn": round(1000 * cpu / turns, 2),
            }
        with endpoint(args.latency) as fake:
            transcript, wall = asyncio.run(one_run(fake.base_url, Path(tmp) / "lat", args.rounds))
            turns = model_turns(transcript)
            waited = turns * args.latency  # turns are sequential: each waits its latency
            results["fixed_latency"] = {
                "latency_s": args.latency,
                "model_turns": turns,
                "sum_of_latencies_s": round(waited, 3),
                "wall_s": round(wall, 3),
                "overhead_pct": round(100 * (wall - waited) / waited, 2),
            }
        growth = []
        with scripted_fake() as fake:
            for rounds in (5, 10, 20, 40):
                transcript, _ = asyncio.run(
                    one_run(fake.base_url, Path(tmp) / f"g{rounds}", rounds)
                )
                table = [t for t in transcript.turns if t.phase == "table" and t.round == rounds]
                growth.append(
                    {
                        "rounds": rounds,
                        "prompt_tokens_per_table_turn_in_last_round": round(
                            sum(t.usage.prompt_tokens for t in table) / len(table), 1
                        ),
                        "total_prompt_tokens": transcript.meta.usage.prompt_tokens,
                        "total_tokens_per_round": round(
                            (
                                transcript.meta.usage.prompt_tokens
                                + transcript.meta.usage.completion_tokens
                            )
                            / rounds,
                            1,
                        ),
                    }
                )
        results["context_growth"] = growth
    if args.json:
        print(json.dumps(results, indent=2))
        return
    zero = results["zero_latency"]
    print(
        f"harness time per turn (zero latency): {zero['harness_ms_per_turn']} ms wall, "
        f"{zero['harness_cpu_ms_per_turn']} ms CPU, over {zero['model_turns']} turns"
    )
    lat = results["fixed_latency"]
    print(
        f"fixed {lat['latency_s']}s latency: wall {lat['wall_s']} s vs sum of latencies "
        f"{lat['sum_of_latencies_s']} s ({lat['overhead_pct']}% overhead)"
    )
    for row in growth:
        print(
            f"rounds {row['rounds']:>2}: {row['prompt_tokens_per_table_turn_in_last_round']} prompt tokens per "
            f"table turn in the last round; {row['total_tokens_per_round']} tokens per round overall"
        )


if __name__ == "__main__":
    main()
