"""The one owner of retries: tenacity around each request (the SDK runs with max_retries=0).

Transient: 408/409/429, 5xx, timeouts, connection errors, and a 200 whose body or JSON content
is truncated or invalid. Everything else (400, 401, 403, 404, 422) fails at once. Waits honour
`retry-after-ms` / `Retry-After`, else exponential backoff with jitter, capped; a wait that would
cross the total deadline is not started. Every retry is logged on `harness.llm` with its cause.

Tests replace the module-level `sleep` (monkeypatch `harness.llm.retry.sleep`) so they never wait.
"""

from __future__ import annotations

import asyncio
import email.utils
import json
import logging
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

import openai
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    RetryError,
    retry_if_exception,
    stop_after_attempt,
    stop_before_delay,
)
from tenacity.wait import wait_base

from harness.llm.errors import EndpointUnavailable

logger = logging.getLogger("harness.llm")
R = TypeVar("R")


async def sleep(seconds: float) -> None:
    """Every backoff wait goes through here; tests monkeypatch it to record and not sleep."""
    await asyncio.sleep(seconds)


async def _late_bound_sleep(seconds: float) -> None:
    await sleep(seconds)  # looked up at call time, so a monkeypatched `sleep` takes effect


class InvalidContent(Exception):
    """A 200 whose message content is not the JSON asked for (treated as transient)."""

    def __init__(self, problem: str, raw: str) -> None:
        self.problem = problem
        self.raw = raw
        super().__init__(problem)


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 6
    deadline_s: float = 300.0
    base_wait_s: float = 0.5
    max_wait_s: float = 30.0
    jitter_s: float = 0.5


TRANSIENT_STATUS = frozenset({408, 409, 429})


def is_transient(error: BaseException) -> bool:
    if isinstance(error, openai.APIStatusError):
        return error.status_code in TRANSIENT_STATUS or error.status_code >= 500
    # APITimeoutError is an APIConnectionError; a truncated body surfaces as JSONDecodeError.
    return isinstance(
        error,
        openai.APIConnectionError
        | openai.APIResponseValidationError
        | json.JSONDecodeError
        | InvalidContent,
    )


def retry_after_s(error: BaseException) -> float | None:
    """Seconds the server asked us to wait (`retry-after-ms`, then `Retry-After`), if any."""
    if not isinstance(error, openai.APIStatusError):
        return None
    headers = error.response.headers
    ms = headers.get("retry-after-ms")
    if ms:
        try:
            return max(0.0, float(ms) / 1000)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        parsed = email.utils.parsedate_to_datetime(value) if value else None
        return max(0.0, parsed.timestamp() - time.time()) if parsed else None


def describe(error: BaseException) -> str:
    """A short cause for logs and the final error message (never includes a key)."""
    if isinstance(error, openai.APIStatusError):
        wait = retry_after_s(error)
        hint = f" (retry-after {wait:g}s)" if wait is not None else ""
        return f"HTTP {error.status_code}: {server_message(error)}{hint}"
    if isinstance(error, openai.APITimeoutError):
        return "request timed out"
    if isinstance(error, openai.APIConnectionError):
        cause = error.__cause__
        return f"connection error ({type(cause).__name__})" if cause else "connection error"
    if isinstance(error, json.JSONDecodeError):
        return f"truncated or invalid response body ({error.msg})"
    if isinstance(error, openai.APIResponseValidationError):
        return "response body did not match the API schema"
    if isinstance(error, InvalidContent):
        return f"invalid JSON content ({error.problem})"
    return type(error).__name__


def server_message(error: openai.APIStatusError) -> str:
    """The server's error message, with the API key it was sent masked out.

    Some servers and proxies quote the key back ("Incorrect API key provided: sk-..."); this
    text reaches logs, error lines, transcripts and checkpoints, so the key is cut here, once.
    """
    body = error.body
    text = error.message
    if isinstance(body, dict):
        inner = body.get("error", body)
        if isinstance(inner, dict) and inner.get("message"):
            text = str(inner["message"])
        elif body.get("message"):
            text = str(body["message"])
    return _without_key(text, error)


# Every key handed to an SDK client (`make_client` records it). The key cannot be read back
# from the failed request: since openai 3.6x, `error.request` no longer carries the
# Authorization header.
_SENT_KEYS: set[str] = set()


def remember_key(key: str) -> None:
    """Record a key sent to an endpoint, so a server message that quotes it is masked."""
    if len(key) >= 8:  # shorter values ("x", "none") would mask ordinary words
        _SENT_KEYS.add(key)


def _without_key(text: str, error: openai.APIStatusError) -> str:
    keys = set(_SENT_KEYS)
    auth = error.request.headers.get("authorization", "") if error.request is not None else ""
    sent = auth.removeprefix("Bearer ").strip()
    if len(sent) >= 8:
        keys.add(sent)
    for key in sorted(keys, key=len, reverse=True):  # a key inside a longer one: longer first
        text = text.replace(key, "***")
    return text


class _Backoff(wait_base):
    def __init__(self, policy: RetryPolicy) -> None:
        self.policy = policy

    def __call__(self, retry_state: RetryCallState) -> float:
        error = retry_state.outcome.exception() if retry_state.outcome else None
        asked = retry_after_s(error) if error is not None else None
        if asked is not None:
            return asked
        p = self.policy
        exp = p.base_wait_s * (2 ** (retry_state.attempt_number - 1))
        return min(p.max_wait_s, exp) + random.uniform(0, p.jitter_s)


async def call_with_retries(
    request: Callable[[], Awaitable[R]],
    *,
    policy: RetryPolicy,
    endpoint: str,
    what: str,
) -> tuple[R, int]:
    """Run `request` under the policy; return (result, number of retries).

    Raises the original error when it is not transient, `InvalidContent` when the content stayed
    invalid to the end (the caller turns it into a `StructuredOutputError`), and
    `EndpointUnavailable` when attempts or the deadline ran out on a transient failure.
    """
    retries = 0

    def log_retry(state: RetryCallState) -> None:
        nonlocal retries
        retries += 1
        error = state.outcome.exception() if state.outcome else None
        logger.warning(
            "retry %d/%d for %s at %s in %.2fs: %s",
            state.attempt_number,
            policy.attempts - 1,
            what,
            endpoint,
            state.upcoming_sleep,
            describe(error) if error else "unknown",
        )

    retrying = AsyncRetrying(
        sleep=_late_bound_sleep,
        stop=stop_after_attempt(policy.attempts) | stop_before_delay(policy.deadline_s),
        wait=_Backoff(policy),
        retry=retry_if_exception(is_transient),
        before_sleep=log_retry,
        reraise=False,
    )
    try:
        async for attempt in retrying:
            with attempt:
                result = await request()
            outcome = attempt.retry_state.outcome
            if outcome is not None and not outcome.failed:
                return result, retries
            # a failure was captured: the next iteration waits and retries, or raises
    except RetryError as exhausted:
        last = exhausted.last_attempt.exception()
        if isinstance(last, InvalidContent):
            last.retries = retries  # type: ignore[attr-defined]
            raise last from None
        cause = describe(last) if last is not None else "unknown"
        attempts = exhausted.last_attempt.attempt_number
        raise EndpointUnavailable(
            f"{endpoint} unavailable for {what} after {attempts} attempt(s): {cause}",
            endpoint=endpoint,
            cause=cause,
            retries=retries,
            fix="check the endpoint, then `impasse resume` the run",
        ) from None
    raise AssertionError("unreachable")  # pragma: no cover
