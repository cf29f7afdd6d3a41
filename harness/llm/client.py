"""`OpenAIChat`: the `StructuredChat` implementation over any OpenAI-compatible endpoint.

One call = cache lookup -> (per attempt: concurrency slot -> request) under tenacity retries ->
structured-output fallback (json_schema -> json_object -> text) -> parse and validate -> one
repair round -> accounting. The SDK's own retries are off (`max_retries=0`).
"""

from __future__ import annotations

import functools
import json
import logging
import ssl
import time
from typing import Any

import openai
from openai.types.chat import ChatCompletion
from pydantic import BaseModel, SecretStr, ValidationError

from harness.llm import structured as so
from harness.llm.accounting import Accounting, cost_usd
from harness.llm.cache import ResponseCache, cache_key
from harness.llm.config import Price
from harness.llm.errors import (
    EndpointRejected,
    EndpointUnavailable,
    FormatUnsupported,
    StructuredOutputError,
)
from harness.llm.limits import endpoint_slots
from harness.llm.retry import (
    InvalidContent,
    RetryPolicy,
    call_with_retries,
    remember_key,
    server_message,
)
from harness.llm.types import CallRecord, CallResult, ChatMessage, StructuredMode, T, Usage

logger = logging.getLogger("harness.llm")

DEFAULT_POLICY = RetryPolicy()
NO_KEY = "sk-no-key-required"  # sent to keyless local servers; the SDK insists on some value
# Posted with the SDK's documented `client.post` for raw endpoints, not `chat.completions.create`:
# the body is already a plain JSON dict, and `create` walks it (our JSON schema included) through
# its TypedDict transform, 1.2 ms of CPU per call on the development machine, a third of the
# SDK's time per call. Auth, timeouts, errors and the typed `ChatCompletion` are the same.
CHAT_COMPLETIONS = "/chat/completions"


@functools.cache
def result_type(schema: type[T]) -> type[CallResult[T]]:
    """`CallResult[schema]`, built once per schema and kept.

    Pydantic keeps a generic model parametrized inside a function only in a weak cache, so the
    garbage collector dropped `CallResult[MoveReply]` between calls and a later call built the
    class again (11 times in a 44-turn run, none since). In interleaved A/B runs of 44 turns
    against an endpoint in another process, the harness's CPU per turn fell by about 0.5 ms
    (6.5-8.8 ms after vs 7.8-9.4 ms before, on a noisy virtual machine).
    """
    return CallResult[schema]  # type: ignore[valid-type]


@functools.cache
def tls_context() -> ssl.SSLContext:
    """Certificate checks for HTTPS endpoints, built once per process and shared by every client.

    Each SDK client otherwise reads the CA bundle again: 25-48 ms per client on the development
    machine, paid before a suite's first request. The default context verifies certificates and
    host names against the system's CAs (`SSL_CERT_FILE` / `SSL_CERT_DIR` are honoured).
    """
    return ssl.create_default_context()


def make_client(base_url: str, api_key: SecretStr | None, timeout_s: float) -> openai.AsyncOpenAI:
    """The SDK client: our timeout, no SDK retries (tenacity owns them), the shared TLS context."""
    key = api_key.get_secret_value() if api_key is not None else NO_KEY
    remember_key(key)  # masked wherever a server quotes it back
    return openai.AsyncOpenAI(
        base_url=base_url,
        api_key=key,
        max_retries=0,
        timeout=timeout_s,
        http_client=openai.DefaultAsyncHttpxClient(verify=tls_context(), timeout=timeout_s),
    )


