"""Suite overhead (issue 7): wall time of a suite against a fixed-latency fake endpoint,
measured against the critical path.

Every run of washington-2019-05 makes T model calls one after another (the graph is
sequential), and the LLM layer lets at most L requests be in flight per endpoint
(`max_concurrency`, shared by every run of the process). With R runs in flight the endpoint can
serve at most L calls per latency period, so no schedule beats

    critical path = max(T, ceil(R * T / L)) * latency

(T when every run has its own slot, R*T/L when the limit is the bottleneck). The suite's wall
time includes everything the harness does: prompts, checkpoints, transcript writes, the offline
evaluation of every run, and the report. The offline model is trained before the clock starts
(a one-off of a few seconds per process, not per suite), and an untimed one-run suite warms
the process first. The fake endpoint runs in a child process, as a real endpoint would, so it
does not compete with the harness for the GIL; its latency is fixed: every answer leaves 200 ms
after its request arrived, the fake's own work included.

This machine adds time to every call that no client can avoid (waking up after a 200 ms idle
wait, the SDK's HTTP stack). So each config is also replayed by a bare
`AsyncOpenAI` client: the same prompts, the same runs and limit, nothing else. `bare floor` is
that replay's wall time: what a client that does nothing but call the model achieves here.

Configs: 1:8 is the single-run floor (the engine's own per-turn cost); 8:8 has every run in its
own slot (critical path T); 32:8 is limited by the default per-endpoint limit of 8 (4T); 32:32
lifts the limit (T again), which makes the one event loop's CPU the bottleneck on a small box.

Run: python benchmarks/bench_suite.py [--latency 0.2] [--rounds 2] [--configs 8:8:2,32:32:2]
[--repeat 3] [--timeline]
Each config is RUNS:LIMIT[:WORKERS] (runs in flight at once = RUNS, per-endpoint limit = LIMIT,
WORKERS = the suite's worker processes, `impasse suite run --workers`; the limit is split
between them). `--timeline` also prints, from the fake endpoint's record of every call, where
a suite's time went: when the runs' first requests arrived, the time between a reply and the
run's next request by call number (each run has its own seed, which names it), and the run
that ended last.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import multiprocessing
import os
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from itertools import pairwise
from multiprocessing.connection import Connection
from multiprocessing.synchronize import Event
from pathlib import Path
from typing import Any, NamedTuple

import yaml
from openai import AsyncOpenAI

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from harness.eval import Evaluator
from harness.eval.report import RunRecord
from harness.eval.suite import RunSpec, load_suite
from harness.eval.suite_runner import SuiteObserver, run_suite
from harness.graph.replies import reply_models
from harness.llm.config import CLIOverrides
from harness.llm.structured import response_format
from harness.pack.load import load_pack
from harness.transcript.model import Transcript
from harness.transcript.store import RunStore
from tests.cli_process import holding_reply
from tests.fake_openai import FakeOpenAI


class Clock(SuiteObserver):
    """When the last simulation ended (the rest is evaluation and the report)."""

    def __init__(self) -> None:
        self.last_simulated = 0.0

    def evaluating(self, spec: RunSpec) -> None:
        self.last_simulated = time.perf_counter()

    def finished(self, spec: RunSpec, record: RunRecord) -> None:
        if record.status == "error":
            raise SystemExit(f"run {spec.id} failed: {record.error}")


def write_suite(folder: Path, runs: int, rounds: int) -> Path:
    doc = {
        "name": f"bench-{runs}",
        "matrix": {
            "scenarios": ["washington-2019-05"],
            "seeds": list(range(1, runs + 1)),
            "rounds": [rounds],
        },
    }
    path = folder / f"bench-{runs}.yaml"
    path.write_text(yaml.safe_dump(doc), encoding="utf-8")
    return path


def measure(
    fake: Endpoint,
    tmp: Path,
    runs: int,
    limit: int,
    rounds: int,
    latency: float,
    workers: int = 1,
) -> dict[str, object]:
    base_url = fake.base_url
    tmp.mkdir(parents=True, exist_ok=True)
    loaded = load_suite(write_suite(tmp, runs, rounds))
    store = RunStore(tmp / f"runs-{runs}-{limit}-{workers}")
    clock = Clock()
    overrides = CLIOverrides(base_url=base_url, model="fake-model", max_concurrency=limit)
    fake.calls()  # forget the calls of earlier configs
    on_clock = time.monotonic()
    started = time.perf_counter()
    report = asyncio.run(
        run_suite(
            loaded,
            store=store,
            out_dir=tmp / f"report-{runs}-{limit}-{workers}",
            parallel=runs,
            overrides=overrides,
            observer=clock,
            workers=workers,
        )
    )
    wall = time.perf_counter() - started
    spent = timeline(fake.calls(), on_clock, on_clock + wall)
    transcripts = [store.load_transcript(r.run_id or "") for r in report.runs]
    calls = [sum(1 for t in tr.turns if t.phase != "event") for tr in transcripts]
    in_calls = [sum(t.latency_s for t in tr.turns) for tr in transcripts]
    per_run = max(calls)
    critical = max(per_run, math.ceil(sum(calls) / limit)) * latency
    floor = asyncio.run(bare_floor(base_url, store, transcripts, limit))
    return {
        "runs": runs,
        "limit": limit,
        "workers": workers,
        "calls_per_run": per_run,
        "calls_total": sum(calls),
        "critical_path_s": round(critical, 2),
        "wall_s": round(wall, 2),
        "mean_s_in_calls_per_run": round(sum(in_calls) / len(in_calls), 2),
        "wall_pct_of_critical": round(100 * wall / critical, 1),
        "bare_floor_s": round(floor, 2),
        "bare_floor_pct_of_critical": round(100 * floor / critical, 1),
        "wall_pct_of_bare_floor": round(100 * wall / floor, 1),
        "simulation_wall_s": round(clock.last_simulated - started, 2),
        "simulation_pct_of_critical": round(100 * (clock.last_simulated - started) / critical, 1),
        "timeline": spent,
    }


async def bare_floor(
    base_url: str, store: RunStore, transcripts: list[Transcript], limit: int
) -> float:
    """Replay every run's model calls with a bare SDK client: same prompts, same concurrency."""
    client = AsyncOpenAI(base_url=base_url, api_key="sk-bench", max_retries=0)
    agenda = tuple(load_pack("us-china-2019").scenarios["washington-2019-05"].agenda)
    fmt = response_format("json_schema", reply_models(agenda)[0])
    slots = asyncio.Semaphore(limit)

    async def replay(transcript: Transcript) -> None:
        prompts = store.load_prompts(transcript.meta.run_id)
        for turn in transcript.turns:
            if turn.prompt_hash is None:
                continue
            messages = [m.model_dump() for m in prompts[turn.prompt_hash]]
            async with slots:
                await client.chat.completions.create(
                    model="fake-model", messages=messages, response_format=fmt, temperature=0.7
                )

    started = time.perf_counter()
    await asyncio.gather(*(replay(t) for t in transcripts))
    wall = time.perf_counter() - started
    await client.close()
    return wall


