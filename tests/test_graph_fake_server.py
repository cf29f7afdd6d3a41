"""The engine through the real LLM layer against the fake OpenAI-compatible server."""

from __future__ import annotations

import asyncio
from pathlib import Path

from harness.graph.runner import RunRequest, run_scenario
from harness.llm.config import CLIOverrides, resolve_settings
from harness.llm.router import open_router
from harness.pack.load import load_pack
from harness.transcript.store import RunStore
from tests.fake_openai import FakeOpenAI


def simulate(fake: FakeOpenAI, root: Path, scenario: str, *, cache: bool = False, seed: int = 3):
    settings = resolve_settings(CLIOverrides(base_url=fake.base_url, model="fake-model", cache=cache))

    async def go():
        async with open_router(settings) as router:
            return await run_scenario(
                RunRequest(scenario=scenario, rounds=2, seed=seed), router, store=RunStore(root)
            )

    return asyncio.run(go())


def test_every_scenario_runs_through_the_llm_layer(fake_openai: FakeOpenAI, tmp_path: Path):
    for scenario in load_pack("us-china-2019").scenarios:
        transcript = simulate(fake_openai, tmp_path / scenario, scenario)
        assert transcript.status == "complete"
        spoken = [t for t in transcript.turns if t.phase != "event"]
        assert spoken and all(t.model == "fake-model" for t in spoken)
        assert transcript.meta.usage.prompt_tokens == sum(t.usage.prompt_tokens for t in spoken)
    sent = fake_openai.chat_requests
    assert sent and all(r.body["seed"] == 3 for r in sent)


def test_a_cached_rerun_makes_no_model_call_and_is_identical(fake_openai: FakeOpenAI, tmp_path: Path):
    first = simulate(fake_openai, tmp_path / "a", "washington-2019-05", cache=True)
    calls = len(fake_openai.chat_requests)
    second = simulate(fake_openai, tmp_path / "b", "washington-2019-05", cache=True)
    assert len(fake_openai.chat_requests) == calls  # zero model calls reached the server
    assert [t.id for t in second.turns] == [t.id for t in first.turns]
    assert [t.move for t in second.turns] == [t.move for t in first.turns]
    assert second.outcome == first.outcome
