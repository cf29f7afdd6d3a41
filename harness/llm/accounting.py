"""Usage, latency, retries and cost: per call (`CallRecord`), summed per tag and per run."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from harness.llm.config import Price
from harness.llm.types import CallRecord, Usage


def cost_usd(model: str, usage: Usage, prices: dict[str, Price]) -> float | None:
    """USD for `usage` from the price table (per 1M tokens); None when the model has no price."""
    price = prices.get(model)
    if price is None:
        return None
    cached = min(usage.cached_tokens, usage.prompt_tokens)
    cached_rate = price.cached_prompt if price.cached_prompt is not None else price.prompt
    total = (
        (usage.prompt_tokens - cached) * price.prompt
        + cached * cached_rate
        + usage.completion_tokens * price.completion
    )
    return total / 1_000_000


class Totals(BaseModel):
    """Sums over calls. Cache hits count as calls but add no tokens, cost or latency spent."""

    model_config = ConfigDict(extra="forbid")

    calls: int = 0
    cache_hits: int = 0
    failures: int = 0
    usage: Usage = Usage()
    latency_s: float = 0.0
    retries: int = 0
    cost_usd: float | None = None

    def add(self, record: CallRecord) -> None:
        self.calls += 1
        if record.cache_hit:
            self.cache_hits += 1
            return
        self.usage = self.usage + record.usage
        self.latency_s += record.latency_s
        self.retries += record.retries
        if record.cost_usd is not None:
            self.cost_usd = (self.cost_usd or 0.0) + record.cost_usd


class Accounting:
    """Run totals and per-tag (persona, 'judge', ...) totals. Shared by a router's chats."""

    def __init__(self) -> None:
        self.total = Totals()
        self.by_tag: dict[str, Totals] = {}
        self.records: list[tuple[str, CallRecord]] = []

    def add(self, tag: str, record: CallRecord) -> None:
        self.total.add(record)
        self.by_tag.setdefault(tag, Totals()).add(record)
        self.records.append((tag, record))

    def failed(self, tag: str, retries: int = 0) -> None:
        for totals in (self.total, self.by_tag.setdefault(tag, Totals())):
            totals.failures += 1
            totals.retries += retries

    def summary(self) -> dict[str, object]:
        return {
            "total": self.total.model_dump(),
            "by_tag": {tag: t.model_dump() for tag, t in sorted(self.by_tag.items())},
        }
