"""The LLM layer against the fake OpenAI server: retries, fallbacks, cache, limits, accounting."""

from __future__ import annotations

import asyncio
import gc
import logging
import ssl
import time
import weakref
from pathlib import Path

import pytest
from fake_openai import FakeOpenAI, Fault
from pydantic import BaseModel, Field

from harness.llm.accounting import Accounting
from harness.llm.cache import FILENAME
from harness.llm.client import OpenAIChat, make_client, result_type, tls_context
from harness.llm.config import LLMSettings, Price
from harness.llm.errors import EndpointRejected, EndpointUnavailable, StructuredOutputError
from harness.llm.retry import RetryPolicy
from harness.llm.router import ModelRouter, open_router
from harness.llm.structured import MODE_MEMORY
from harness.llm.types import CallRecord, ChatMessage

KEY = "sk-test"


class Move(BaseModel):
    utterance: str
    concession: bool
    price: int = Field(ge=0, le=100)


MESSAGES = [
    ChatMessage(role="system", content="You are Liu He, vice premier."),
    ChatMessage(role="user", content="Round 1. Make your move."),
]


def chat_for(
    fake: FakeOpenAI,
    *,
    timeout: float = 2.0,
    attempts: int = 4,
    deadline: float = 60.0,
    **kw: object,
) -> OpenAIChat:
    return OpenAIChat(
        base_url=fake.base_url,
        model="fake-model",
        client=make_client(fake.base_url, None, timeout),
        policy=RetryPolicy(attempts=attempts, deadline_s=deadline),
        **kw,  # type: ignore[arg-type]
    )


def call(chat: OpenAIChat, messages: list[ChatMessage] = MESSAGES, **kw: object):  # type: ignore[no-untyped-def]
    return asyncio.run(chat.structured(messages, Move, tag="liu_he", seed=7, **kw))  # type: ignore[arg-type]


def test_default_reply_is_schema_valid_and_deterministic(fake_openai: FakeOpenAI) -> None:
    first = call(chat_for(fake_openai))
    second = call(chat_for(fake_openai))
    assert first.value == second.value
    assert first.record.mode == "json_schema" and first.record.retries == 0
    body = fake_openai.chat_requests[0].body or {}
    assert body["seed"] == 7 and body["temperature"] == 0.7
    assert body["response_format"]["json_schema"]["strict"] is True


def test_429_honours_retry_after(
    fake_openai: FakeOpenAI, retry_waits: list[float], caplog: pytest.LogCaptureFixture
) -> None:
    fake_openai.inject(Fault("rate_limit", retry_after=7))
    fake_openai.inject(Fault("rate_limit", retry_after=None, retry_after_ms=1500))
    with caplog.at_level(logging.WARNING, logger="harness.llm"):
        result = call(chat_for(fake_openai))
    assert retry_waits == [7.0, 1.5]
    assert result.record.retries == 2
    assert "HTTP 429" in caplog.text and "retry-after 7s" in caplog.text


