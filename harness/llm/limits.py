"""Per-endpoint limit on requests in flight, shared by everything in the process.

A registry keyed by base URL. asyncio semaphores belong to one event loop, so they are created
lazily per loop (tests and `asyncio.run` calls each get fresh ones). The first limit registered
for an endpoint wins for that loop; `reset()` clears the registry (test fixtures call it).
"""

from __future__ import annotations

import asyncio
import weakref

_registry: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[str, asyncio.Semaphore]] = (
    weakref.WeakKeyDictionary()
)


def endpoint_slots(endpoint: str, limit: int) -> asyncio.Semaphore:
    """The semaphore guarding `endpoint` in the running loop (created on first use)."""
    loop = asyncio.get_running_loop()
    per_loop = _registry.setdefault(loop, {})
    semaphore = per_loop.get(endpoint)
    if semaphore is None:
        semaphore = per_loop[endpoint] = asyncio.Semaphore(limit)
    return semaphore


def reset() -> None:
    _registry.clear()
