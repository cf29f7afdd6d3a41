"""Shared pytest fixtures.

LLM isolation (autouse): no OPENAI_* / IMPASSE_* variables leak in from the user's shell (so no
test can reach a real remote model), the cache and config folders point into tmp_path, the LLM
layer's process-wide registries are reset, and backoff waits are recorded instead of slept.

`fake_openai`: a started `tests.fake_openai.FakeOpenAI` on 127.0.0.1 (stopped afterwards).
`fake_settings`: `LLMSettings` pointing at it (key "sk-test", short timeout, cache off).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from fake_openai import FakeOpenAI

from harness.llm import limits, retry
from harness.llm.config import LLMSettings
from harness.llm.structured import MODE_MEMORY


@pytest.fixture(autouse=True)
def _llm_isolation(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    for name in list(os.environ):
        if name.startswith(("OPENAI_", "IMPASSE_")):
            monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("IMPASSE_CACHE_DIR", str(tmp_path / "impasse-cache"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg-config"))
    limits.reset()
    MODE_MEMORY.reset()
    yield
    limits.reset()
    MODE_MEMORY.reset()


@pytest.fixture(autouse=True)
def retry_waits(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Backoff waits the LLM layer asked for, in order; nothing actually sleeps."""
    waits: list[float] = []

    async def no_sleep(seconds: float) -> None:
        waits.append(seconds)

    monkeypatch.setattr(retry, "sleep", no_sleep)
    return waits


@pytest.fixture
def fake_openai() -> Iterator[FakeOpenAI]:
    with FakeOpenAI() as fake:
        yield fake


@pytest.fixture
def fake_settings(fake_openai: FakeOpenAI, tmp_path: Path) -> LLMSettings:
    return LLMSettings(
        model="fake-model",
        base_url=fake_openai.base_url,
        api_key="sk-test",  # type: ignore[arg-type]  # pydantic coerces to SecretStr
        cache_dir=tmp_path / "impasse-cache",
        timeout_s=2.0,
        retry_attempts=4,
        retry_deadline_s=60.0,
    )
