"""SQLite response cache (`responses.sqlite` in the cache folder).

Keyed by SHA-256 over endpoint, model, messages, schema (name + JSON schema), structured mode,
temperature, seed and max_tokens. A row holds the validated JSON reply and the original usage,
never a key. WAL and a busy timeout make it safe for several processes at once.
"""

from __future__ import annotations

import functools
import hashlib
import json
import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel

from harness.llm.types import ChatMessage, StructuredMode, Usage

FILENAME = "responses.sqlite"
_SCHEMA = """
CREATE TABLE IF NOT EXISTS responses (
    key TEXT PRIMARY KEY,
    endpoint TEXT NOT NULL,
    model TEXT NOT NULL,
    mode TEXT NOT NULL,
    schema_name TEXT NOT NULL,
    content TEXT NOT NULL,
    usage_json TEXT NOT NULL,
    created_at REAL NOT NULL
)
"""


def cache_key(
    *,
    endpoint: str,
    model: str,
    messages: list[ChatMessage],
    schema: type[BaseModel],
    mode: StructuredMode,
    temperature: float,
    seed: int | None,
    max_tokens: int | None,
) -> str:
    material = {
        "endpoint": endpoint,
        "model": model,
        "messages": [[m.role, m.content] for m in messages],
        "schema": [schema.__name__, _schema_json(schema)],
        "mode": mode,
        "temperature": temperature,
        "seed": seed,
        "max_tokens": max_tokens,
    }
    blob = json.dumps(material, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


@functools.lru_cache(maxsize=256)
def _schema_json(schema: type[BaseModel]) -> str:
    return json.dumps(schema.model_json_schema(), sort_keys=True)


@dataclass(frozen=True)
class CachedReply:
    content: str
    usage: Usage
    mode: StructuredMode


class ResponseCache:
    def __init__(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.path = folder / FILENAME
        self._lock = threading.Lock()
        self._db = sqlite3.connect(
            self.path, timeout=30, check_same_thread=False, isolation_level=None
        )
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA busy_timeout=30000")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute(_SCHEMA)

    def get(self, key: str) -> CachedReply | None:
        with self._lock:
            row = self._db.execute(
                "SELECT content, usage_json, mode FROM responses WHERE key = ?", (key,)
            ).fetchone()
        if row is None:
            return None
        return CachedReply(row[0], Usage.model_validate_json(row[1]), row[2])

    def put(
        self,
        key: str,
        *,
        endpoint: str,
        model: str,
        mode: StructuredMode,
        schema_name: str,
        content: str,
        usage: Usage,
    ) -> None:
        with self._lock:
            self._db.execute(
                "INSERT OR REPLACE INTO responses VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    key,
                    endpoint,
                    model,
                    mode,
                    schema_name,
                    content,
                    usage.model_dump_json(),
                    time.time(),
                ),
            )

    def close(self) -> None:
        with self._lock:
            self._db.close()


def stats(folder: Path) -> dict[str, object]:
    """Rows, size and rows per model; an absent cache reports zero."""
    path = folder / FILENAME
    if not path.exists():
        return {"path": str(path), "rows": 0, "bytes": 0, "by_model": {}}
    cache = ResponseCache(folder)
    try:
        with cache._lock:
            rows = cache._db.execute("SELECT COUNT(*) FROM responses").fetchone()[0]
            by_model = dict(
                cache._db.execute("SELECT model, COUNT(*) FROM responses GROUP BY model").fetchall()
            )
    finally:
        cache.close()
    size = sum(p.stat().st_size for p in folder.glob(FILENAME + "*"))
    return {"path": str(path), "rows": rows, "bytes": size, "by_model": by_model}


def clear(folder: Path) -> int:
    """Delete every row; returns how many were removed."""
    path = folder / FILENAME
    if not path.exists():
        return 0
    cache = ResponseCache(folder)
    try:
        with cache._lock:
            removed = cache._db.execute("DELETE FROM responses").rowcount
            cache._db.execute("VACUUM")
    finally:
        cache.close()
    return int(removed)
