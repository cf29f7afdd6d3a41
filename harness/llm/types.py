"""The small model interface between the harness and any chat endpoint.

The engine and the LLM judge depend only on what is here: `ChatMessage` in, a validated pydantic
object and a `CallRecord` out, through the `StructuredChat` protocol. Retries, caching, the
concurrency limit and accounting are wrappers behind it (see `harness.llm.client`).
"""

from __future__ import annotations

from typing import Generic, Literal, Protocol, TypeVar

from pydantic import BaseModel, ConfigDict, Field

T = TypeVar("T", bound=BaseModel)

StructuredMode = Literal["json_schema", "json_object", "text"]


class ChatMessage(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    role: Literal["system", "user", "assistant"]
    content: str


class Usage(BaseModel):
    model_config = ConfigDict(extra="forbid")

    prompt_tokens: int = 0
    completion_tokens: int = 0
    cached_tokens: int = Field(default=0, description="Prompt tokens the server reused.")

    def __add__(self, other: Usage) -> Usage:
        return Usage(
            prompt_tokens=self.prompt_tokens + other.prompt_tokens,
            completion_tokens=self.completion_tokens + other.completion_tokens,
            cached_tokens=self.cached_tokens + other.cached_tokens,
        )


class CallRecord(BaseModel):
    """What one logical call cost: tokens, latency, retries, and where it went."""

    model_config = ConfigDict(extra="forbid")

    endpoint: str = Field(description="Base URL of the endpoint (never a key).")
    model: str
    mode: StructuredMode = Field(description="Structured-output mode that produced the answer.")
    usage: Usage = Usage()
    latency_s: float = 0.0
    retries: int = 0
    cache_hit: bool = False
    cost_usd: float | None = None


class CallResult(BaseModel, Generic[T]):
    """A validated object and the record of the call that produced it."""

    value: T
    record: CallRecord


class StructuredChat(Protocol):
    """Anything that can answer a chat with an object of a named pydantic model.

    `tag` says who is calling (a persona id, 'judge', ...) for accounting and logs.
    """

    async def structured(
        self,
        messages: list[ChatMessage],
        schema: type[T],
        *,
        tag: str,
        temperature: float = 0.7,
        seed: int | None = None,
        max_tokens: int | None = None,
    ) -> CallResult[T]: ...
