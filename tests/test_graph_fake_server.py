"""The engine through the real LLM layer against the fake OpenAI-compatible server."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from harness.graph.runner import RunRequest, run_scenario
from harness.llm.config import CLIOverrides, resolve_settings
from harness.llm.router import open_router
from harness.pack.load import load_pack
from harness.transcript.store import RunStore
from tests.cli_process import cue_of, holding_reply
from tests.fake_openai import FakeOpenAI
from tests.test_graph_engine import deal_stances


def simulate(fake: FakeOpenAI, root: Path, scenario: str, *, cache: bool = False, seed: int = 3):
    settings = resolve_settings(
        CLIOverrides(base_url=fake.base_url, model="fake-model", cache=cache)
    )

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


def test_a_cached_rerun_makes_no_model_call_and_is_identical(
    fake_openai: FakeOpenAI, tmp_path: Path
):
    first = simulate(fake_openai, tmp_path / "a", "washington-2019-05", cache=True)
    calls = len(fake_openai.chat_requests)
    second = simulate(fake_openai, tmp_path / "b", "washington-2019-05", cache=True)
    assert len(fake_openai.chat_requests) == calls  # zero model calls reached the server
    assert [t.id for t in second.turns] == [t.id for t in first.turns]
    assert [t.move for t in second.turns] == [t.move for t in first.turns]
    assert second.outcome == first.outcome


def ending_responder(agenda: list[str], ending: str):
    """Scripted replies over HTTP that drive a run to `ending`."""

    def reply(body):
        cue = cue_of(body)
        answer = holding_reply(body)
        if cue.phase != "table":
            return answer
        if ending == "breakdown" and cue.speaker == "liu_he" and cue.round == 2:
            answer.update(action="walk_out", utterance="We are leaving.")
        if ending == "deal":
            answer["stances"] = deal_stances(agenda, cue.speaker, cue.round) or []
        return answer

    return reply


@pytest.mark.parametrize(
    ("ending", "round_ended", "talks_continue"),
    [("deal", 2, True), ("breakdown", 2, False), ("no_deal", 3, True)],
)
def test_each_ending_through_the_llm_layer(tmp_path: Path, ending, round_ended, talks_continue):
    agenda = load_pack("us-china-2019").scenarios["washington-2019-05"].agenda
    with FakeOpenAI(responder=ending_responder(agenda, ending)) as fake:
        settings = resolve_settings(CLIOverrides(base_url=fake.base_url, model="fake-model"))

        async def go():
            async with open_router(settings) as router:
                request = RunRequest(scenario="washington-2019-05", rounds=3, seed=1)
                return await run_scenario(request, router, store=RunStore(tmp_path))

        transcript = asyncio.run(go())
    assert transcript.outcome.result == ending
    assert transcript.outcome.ended_round == round_ended
    assert transcript.outcome.talks_continue is talks_continue
    if ending == "deal":
        assert all(c.status == "agreed" for c in transcript.clauses[-1].clauses)