class Call(NamedTuple):
    """One answered chat request, as the fake endpoint saw it (time.monotonic(), which every
    process of the machine shares)."""

    seed: int | None
    arrived: float
    answered: float


def serve(latency: float, conn: Connection, stop: Event) -> None:
    """The fake endpoint in its own process: it must not share the harness's GIL. Any message
    on `conn` asks for the calls answered since the last such message."""
    with FakeOpenAI(latency_s=latency, responder=holding_reply, report_cached_tokens=False) as fake:
        conn.send(fake.base_url)
        while not stop.is_set():
            if conn.poll(0.05):
                conn.recv()
                conn.send(
                    [
                        Call((r.body or {}).get("seed"), r.arrived, r.answered)
                        for r in fake.take_requests()
                        if r.path.endswith("/chat/completions") and r.answered is not None
                    ]
                )


class Endpoint(NamedTuple):
    base_url: str
    conn: Connection

    def calls(self) -> list[Call]:
        """The calls answered since the last time this was asked."""
        self.conn.send(None)
        return self.conn.recv()


@contextmanager
def endpoint(latency: float) -> Iterator[Endpoint]:
    ctx = multiprocessing.get_context("fork")
    parent, child = ctx.Pipe()
    stop = ctx.Event()
    proc = ctx.Process(target=serve, args=(latency, child, stop), daemon=True)
    proc.start()
    try:
        yield Endpoint(parent.recv(), parent)
    finally:
        stop.set()
        proc.join(timeout=10)


def ms(seconds: float) -> float:
    return round(1000 * seconds, 1)


