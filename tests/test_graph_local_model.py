"""End to end: two rounds of washington-2019-05 on the real embedded SmolLM2 model.

Quality is not asserted (a 135M model argues poorly; the evaluator is there to show it).
What is asserted is that the whole stack holds: xllamacpp serves the model pulled from PyPI,
every turn comes back as a valid structured move, and the transcript validates.
"""

from __future__ import annotations

import asyncio
import importlib.util

import pytest

from harness.graph.runner import RunRequest, run_scenario
from harness.graph.turn_order import schedule_round
from harness.llm.config import resolve_settings
from harness.llm.router import open_router
from harness.pack.load import load_pack
from harness.transcript.store import RunStore

pytestmark = [
    pytest.mark.local_model,
    pytest.mark.skipif(
        importlib.util.find_spec("xllamacpp") is None,
        reason="xllamacpp is not installed (pip install 'impasse[local]')",
    ),
]


def test_two_rounds_of_washington_on_the_embedded_model(tmp_path):
    store = RunStore(tmp_path / "transcripts")
    settings = resolve_settings()
    assert settings.base_url is None  # nothing configured: the embedded default

    async def simulate():
        async with open_router(settings) as router:
            request = RunRequest(scenario="washington-2019-05", rounds=2, seed=7)
            return await run_scenario(request, router, store=store)

    transcript = asyncio.run(simulate())
    assert transcript.status == "complete"
    assert transcript.outcome is not None and transcript.outcome.ended_round <= 2
    pack = load_pack("us-china-2019")
    scenario = pack.scenarios["washington-2019-05"]
    if transcript.outcome.result == "no_deal":
        expected = sum(len(schedule_round(scenario, pack, r, [])) for r in (1, 2))
        # a request_break can shorten a table session; nothing else drops a turn
        assert len(transcript.turns) <= expected
    spoken = [t for t in transcript.turns if t.phase != "event"]
    assert spoken and all(t.move is not None and t.model for t in spoken)
    assert all(t.usage.prompt_tokens > 0 for t in spoken)
    assert store.load_transcript(transcript.meta.run_id) == transcript
    assert transcript.meta.models[0].endpoint.startswith("http://127.0.0.1:")