@pytest.mark.parametrize(
    "fault",
    [
        Fault("server_error"),
        Fault("server_error", status=503),
        "drop",
        "truncated_body",
        "invalid_content",
    ],
    ids=["500", "503", "dropped-connection", "truncated-body", "invalid-json-content"],
)
def test_transient_faults_are_retried(
    fake_openai: FakeOpenAI,
    retry_waits: list[float],
    fault: Fault | str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    fake_openai.inject(fault)
    with caplog.at_level(logging.WARNING, logger="harness.llm"):
        result = call(chat_for(fake_openai))
    assert result.record.retries == 1
    assert len(retry_waits) == 1 and 0 < retry_waits[0] <= 1.0  # first backoff: 0.5s + jitter
    assert len(fake_openai.chat_requests) == 2
    assert "retry 1/3" in caplog.text


def test_stall_longer_than_timeout_is_retried(fake_openai: FakeOpenAI) -> None:
    fake_openai.inject(Fault("stall", seconds=5))
    result = call(chat_for(fake_openai, timeout=0.3))
    assert result.record.retries == 1


def test_backoff_grows_and_is_capped(fake_openai: FakeOpenAI, retry_waits: list[float]) -> None:
    fake_openai.inject("server_error", times=5)
    chat = chat_for(fake_openai, attempts=6)
    chat.policy = RetryPolicy(attempts=6, deadline_s=600, base_wait_s=1, max_wait_s=4, jitter_s=0.5)
    call(chat)
    assert [int(w) for w in retry_waits] == [1, 2, 4, 4, 4]


@pytest.mark.parametrize(
    ("fault", "status", "text"),
    [
        (Fault("bad_request", message="messages: too long"), 400, "messages: too long"),
        ("unauthorized", 401, "Incorrect API key"),
        ("unknown_model", 404, "does not exist"),
    ],
)
def test_non_retryable_fail_at_once_with_server_message(
    fake_openai: FakeOpenAI, retry_waits: list[float], fault: Fault | str, status: int, text: str
) -> None:
    fake_openai.inject(fault)
    with pytest.raises(EndpointRejected) as caught:
        call(chat_for(fake_openai))
    assert caught.value.status == status and text in str(caught.value)
    assert retry_waits == [] and len(fake_openai.chat_requests) == 1


def test_attempts_exhausted_raise_endpoint_unavailable(fake_openai: FakeOpenAI) -> None:
    fake_openai.inject("server_error", times=4)
    accounting = Accounting()
    with pytest.raises(EndpointUnavailable) as caught:
        call(chat_for(fake_openai, attempts=4, accounting=accounting))
    message = str(caught.value)
    assert fake_openai.base_url in message and "HTTP 500" in message and "4 attempt" in message
    assert accounting.total.failures == 1 and accounting.total.retries == 3


def test_deadline_stops_before_a_long_wait(
    fake_openai: FakeOpenAI, retry_waits: list[float]
) -> None:
    fake_openai.inject(Fault("rate_limit", retry_after=120))
    with pytest.raises(EndpointUnavailable) as caught:
        call(chat_for(fake_openai, attempts=10, deadline=30))
    assert retry_waits == [] and "retry-after 120s" in str(caught.value)


def test_fallback_json_schema_to_json_object_is_remembered(fake_openai: FakeOpenAI) -> None:
    fake_openai.reject_formats = {"json_schema"}

    async def run() -> list:  # type: ignore[type-arg]
        chat = chat_for(fake_openai)
        again = [*MESSAGES, ChatMessage(role="user", content="again")]
        return [await chat.structured(m, Move, tag="liu_he") for m in (MESSAGES, again)]

    first, second = asyncio.run(run())
    assert first.record.mode == second.record.mode == "json_object"
    assert [r.response_format for r in fake_openai.chat_requests] == [
        "json_schema",
        "json_object",
        "json_object",
    ]
    system = fake_openai.chat_requests[1].messages[0]["content"]
    assert system.startswith("You are Liu He") and "JSON schema" in system
    assert MODE_MEMORY.get(fake_openai.base_url, "fake-model") == "json_object"


def test_fallback_to_text_with_one_repair_round(fake_openai: FakeOpenAI) -> None:
    fake_openai.reject_formats = {"json_schema", "json_object"}
    replies = iter(
        [
            'Sure! {"utterance": "no", "concession": "maybe"}',
            '{"utterance": "No deal.", "concession": false, "price": 5}',
        ]
    )
    fake_openai.responder = lambda body: next(replies)
    result = call(chat_for(fake_openai))
    assert result.record.mode == "text"
    assert result.value == Move(utterance="No deal.", concession=False, price=5)
    repair = fake_openai.chat_requests[-1].messages
    assert repair[-2]["role"] == "assistant" and "not valid" in repair[-1]["content"]
    assert "price" in repair[-1]["content"]


def test_invalid_after_repair_raises_with_raw_text(fake_openai: FakeOpenAI) -> None:
    fake_openai.responder = lambda body: {"utterance": "x", "concession": True, "price": 999}
    with pytest.raises(StructuredOutputError) as caught:
        call(chat_for(fake_openai))
    message = str(caught.value)
    assert "'fake-model'" in message and "Move" in message and '"price": 999' in message
    assert len(fake_openai.chat_requests) == 2  # the reply and one repair


def test_content_that_stays_invalid_is_a_structured_output_error(fake_openai: FakeOpenAI) -> None:
    fake_openai.inject("invalid_content", times=4)
    with pytest.raises(StructuredOutputError) as caught:
        call(chat_for(fake_openai, attempts=4))
    assert "not json" in str(caught.value)


def test_cache_second_run_makes_no_requests(
    fake_settings: LLMSettings, fake_openai: FakeOpenAI, tmp_path: Path
) -> None:
    settings = fake_settings.model_copy(update={"cache": True})

    async def run() -> list[Move]:
        async with open_router(settings, preflight=False) as router:
            chat = router.for_speaker("liu_he", "cn")
            results = [await chat.structured(MESSAGES, Move, tag="liu_he", seed=s) for s in (1, 2)]
            return [r.value for r in results], [r.record for r in results]  # type: ignore[return-value]

    first, first_records = asyncio.run(run())  # type: ignore[misc]
    assert len(fake_openai.chat_requests) == 2
    fake_openai.reset()
    second, second_records = asyncio.run(run())  # type: ignore[misc]
    assert fake_openai.count == 0
    assert first == second
    assert all(r.cache_hit for r in second_records)
    assert [r.usage for r in second_records] == [r.usage for r in first_records]
    assert KEY.encode() not in (settings.cache_dir / FILENAME).read_bytes()


def test_cache_hit_after_fallback_in_a_new_process(
    fake_settings: LLMSettings, fake_openai: FakeOpenAI
) -> None:
    settings = fake_settings.model_copy(update={"cache": True})
    fake_openai.reject_formats = {"json_schema"}

    async def run() -> Move:
        async with open_router(settings, preflight=False) as router:
            return (await router.for_speaker("x", "us").structured(MESSAGES, Move, tag="x")).value

    first = asyncio.run(run())
    MODE_MEMORY.reset()  # as if a new process
    fake_openai.reset()
    assert asyncio.run(run()) == first and fake_openai.count == 0


def test_concurrency_limit_is_respected(fake_openai: FakeOpenAI) -> None:
    fake_openai.latency_s = 0.05
    chats = [chat_for(fake_openai, max_concurrency=3) for _ in range(2)]  # share the endpoint limit

    async def run() -> None:
        await asyncio.gather(
            *[
                chats[i % 2].structured(
                    [ChatMessage(role="user", content=f"turn {i}")], Move, tag=f"p{i % 2}"
                )
                for i in range(12)
            ]
        )

    asyncio.run(run())
    assert fake_openai.max_in_flight == 3


def test_fake_latency_is_fixed_and_includes_the_fakes_own_work(fake_openai: FakeOpenAI) -> None:
    """The suite benchmark's endpoint: an answer leaves `latency_s` after its request arrived,
    however long the fake took to compute it (on the old fake the two added up)."""

    def slow_reply(body: dict) -> dict:  # type: ignore[type-arg]
        time.sleep(0.3)
        return {"utterance": "held", "concession": False, "price": 5}

    fake_openai.responder = slow_reply
    fake_openai.latency_s = 0.5
    chat = chat_for(fake_openai)
    started = time.perf_counter()
    call(chat)
    elapsed = time.perf_counter() - started
    assert 0.5 <= elapsed < 0.75  # fixed latency; the additive fake would take 0.8 s


def test_clients_share_one_tls_context_that_verifies() -> None:
    """Built once per process (reading the CA bundle cost 25-48 ms per client); never relaxed."""
    context = tls_context()
    assert tls_context() is context
    assert context.verify_mode == ssl.CERT_REQUIRED and context.check_hostname


def test_accounting_sums_per_tag_and_run_with_cost(fake_openai: FakeOpenAI) -> None:
    accounting = Accounting()
    chat = chat_for(
        fake_openai, accounting=accounting, prices={"fake-model": Price(prompt=1.0, completion=2.0)}
    )
    fake_openai.inject("server_error")

    async def run() -> list:  # type: ignore[type-arg]
        return [
            await chat.structured(MESSAGES, Move, tag=tag, seed=i)
            for i, tag in enumerate(["liu_he", "liu_he", "lighthizer"])
        ]

    results = asyncio.run(run())
    total = accounting.total
    assert total.calls == 3 and total.retries == 1
    assert total.usage.prompt_tokens == sum(r.record.usage.prompt_tokens for r in results)
    assert accounting.by_tag["liu_he"].calls == 2 and accounting.by_tag["lighthizer"].calls == 1
    expected = (
        sum(
            r.record.usage.prompt_tokens * 1 + r.record.usage.completion_tokens * 2 for r in results
        )
        / 1e6
    )
    assert total.cost_usd == pytest.approx(expected)
    assert any(r.record.usage.cached_tokens > 0 for r in results[1:])  # fake server's prefix cache


def test_router_resolution_and_roles(fake_openai: FakeOpenAI) -> None:
    default, cn, liu, judge = (chat_for(fake_openai) for _ in range(4))
    router = ModelRouter.from_chats(default, roles={"cn": cn, "liu_he": liu}, judge=judge)
    assert router.for_speaker("liu_he", "cn") is liu
    assert router.for_speaker("he_lifeng", "cn") is cn
    assert router.for_speaker("lighthizer", "us") is default
    assert router.for_judge() is judge
    assert [r.role for r in router.roles()] == ["default", "cn", "liu_he", "judge"]
    assert ModelRouter.from_chats(default).for_judge() is None


def test_key_is_sent_but_never_logged_or_raised(
    fake_openai: FakeOpenAI, caplog: pytest.LogCaptureFixture
) -> None:
    secret = "sk-very-secret-0123456789"
    fake_openai.require_key = secret
    chat = OpenAIChat(
        base_url=fake_openai.base_url,
        model="fake-model",
        client=make_client(fake_openai.base_url, None, 2.0),
    )
    with pytest.raises(EndpointRejected) as caught:
        call(chat)  # placeholder key for keyless servers -> 401
    assert caught.value.status == 401
    from pydantic import SecretStr

    chat = OpenAIChat(
        base_url=fake_openai.base_url,
        model="fake-model",
        client=make_client(fake_openai.base_url, SecretStr(secret), 2.0),
    )
    fake_openai.inject("server_error", "unauthorized")
    with caplog.at_level(logging.DEBUG), pytest.raises(EndpointRejected) as caught:
        call(chat)
    assert (
        secret not in str(caught.value) and secret not in caplog.text and secret not in repr(chat)
    )
    assert all(r.headers.get("authorization") == "Bearer ***" for r in fake_openai.requests)
    assert fake_openai.requests[-1].authorization_sent and fake_openai.requests[-1].key_matched


def test_reply_cut_off_at_max_tokens_is_not_retried(
    fake_openai: FakeOpenAI, retry_waits: list[float]
) -> None:
    fake_openai.inject("cut_off")
    with pytest.raises(StructuredOutputError, match="max_tokens=50"):
        call(chat_for(fake_openai), max_tokens=50)
    assert retry_waits == [] and len(fake_openai.chat_requests) == 1


def test_the_result_type_of_a_schema_survives_garbage_collection() -> None:
    # Pydantic holds `CallResult[Schema]` built inside a function only weakly; collected, it was
    # built again by a later call, a model class's construction each time. The client keeps one
    # per schema (with plain `CallResult[Reply]` here, `kept()` is None after the collection).
    class Reply(BaseModel):
        text: str

    kept = weakref.ref(result_type(Reply))
    gc.collect()
    assert kept() is not None and result_type(Reply) is kept()
    record = CallRecord(endpoint="http://127.0.0.1:1/v1", model="m", mode="json_schema")
    assert result_type(Reply)(value=Reply(text="ok"), record=record).value.text == "ok"