def timeline(calls: list[Call], started: float, ended: float) -> dict[str, object]:
    """Where a suite's wall time went, from the endpoint's side: when the runs' first requests
    arrived, how long each run took between a reply and its next request (by call number), and
    the run that ended last. Times in ms from the suite's start. Needs one seed per run."""
    runs: dict[object, list[Call]] = {}
    for call in sorted(calls, key=lambda c: c.arrived):
        runs.setdefault(call.seed, []).append(call)
    # Per run, the time from each reply to its next request (call n's reply -> call n + 1).
    waits = {seed: [b.arrived - a.answered for a, b in pairwise(run)] for seed, run in runs.items()}
    by_call: dict[int, list[float]] = {}
    for run_waits in waits.values():
        for n, wait in enumerate(run_waits, start=1):
            by_call.setdefault(n, []).append(wait)
    first = [run[0].arrived - started for run in runs.values()]
    last = max(runs, key=lambda seed: runs[seed][-1].answered)
    return {
        "first_request_ms": [ms(min(first)), ms(max(first))],
        "reply_to_next_request_ms": {
            n: [ms(sum(w) / len(w)), ms(max(w))] for n, w in sorted(by_call.items())
        },
        "last_run": {
            "first_request_ms": ms(runs[last][0].arrived - started),
            "between_calls_ms": ms(sum(waits[last])),
            "last_reply_ms": ms(runs[last][-1].answered - started),
            "suite_end_ms": ms(ended - started),
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--latency", type=float, default=0.2, help="Fixed latency in seconds.")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument(
        "--configs",
        default="1:8:1,8:8:1,8:8:2,32:8:1,32:8:2,32:32:1,32:32:2",
        help="RUNS:LIMIT[:WORKERS],... (WORKERS = suite worker processes, default 1)",
    )
    parser.add_argument("--repeat", type=int, default=1, help="Measure every config N times.")
    parser.add_argument(
        "--no-fsync",
        action="store_true",
        help="Skip fsync in atomic writes (to attribute overhead; never for real runs).",
    )
    parser.add_argument(
        "--timeline",
        action="store_true",
        help="Also print where each suite's time went (first requests, gaps, the last run).",
    )
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        os.environ["IMPASSE_CACHE_DIR"] = str(tmp / "cache")
        os.environ.setdefault("OPENAI_API_KEY", "sk-bench")
        Evaluator.for_pack(load_pack("us-china-2019"))  # train once, outside the clock
        if args.no_fsync:  # attribution only: what the atomic writes' fsyncs cost
            os.fsync = lambda fd: None
        with endpoint(args.latency) as fake:
            # Untimed: one-off costs of a process's first run (compiling the graph, first imports
            # and caches) belong to the process, not to whichever config comes first.
            measure(fake, tmp / "warm-up", 1, 8, args.rounds, args.latency)
            for n, config in enumerate(args.configs.split(",") * args.repeat):
                runs, limit, workers = ([int(x) for x in config.split(":")] + [1])[:3]
                folder = tmp / f"{n:02d}"  # a fresh folder, so a repeat never resumes a suite
                rows.append(measure(fake, folder, runs, limit, args.rounds, args.latency, workers))
    if args.json:
        print(
            json.dumps(
                {"latency_s": args.latency, "rounds": args.rounds, "results": rows}, indent=2
            )
        )
        return
    print(
        f"latency {args.latency}s, washington-2019-05, {args.rounds} rounds per run, offline evaluation"
    )
    for r in rows:
        print(
            f"{r['runs']:>3} runs, limit {r['limit']:>2}, {r['workers']} worker(s): "
            f"{r['calls_per_run']} calls/run, critical path "
            f"{r['critical_path_s']} s; wall {r['wall_s']} s = {r['wall_pct_of_critical']}% "
            f"(bare floor {r['bare_floor_s']} s = {r['bare_floor_pct_of_critical']}%; "
            f"wall = {r['wall_pct_of_bare_floor']}% of the floor) "
            f"(simulations done at {r['simulation_wall_s']} s = {r['simulation_pct_of_critical']}%; "
            f"a run spent {r['mean_s_in_calls_per_run']} s in calls)"
        )
        if args.timeline:
            print_timeline(r["timeline"])  # type: ignore[arg-type]


def print_timeline(spent: dict[str, Any]) -> None:
    first, last = spent["first_request_ms"], spent["last_run"]
    print(f"    first requests arrived {first[0]}-{first[1]} ms after the suite started")
    gaps = spent["reply_to_next_request_ms"]
    print(
        "    reply -> next request, mean/max ms by call: "
        + " ".join(f"{n}:{mean:.0f}/{top:.0f}" for n, (mean, top) in gaps.items())
    )
    print(
        f"    last run: first request at {last['first_request_ms']} ms, "
        f"{last['between_calls_ms']} ms between replies and next requests, last reply at "
        f"{last['last_reply_ms']} ms; the suite ended at {last['suite_end_ms']} ms"
    )


if __name__ == "__main__":
    main()
