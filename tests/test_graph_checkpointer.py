"""The checkpoint store: a real SQLite file, readable by LangGraph's own async saver and back.

Runs saved before the inline saver (by `AsyncSqliteSaver`) must resume, and a run saved now must
stay readable by LangGraph's tools.
"""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

import aiosqlite
from langgraph.checkpoint.base import empty_checkpoint
from langgraph.checkpoint.sqlite.aio import AsyncSqliteSaver

from harness.graph.checkpointer import CHECKPOINT_FILE, _serializer, open_checkpointer
from harness.graph.state import NegotiationState

CONFIG = {"configurable": {"thread_id": "run-1", "checkpoint_ns": ""}}


def checkpoint(round_no: int) -> dict:  # type: ignore[type-arg]
    cp = empty_checkpoint()
    cp["channel_values"] = {"state": NegotiationState(round=round_no)}
    cp["channel_versions"] = {"state": 1}
    return cp  # type: ignore[return-value]


async def write_with_async_saver(run_dir: Path, round_no: int) -> None:
    async with aiosqlite.connect(run_dir / CHECKPOINT_FILE) as conn:
        saver = AsyncSqliteSaver(conn, serde=_serializer())
        await saver.setup()
        await saver.aput(CONFIG, checkpoint(round_no), {"step": round_no}, {"state": 1})  # type: ignore[arg-type]


async def read_with_async_saver(run_dir: Path) -> NegotiationState:
    async with aiosqlite.connect(run_dir / CHECKPOINT_FILE) as conn:
        saver = AsyncSqliteSaver(conn, serde=_serializer())
        found = await saver.aget_tuple(CONFIG)  # type: ignore[arg-type]
        assert found is not None
        return found.checkpoint["channel_values"]["state"]


def test_a_checkpoint_written_by_langgraphs_async_saver_is_read(tmp_path: Path) -> None:
    async def run() -> NegotiationState:
        await write_with_async_saver(tmp_path, 3)
        async with open_checkpointer(tmp_path) as saver:
            found = await saver.aget_tuple(CONFIG)  # type: ignore[arg-type]
            assert found is not None
            history = [t async for t in saver.alist(CONFIG)]  # type: ignore[arg-type]
            assert len(history) == 1
            return found.checkpoint["channel_values"]["state"]

    assert asyncio.run(run()).round == 3


def test_a_checkpoint_written_now_is_read_by_langgraphs_async_saver(tmp_path: Path) -> None:
    async def run() -> NegotiationState:
        async with open_checkpointer(tmp_path) as saver:
            await saver.aput(CONFIG, checkpoint(5), {"step": 5}, {"state": 1})  # type: ignore[arg-type]
        return await read_with_async_saver(tmp_path)

    assert asyncio.run(run()).round == 5


def test_the_history_can_be_read_again_while_it_is_listed(tmp_path: Path) -> None:
    """`SqliteSaver.list` holds a non-reentrant lock while it yields: the async listing must
    not, or a read between two items (same thread) would wait for ever."""

    async def interleave() -> int:
        async with open_checkpointer(tmp_path) as saver:
            for step in (1, 2):
                await saver.aput(CONFIG, checkpoint(step), {"step": step}, {"state": 1})  # type: ignore[arg-type]
            seen = 0
            async for item in saver.alist(CONFIG):  # type: ignore[arg-type]
                assert await saver.aget_tuple(item.config) is not None
                seen += 1
            return seen

    results: list[int] = []
    reader = threading.Thread(target=lambda: results.append(asyncio.run(interleave())), daemon=True)
    reader.start()
    reader.join(timeout=20)
    assert results == [2], "listing the history blocked a read of the same saver"
