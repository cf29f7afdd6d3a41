"""A run's checkpoint store: `checkpoints.sqlite`, LangGraph's SQLite saver run on the event loop.

LangGraph's `AsyncSqliteSaver` hands every statement to a thread of its own (aiosqlite) and
waits for the answer: three or four round trips per checkpoint, two checkpoints per step. Each
wait lets the event loop run other runs' work first, so with several runs in one process every
run's step stretched. On the development machine, with four runs in one process, the harness
time between a reply and the next request fell from a mean of 10.3-13.9 ms to 7.1-9.3 ms with
the writes inline (three interleaved A/B pairs; see `benchmarks/README.md`).

The writes are small, and under WAL with `synchronous=NORMAL` a commit needs no fsync, so
`InlineSqliteSaver` runs the synchronous saver's statements directly in the async methods
LangGraph calls. The file format is LangGraph's own: runs saved by either saver resume with
the other.
"""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.base import (
    ChannelVersions,
    Checkpoint,
    CheckpointMetadata,
    CheckpointTuple,
    DeltaChannelHistory,
)
from langgraph.checkpoint.serde.jsonplus import JsonPlusSerializer
from langgraph.checkpoint.sqlite import SqliteSaver

from harness.graph.state import NegotiationState, Slot
from harness.llm.types import Usage
from harness.pack import models as pack_models
from harness.transcript import model as transcript_model

CHECKPOINT_FILE = "checkpoints.sqlite"

# Types LangGraph may rebuild from a checkpoint (anything else is refused on load).
CHECKPOINT_TYPES: list[type] = [
    NegotiationState,
    Slot,
    transcript_model.Turn,
    transcript_model.Move,
    transcript_model.IssueStance,
    transcript_model.Clause,
    transcript_model.ClauseSnapshot,
    transcript_model.Backtrack,
    transcript_model.Outcome,
    Usage,
    pack_models.ScriptedEvent,
    pack_models.Persona,
    pack_models.Claim,
]


def _serializer() -> JsonPlusSerializer:
    # Start from "nothing allowed": on the permissive default (True) the allowlist is ignored,
    # every type loads with a warning on stderr, and strict mode would refuse ours.
    return JsonPlusSerializer(allowed_msgpack_modules=None).with_msgpack_allowlist(CHECKPOINT_TYPES)


class InlineSqliteSaver(SqliteSaver):
    """`SqliteSaver` with the async methods the graph calls, run on the calling thread."""

    async def aget_tuple(self, config: RunnableConfig) -> CheckpointTuple | None:
        return self.get_tuple(config)

    async def alist(
        self,
        config: RunnableConfig | None,
        *,
        filter: dict[str, Any] | None = None,
        before: RunnableConfig | None = None,
        limit: int | None = None,
    ) -> AsyncIterator[CheckpointTuple]:
        # Read them all first: `list` holds the saver's (non-reentrant) lock until exhausted,
        # and a caller that awaits between items could reach the saver again meanwhile.
        for item in list(self.list(config, filter=filter, before=before, limit=limit)):
            yield item

    async def aput(
        self,
        config: RunnableConfig,
        checkpoint: Checkpoint,
        metadata: CheckpointMetadata,
        new_versions: ChannelVersions,
    ) -> RunnableConfig:
        return self.put(config, checkpoint, metadata, new_versions)

    async def aput_writes(
        self,
        config: RunnableConfig,
        writes: Sequence[tuple[str, Any]],
        task_id: str,
        task_path: str = "",
    ) -> None:
        self.put_writes(config, writes, task_id, task_path)

    async def adelete_thread(self, thread_id: str) -> None:
        self.delete_thread(thread_id)

    async def aget_delta_channel_history(
        self, *, config: RunnableConfig, channels: Sequence[str]
    ) -> Mapping[str, DeltaChannelHistory]:
        return self.get_delta_channel_history(config=config, channels=channels)


@asynccontextmanager
async def open_checkpointer(run_dir: Path) -> AsyncIterator[InlineSqliteSaver]:
    """The run's SQLite checkpointer (WAL, so a kill -9 never corrupts it)."""
    conn = sqlite3.connect(run_dir / CHECKPOINT_FILE, check_same_thread=False)
    try:
        # NORMAL is the WAL setting SQLite recommends: every commit survives a killed process
        # and the file is never corrupted; only a power cut can lose the last commits (and
        # then resume redoes those steps). FULL cost an fsync per step on the critical path.
        # Set first, so that switching a new file to WAL is not itself synced in FULL mode.
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("PRAGMA journal_mode=WAL")
        saver = InlineSqliteSaver(conn, serde=_serializer())
        saver.setup()
        yield saver
    finally:
        conn.close()
