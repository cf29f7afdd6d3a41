"""End to end on the real embedded model: xllamacpp + SmolLM2-135M pulled from PyPI."""

from __future__ import annotations

import asyncio
import importlib.util
from pathlib import Path

import pytest
from pydantic import BaseModel, Field

from harness.llm.config import resolve_settings
from harness.llm.local_model import SERVED_NAME, SHA256, default_model_path
from harness.llm.router import open_router
from harness.llm.types import ChatMessage

pytestmark = [
    pytest.mark.local_model,
    pytest.mark.skipif(
        importlib.util.find_spec("xllamacpp") is None,
        reason="xllamacpp is not installed (pip install 'impasse[local]')",
    ),
]


class Offer(BaseModel):
    utterance: str = Field(description="What you say across the table.")
    tariff_cut_percent: int = Field(ge=0, le=100)
    walk_away: bool


@pytest.fixture(scope="session")
def model_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("impasse-model-cache")


def test_structured_call_on_embedded_model(
    model_cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("IMPASSE_CACHE_DIR", str(model_cache))
    settings = resolve_settings()
    assert settings.base_url is None  # nothing configured: the embedded default

    async def run():  # type: ignore[no-untyped-def]
        async with open_router(settings) as router:
            chat = router.for_speaker("liu_he", "cn")
            result = await chat.structured(
                [
                    ChatMessage(
                        role="system", content="You negotiate trade terms for China. Be brief."
                    ),
                    ChatMessage(
                        role="user", content="The US side demands a 25% tariff cut. Respond."
                    ),
                ],
                Offer,
                tag="liu_he",
                seed=1,
                temperature=0.2,
                max_tokens=120,
            )
            return result, router.roles()

    result, roles = asyncio.run(run())
    assert isinstance(result.value, Offer)
    assert result.record.mode == "json_schema" and result.record.usage.completion_tokens > 0
    assert roles[0].model == SERVED_NAME and roles[0].endpoint.startswith("http://127.0.0.1:")
    path = default_model_path(model_cache)
    assert path.stat().st_size == 98_362_432
    import hashlib

    assert hashlib.sha256(path.read_bytes()).hexdigest() == SHA256
    log = (model_cache / "local-server.log").read_text(errors="replace")
    assert "n_ctx_slot = 4096" in log  # 4 slots x 4096 tokens