class OpenAIChat:
    """Structured chat with one model at one endpoint. Cheap; share `client` per endpoint."""

    def __init__(
        self,
        *,
        base_url: str,
        model: str,
        client: openai.AsyncOpenAI,
        policy: RetryPolicy = DEFAULT_POLICY,
        max_concurrency: int = 8,
        cache: ResponseCache | None = None,
        accounting: Accounting | None = None,
        prices: dict[str, Price] | None = None,
        modes: so.ModeMemory = so.MODE_MEMORY,
    ) -> None:
        self.base_url = base_url
        self.model = model
        self.client = client
        self.policy = policy
        self.max_concurrency = max_concurrency
        self.cache = cache
        self.accounting = accounting if accounting is not None else Accounting()
        self.prices = prices or {}
        self.modes = modes

    def __repr__(self) -> str:
        return f"OpenAIChat(model={self.model!r}, endpoint={self.base_url!r})"

    # -- the StructuredChat protocol ---------------------------------------------------------
    async def structured(
        self,
        messages: list[ChatMessage],
        schema: type[T],
        *,
        tag: str,
        temperature: float = 0.7,
        seed: int | None = None,
        max_tokens: int | None = None,
    ) -> CallResult[T]:
        started = time.perf_counter()
        params = {"temperature": temperature, "seed": seed, "max_tokens": max_tokens}
        hit = self._cached(messages, schema, params, started)
        if hit is not None:
            self.accounting.add(tag, hit.record)
            return hit
        state = _CallState()
        solved = False
        try:
            value, mode = await self._solve(messages, schema, params, state, tag)
            solved = True
        finally:
            if not solved:  # EndpointUnavailable, EndpointRejected, StructuredOutputError, ...
                self.accounting.failed(tag, state.retries)
        record = CallRecord(
            endpoint=self.base_url,
            model=self.model,
            mode=mode,
            usage=state.usage,
            latency_s=time.perf_counter() - started,
            retries=state.retries,
            cost_usd=cost_usd(self.model, state.usage, self.prices),
        )
        if self.cache is not None:
            key = cache_key(
                endpoint=self.base_url,
                model=self.model,
                messages=messages,
                schema=schema,
                mode=mode,
                **params,
            )
            self.cache.put(
                key,
                endpoint=self.base_url,
                model=self.model,
                mode=mode,
                schema_name=schema.__name__,
                content=value.model_dump_json(),
                usage=state.usage,
            )
        self.accounting.add(tag, record)
        logger.debug(
            "%s %s via %s: %d+%d tokens, %.2fs, %d retries",
            tag,
            self.model,
            mode,
            record.usage.prompt_tokens,
            record.usage.completion_tokens,
            record.latency_s,
            record.retries,
        )
        return result_type(schema)(value=value, record=record)

    # -- steps -------------------------------------------------------------------------------
    def _cached(
        self, messages: list[ChatMessage], schema: type[T], params: dict[str, Any], started: float
    ) -> CallResult[T] | None:
        if self.cache is None:
            return None
        preferred = self.modes.get(self.base_url, self.model)
        for mode in (preferred, *[m for m in so.MODES if m != preferred]):
            key = cache_key(
                endpoint=self.base_url,
                model=self.model,
                messages=messages,
                schema=schema,
                mode=mode,
                **params,
            )
            row = self.cache.get(key)
            if row is None:
                continue
            try:
                value = schema.model_validate_json(row.content)
            except ValidationError:
                continue  # the schema changed since: treat as a miss
            record = CallRecord(
                endpoint=self.base_url,
                model=self.model,
                mode=row.mode,
                usage=row.usage,
                latency_s=time.perf_counter() - started,
                retries=0,
                cache_hit=True,
                cost_usd=cost_usd(self.model, row.usage, self.prices),
            )
            return result_type(schema)(value=value, record=record)
        return None

    async def _solve(
        self,
        messages: list[ChatMessage],
        schema: type[T],
        params: dict[str, Any],
        state: _CallState,
        tag: str,
    ) -> tuple[T, StructuredMode]:
        mode = self.modes.get(self.base_url, self.model)
        while True:
            sent = so.messages_for(mode, messages, schema)
            try:
                raw = await self._complete(sent, schema, mode, params, state, tag)
                break
            except FormatUnsupported:
                following = so.MODES.index(mode) + 1
                if following >= len(so.MODES):
                    raise
                logger.info(
                    "%s at %s refused %s structured output; trying %s",
                    self.model,
                    self.base_url,
                    mode,
                    so.MODES[following],
                )
                mode = so.MODES[following]
                self.modes.set(self.base_url, self.model, mode)
        value, problem = self._parse(raw, mode, schema)
        if value is not None:
            return value, mode
        logger.warning("%s: %s reply invalid (%s); one repair round", tag, self.model, problem)
        raw = await self._complete(
            so.repair_messages(sent, raw, problem), schema, mode, params, state, tag
        )
        value, problem = self._parse(raw, mode, schema)
        if value is None:
            raise StructuredOutputError(
                model=self.model, schema=schema.__name__, problem=problem, raw=raw
            )
        return value, mode

    def _parse(self, raw: str, mode: StructuredMode, schema: type[T]) -> tuple[T | None, str]:
        try:
            data = so.extract_json(raw, mode)
        except ValueError as error:  # json.JSONDecodeError is a ValueError
            return None, f"not JSON ({error})"
        try:
            value = schema.model_validate(data)
        except ValidationError as error:
            return None, so.short_validation_error(error)
        return value, ""

    async def _complete(
        self,
        sent: list[ChatMessage],
        schema: type[BaseModel],
        mode: StructuredMode,
        params: dict[str, Any],
        state: _CallState,
        tag: str,
    ) -> str:
        """One request under retries; returns the message content."""
        kwargs: dict[str, Any] = {
            "model": self.model,
            "messages": [{"role": m.role, "content": m.content} for m in sent],
            "temperature": params["temperature"],
        }
        if params["seed"] is not None:
            kwargs["seed"] = params["seed"]
        if params["max_tokens"] is not None:
            kwargs["max_tokens"] = params["max_tokens"]
        fmt = so.response_format(mode, schema)
        if fmt is not None:
            kwargs["response_format"] = fmt

        async def attempt() -> str:
            async with endpoint_slots(self.base_url, self.max_concurrency):
                try:
                    response = await self.client.post(
                        CHAT_COMPLETIONS, body=kwargs, cast_to=ChatCompletion
                    )
                except openai.APIStatusError as error:
                    self._raise_if_final(error, mode)
                    raise
            state.usage = state.usage + _usage(response)
            choice = response.choices[0] if response.choices else None
            content = (choice.message.content if choice else None) or ""
            if mode != "text":
                try:
                    json.loads(content)
                except ValueError as error:
                    if choice is not None and choice.finish_reason == "length":
                        # Cut off at max_tokens: the same request would be cut off again.
                        raise StructuredOutputError(
                            model=self.model,
                            schema=schema.__name__,
                            raw=content,
                            problem=f"reply cut off at max_tokens={params['max_tokens']} (raise it)",
                        ) from None
                    raise InvalidContent(f"not JSON: {error}", content) from None
            return content

        try:
            content, retries = await call_with_retries(
                attempt, policy=self.policy, endpoint=self.base_url, what=f"{tag} ({self.model})"
            )
        except EndpointUnavailable as unavailable:
            state.retries += unavailable.retries
            raise
        except InvalidContent as invalid:
            state.retries += getattr(invalid, "retries", 0)
            raise StructuredOutputError(
                model=self.model, schema=schema.__name__, problem=invalid.problem, raw=invalid.raw
            ) from None
        state.retries += retries
        return content

    def _raise_if_final(self, error: openai.APIStatusError, mode: StructuredMode) -> None:
        """Turn a non-retryable status into a typed error with the server's message."""
        status = error.status_code
        if status in (408, 409, 429) or status >= 500:
            return
        message = server_message(error)
        where = f"{self.base_url} (model {self.model!r})"
        if status == 400 and mode != "text" and so.says_format_unsupported(message):
            raise FormatUnsupported(
                f"{where} does not support {mode}: {message}", status=status
            ) from None
        fixes = {
            401: "check the API key (OPENAI_API_KEY or the role's api_key_env)",
            403: "the key lacks access to this model",
            404: "check the model name (`impasse config show`) and the base URL",
        }
        raise EndpointRejected(
            f"{where} rejected the request (HTTP {status}): {message}",
            status=status,
            fix=fixes.get(status),
        ) from None


class _CallState:
    """What one logical call has consumed so far across attempts, fallbacks and repair."""

    def __init__(self) -> None:
        self.usage = Usage()
        self.retries = 0


def _usage(response: Any) -> Usage:
    usage = getattr(response, "usage", None)
    if usage is None:
        return Usage()
    details = getattr(usage, "prompt_tokens_details", None)
    cached = getattr(details, "cached_tokens", None) if details is not None else None
    return Usage(
        prompt_tokens=usage.prompt_tokens or 0,
        completion_tokens=usage.completion_tokens or 0,
        cached_tokens=cached or 0,
    )
