"""Benchmark of the LLM layer.

1. Overhead per call against the fake server with zero latency: calls/s through `OpenAIChat`
   (limits, retries, structured output, validation, accounting) versus a bare `AsyncOpenAI`
   loop sending the same request and validating the same way; the ratio is the layer's cost.
2. Tokens/s of the embedded model (xllamacpp + SmolLM2-135M) on this machine.

Run: python benchmarks/bench_llm.py [--calls 300] [--skip-local]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

import openai
from fake_openai import FakeOpenAI
from pydantic import BaseModel, Field

from harness.llm.client import OpenAIChat, make_client
from harness.llm.structured import response_format
from harness.llm.types import ChatMessage


class Move(BaseModel):
    utterance: str
    concession: bool
    price: int


MESSAGES = [
    ChatMessage(role="system", content="You are a negotiator. " * 40),
    ChatMessage(role="user", content="Round 3: respond to the offer."),
]


async def bare_loop(base_url: str, calls: int) -> float:
    client = openai.AsyncOpenAI(base_url=base_url, api_key="sk-bench", max_retries=0)
    fmt = response_format("json_schema", Move)
    messages = [{"role": m.role, "content": m.content} for m in MESSAGES]
    started = time.perf_counter()
    for i in range(calls):
        response = await client.chat.completions.create(
            model="fake-model",
            messages=messages,
            response_format=fmt,
            temperature=0.7,
            seed=i,  # type: ignore[arg-type]
        )
        Move.model_validate_json(response.choices[0].message.content or "")
    elapsed = time.perf_counter() - started
    await client.close()
    return calls / elapsed


async def harness_loop(base_url: str, calls: int) -> float:
    client = make_client(base_url, None, 30.0)
    chat = OpenAIChat(base_url=base_url, model="fake-model", client=client)
    started = time.perf_counter()
    for i in range(calls):
        await chat.structured(MESSAGES, Move, tag="bench", seed=i)
    elapsed = time.perf_counter() - started
    await client.close()
    return calls / elapsed


def overhead(calls: int) -> None:
    with FakeOpenAI(latency_s=0.0) as fake:
        asyncio.run(bare_loop(fake.base_url, 20))  # warm up both paths
        asyncio.run(harness_loop(fake.base_url, 20))
        bare = asyncio.run(bare_loop(fake.base_url, calls))
        layered = asyncio.run(harness_loop(fake.base_url, calls))
    print(f"fake server, 0 ms latency, {calls} sequential calls")
    print(f"  bare AsyncOpenAI loop : {bare:8.1f} calls/s  ({1000 / bare:.2f} ms/call)")
    print(f"  harness OpenAIChat    : {layered:8.1f} calls/s  ({1000 / layered:.2f} ms/call)")
    print(
        f"  ratio harness/bare    : {layered / bare:.2f}  (overhead {1000 / layered - 1000 / bare:+.2f} ms/call)"
    )


class Reply(BaseModel):
    utterance: str = Field(max_length=400)  # llama.cpp's grammar enforces the bound
    concession: bool


async def local_tokens() -> None:
    from harness.llm.config import resolve_settings
    from harness.llm.router import open_router

    settings = resolve_settings()
    started = time.perf_counter()
    async with open_router(settings) as router:
        print(f"embedded server ready in {time.perf_counter() - started:.1f}s (incl. preflight)")
        chat = router.for_speaker("bench", "us")
        system = ChatMessage(
            role="system", content="You are a trade negotiator. Argue your side at length. " * 10
        )
        history: list[ChatMessage] = [system]
        completion = prompt = cached = 0
        elapsed = 0.0
        for turn in range(5):
            history.append(
                ChatMessage(role="user", content=f"Turn {turn}: make your argument about tariffs.")
            )
            result = await chat.structured(
                history, Reply, tag="bench", seed=turn, temperature=0.7, max_tokens=400
            )
            history.append(ChatMessage(role="assistant", content=result.value.model_dump_json()))
            u = result.record.usage
            completion += u.completion_tokens
            prompt += u.prompt_tokens
            cached += u.cached_tokens
            elapsed += result.record.latency_s
            print(
                f"  turn {turn}: {u.prompt_tokens} prompt ({u.cached_tokens} cached) + {u.completion_tokens} completion tokens in {result.record.latency_s:.2f}s"
            )
        print(
            f"  end-to-end: {completion / elapsed:.1f} completion tokens/s; {(prompt + completion) / elapsed:.1f} total tokens/s; {cached}/{prompt} prompt tokens cached"
        )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=300)
    parser.add_argument("--skip-local", action="store_true")
    args = parser.parse_args()
    overhead(args.calls)
    if not args.skip_local:
        from harness.llm.config import resolve_settings

        local = resolve_settings().local
        print(
            "embedded model (xllamacpp + SmolLM2-135M-Instruct Q4_1, "
            f"{local.threads} threads, {local.n_parallel} slots x {local.ctx_per_slot})"
        )
        asyncio.run(local_tokens())


if __name__ == "__main__":
    main()
