"""A fake OpenAI-compatible HTTP server on 127.0.0.1 for tests and benchmarks.

It is a real threaded HTTP server on a free port, so the `openai` SDK talks to it through its
real transport (whatever that is: openai 3.x uses httpx2, which broke in-process HTTP mocks).
It speaks the part of the API impasse uses:

- ``GET /v1/models``
- ``POST /v1/chat/completions`` with ``response_format`` ``json_schema``, ``json_object`` or none.

Replies, in order of precedence:

1. a fault taken from the queue (``fake.inject(...)``) or drawn at the seeded ``fault_rate``;
2. the ``responder`` callable, if set: ``(request_json) -> str | dict | Fault``;
3. by default, an object generated from the request's JSON schema: deterministic (the same
   request gives the same reply) and schema-valid. For ``json_object`` / plain-text requests the
   schema is looked up in the messages (impasse embeds it there); plain-text replies wrap the JSON
   in a little prose and a code fence, like a chatty model would.

Every request is recorded (``fake.requests``) with the Authorization header redacted; tests can
still see whether a key was sent (``authorization_sent``) and whether it was the expected one.

Use it as a context manager (``with FakeOpenAI() as fake: fake.base_url``) or through the
``fake_openai`` fixture in ``tests/conftest.py``.
"""

from __future__ import annotations

import hashlib
import json
import random
import re
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Literal

FaultKind = Literal[
    "latency",  # sleep `seconds`, then answer normally
    "rate_limit",  # 429 with Retry-After: `retry_after` (and retry-after-ms when `retry_after_ms`)
    "server_error",  # `status` (500 by default; 503 also useful)
    "drop",  # close the socket without any response
    "stall",  # sleep `seconds` (longer than the client timeout), then try to answer
    "truncated_body",  # 200 with a JSON body cut in half
    "invalid_content",  # 200 with a well-formed body whose message content is not JSON
    "cut_off",  # 200, content cut in half, finish_reason "length" (max_tokens reached)
    "unsupported_format",  # 400 "response_format ... is not supported"
    "bad_request",  # 400 with `message`
    "unauthorized",  # 401
    "unknown_model",  # 404 model not found
]


@dataclass(frozen=True)
class Fault:
    """One injected misbehaviour. Only the fields that matter for `kind` are read."""

    kind: FaultKind
    seconds: float = 0.0
    retry_after: float | None = 1.0
    retry_after_ms: float | None = None
    status: int = 500
    message: str = ""


@dataclass
class RecordedRequest:
    method: str
    path: str
    headers: dict[str, str]
    body: dict[str, Any] | None
    authorization_sent: bool
    key_matched: bool | None  # None when the server does not require a key
    fault: FaultKind | None = None
    arrived: float = 0.0  # time.monotonic() when the request had been read
    answered: float | None = None  # time.monotonic() when the response had been sent

    @property
    def response_format(self) -> str | None:
        fmt = (self.body or {}).get("response_format")
        return fmt.get("type") if isinstance(fmt, dict) else None

    @property
    def messages(self) -> list[dict[str, Any]]:
        return list((self.body or {}).get("messages", []))


Responder = Callable[[dict[str, Any]], "str | dict[str, Any] | Fault"]


@dataclass
class FakeOpenAI:
    """The fake server. Mutable settings may be changed while it runs (tests do that)."""

    models: list[str] = field(default_factory=lambda: ["fake-model"])
    # Fixed latency: every answer to a chat request leaves `latency_s` after the request
    # arrived. The fake's own work (faults, replies, JSON) happens inside that time, as on a
    # real endpoint, so it adds nothing to what a client measures.
    latency_s: float = 0.0
    responder: Responder | None = None
    require_key: str | None = None
    # Response formats the server refuses with a 400, e.g. {"json_schema"}.
    reject_formats: set[str] = field(default_factory=set)
    fault_rate: float = 0.0
    fault_kinds: tuple[Fault, ...] = (Fault("server_error"),)
    seed: int = 0
    report_cached_tokens: bool = True
    # Hold every chat request until requests carrying this many distinct API keys have arrived
    # (0: never hold). Clients given different keys then provably run at the same time.
    rendezvous_keys: int = 0

    def __post_init__(self) -> None:
        self.requests: list[RecordedRequest] = []
        self._faults: deque[Fault] = deque()
        self._lock = threading.Lock()
        self._keys_seen: set[str] = set()
        self._rendezvous = threading.Condition(self._lock)
        self._rng = random.Random(self.seed)
        self._stop = threading.Event()
        self._recent_prompts: deque[str] = deque(maxlen=32)
        self.in_flight = 0
        self.max_in_flight = 0
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle ---------------------------------------------------------------------------
    def start(self) -> FakeOpenAI:
        handler = type("_BoundHandler", (_Handler,), {"fake": self})
        self._httpd = _QuietServer(("127.0.0.1", 0), handler)
        self._httpd.daemon_threads = True
        self._stop.clear()
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()  # ends stalls early
        with self._rendezvous:
            self._rendezvous.notify_all()  # and rendezvous waits
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None

    def __enter__(self) -> FakeOpenAI:  # noqa: PYI034
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        assert self._httpd is not None, "server not started"
        return int(self._httpd.server_address[1])

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    # -- test controls -----------------------------------------------------------------------
    def inject(self, *faults: Fault | FaultKind, times: int = 1) -> None:
        """Queue faults for the next requests to /chat/completions, in order."""
        with self._lock:
            for _ in range(times):
                for fault in faults:
                    self._faults.append(Fault(fault) if isinstance(fault, str) else fault)

    def reset(self) -> None:
        """Forget recorded requests, queued faults and scripted behaviour."""
        with self._lock:
            self.requests.clear()
            self._faults.clear()
            self._recent_prompts.clear()
            self._rng = random.Random(self.seed)
        self.responder = None
        self.reject_formats = set()
        self.fault_rate = 0.0
        self.latency_s = 0.0
        self.require_key = None
        self.max_in_flight = 0

    def take_requests(self) -> list[RecordedRequest]:
        """The requests recorded so far, forgotten here (a long benchmark keeps no bodies)."""
        with self._lock:
            taken, self.requests = self.requests, []
        return taken

    @property
    def count(self) -> int:
        """Number of requests that reached the server (any path)."""
        return len(self.requests)

    @property
    def chat_requests(self) -> list[RecordedRequest]:
        return [r for r in self.requests if r.path.endswith("/chat/completions")]

    # -- internals used by the handler -------------------------------------------------------
    def _next_fault(self) -> Fault | None:
        with self._lock:
            if self._faults:
                return self._faults.popleft()
            if self.fault_rate and self._rng.random() < self.fault_rate:
                return self._rng.choice(self.fault_kinds)
        return None

    def _cached_tokens(self, prompt: str) -> int:
        # Imitate a server prefix cache: the longest common prefix with a recent prompt.
        best = 0
        with self._lock:
            for old in self._recent_prompts:
                n = 0
                for a, b in zip(old, prompt, strict=False):
                    if a != b:
                        break
                    n += 1
                best = max(best, n)
            self._recent_prompts.append(prompt)
        return best // 4


class _QuietServer(ThreadingHTTPServer):
    # listen() runs in the constructor, so the backlog must be a class attribute: the default
    # of 5 reset connections when 32 clients connected at once.
    request_queue_size = 128

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that timed out and hung up (stall faults) is expected: keep stderr clean.
        return


class _Handler(BaseHTTPRequestHandler):
    fake: FakeOpenAI
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out as separate writes: no 40 ms stalls
    # Per request (a keep-alive connection reuses the handler): when the answer is due, and
    # whether the request counts in `in_flight`.
    _due: float | None = None
    _counted = False
    _current: RecordedRequest | None = None  # stamped `answered` when its response is sent

    def log_message(self, format: str, *args: Any) -> None:
        return

    # -- plumbing ----------------------------------------------------------------------------
    def _record(self, body: dict[str, Any] | None) -> RecordedRequest:
        headers = {k.lower(): v for k, v in self.headers.items()}
        auth = headers.get("authorization", "")
        sent = bool(auth.strip()) and auth.strip().lower() != "bearer"
        matched = None
        if self.fake.require_key is not None:
            matched = auth == f"Bearer {self.fake.require_key}"
        if "authorization" in headers:
            headers["authorization"] = "Bearer ***"
        record = RecordedRequest(
            self.command, self.path, headers, body, sent, matched, arrived=time.monotonic()
        )
        self._current = record
        with self.fake._lock:
            self.fake.requests.append(record)
        return record

    def _send_json(self, status: int, payload: Any, headers: dict[str, str] | None = None) -> None:
        data = json.dumps(payload).encode()
        self._send_raw(status, data, headers)

    def _send_raw(self, status: int, data: bytes, headers: dict[str, str] | None = None) -> None:
        self._wait_for_latency()
        self._leave()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)
        if self._current is not None:
            self._current.answered = time.monotonic()

    def _error(self, status: int, message: str, code: str | None = None, **headers: str) -> None:
        err = {"message": message, "type": "invalid_request_error", "param": None, "code": code}
        self._send_json(status, {"error": err}, headers)

    def _wait_for_latency(self) -> None:
        """Hold the answer until `latency_s` after the request arrived (chat requests only)."""
        if self._due is not None:
            remaining = self._due - time.monotonic()
            self._due = None
            if remaining > 0:
                time.sleep(remaining)

    def _drop(self) -> None:
        self._wait_for_latency()
        self.close_connection = True
        try:
            self.connection.shutdown(2)
        except OSError:
            pass

    # -- routes ------------------------------------------------------------------------------
    def do_GET(self) -> None:
        record = self._record(None)
        if not self._authorised(record):
            return
        if self.path.rstrip("/").endswith("/models"):
            data = [
                {"id": m, "object": "model", "created": 0, "owned_by": "fake"}
                for m in self.fake.models
            ]
            self._send_json(200, {"object": "list", "data": data})
        else:
            self._error(404, f"no route {self.path}")

    def do_POST(self) -> None:
        arrived = time.monotonic()
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            body = json.loads(raw or b"{}")
        except json.JSONDecodeError:
            self._record(None)
            self._error(400, "request body is not JSON")
            return
        record = self._record(body)
        if not self.path.rstrip("/").endswith("/chat/completions"):
            self._error(404, f"no route {self.path}")
            return
        fake = self.fake
        self._due = arrived + fake.latency_s if fake.latency_s else None
        with fake._lock:
            fake.in_flight += 1
            fake.max_in_flight = max(fake.max_in_flight, fake.in_flight)
        self._counted = True
        try:
            self._chat(record, body)
        finally:
            self._leave()

    def _leave(self) -> None:
        """This request stops counting as in flight: before its reply goes out (a client that
        has the reply may send the next request at once), or when it ends without one."""
        if self._counted:
            self._counted = False
            with self.fake._lock:
                self.fake.in_flight -= 1

    def _meet_other_clients(self) -> None:
        """With `rendezvous_keys` set, wait (60 s at most) until that many keys have called."""
        fake = self.fake
        if not fake.rendezvous_keys:
            return
        with fake._rendezvous:
            fake._keys_seen.add(self.headers.get("Authorization", ""))
            fake._rendezvous.notify_all()
            fake._rendezvous.wait_for(
                lambda: len(fake._keys_seen) >= fake.rendezvous_keys or fake._stop.is_set(),
                timeout=60,
            )

    def _authorised(self, record: RecordedRequest) -> bool:
        if record.key_matched is False:
            # As OpenAI does: the key it was sent, quoted back (the client must mask it).
            sent = self.headers.get("Authorization", "").removeprefix("Bearer ")
            self._error(401, f"Incorrect API key provided: {sent}.", code="invalid_api_key")
            return False
        return True

    def _chat(self, record: RecordedRequest, body: dict[str, Any]) -> None:
        fake = self.fake
        if not self._authorised(record):
            return
        self._meet_other_clients()
        fault = fake._next_fault()
        if fault is not None:
            record.fault = fault.kind
            if self._apply_fault(fault, body):
                return
        model = body.get("model", "")
        if model not in fake.models:
            self._error(404, f"The model `{model}` does not exist.", code="model_not_found")
            return
        fmt = body.get("response_format") or {}
        fmt_type = fmt.get("type") if isinstance(fmt, dict) else None
        if fmt_type in fake.reject_formats:
            self._error(400, f"response_format type '{fmt_type}' is not supported by this server")
            return
        reply: str | dict[str, Any] | Fault | None = None
        if fault is None and fake.responder is not None:
            try:
                reply = fake.responder(body)
            except Exception as error:  # noqa: BLE001 - a broken test responder: a loud 500, not a hang
                self._error(500, f"fake responder raised {type(error).__name__}: {error}")
                return
            if isinstance(reply, Fault):
                record.fault = reply.kind
                if self._apply_fault(reply, body):
                    return
                fault, reply = reply, None
        if reply is None:
            content = _default_content(body, fmt_type)
        else:
            content = reply if isinstance(reply, str) else json.dumps(reply)
        finish = "stop"
        if fault is not None and fault.kind == "invalid_content":
            content = '{"this is": not json'
        if fault is not None and fault.kind == "cut_off":
            content, finish = content[: len(content) // 2], "length"
        self._send_json(200, _completion(body, content, fake, finish))

    def _apply_fault(self, fault: Fault, body: dict[str, Any]) -> bool:
        """Act out `fault`; True when the response has been dealt with."""
        kind = fault.kind
        if kind in ("latency", "stall"):
            self.fake._stop.wait(fault.seconds)
            return False
        if kind == "rate_limit":
            headers: dict[str, str] = {}
            if fault.retry_after is not None:
                headers["Retry-After"] = f"{fault.retry_after:g}"
            if fault.retry_after_ms is not None:
                headers["retry-after-ms"] = f"{fault.retry_after_ms:g}"
            self._error(
                429, fault.message or "Rate limit reached.", "rate_limit_exceeded", **headers
            )
            return True
        if kind == "server_error":
            self._error(fault.status, fault.message or "The server had an error.")
            return True
        if kind == "drop":
            self._drop()
            return True
        if kind == "truncated_body":
            data = json.dumps(_completion(body, _default_content(body, None), self.fake)).encode()
            self._send_raw(200, data[: len(data) // 2])
            return True
        if kind == "unsupported_format":
            self._error(400, "response_format is not supported by this model")
            return True
        if kind == "bad_request":
            self._error(400, fault.message or "Invalid request.")
            return True
        if kind == "unauthorized":
            # As OpenAI does: the key it was sent, quoted back (the client must mask it).
            sent = self.headers.get("Authorization", "").removeprefix("Bearer ")
            self._error(401, f"Incorrect API key provided: {sent}.", code="invalid_api_key")
            return True
        if kind == "unknown_model":
            self._error(404, f"The model `{body.get('model')}` does not exist.", "model_not_found")
            return True
        return False  # invalid_content, cut_off: handled by the caller


# -- replies ---------------------------------------------------------------------------------


def _completion(
    body: dict[str, Any], content: str, fake: FakeOpenAI, finish: str = "stop"
) -> dict[str, Any]:
    prompt = "\n".join(str(m.get("content", "")) for m in body.get("messages", []))
    prompt_tokens = len(prompt) // 4 + 4 * len(body.get("messages", []))
    usage: dict[str, Any] = {
        "prompt_tokens": prompt_tokens,
        "completion_tokens": max(1, len(content) // 4),
        "total_tokens": prompt_tokens + max(1, len(content) // 4),
    }
    if fake.report_cached_tokens:
        usage["prompt_tokens_details"] = {
            "cached_tokens": min(prompt_tokens, fake._cached_tokens(prompt))
        }
    digest = hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()[:24]
    return {
        "id": f"chatcmpl-{digest}",
        "object": "chat.completion",
        "created": 0,
        "model": body.get("model", ""),
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": content},
                "finish_reason": finish,
                "logprobs": None,
            }
        ],
        "usage": usage,
    }


def _default_content(body: dict[str, Any], fmt_type: str | None) -> str:
    seed = hashlib.sha256(json.dumps(body, sort_keys=True).encode()).digest()
    rng = random.Random(seed)
    schema = _request_schema(body)
    if schema is None:
        return "{}" if fmt_type in ("json_schema", "json_object") else "I have nothing to add."
    value = SchemaSampler(schema, rng).sample(schema)
    text = json.dumps(value)
    if fmt_type in ("json_schema", "json_object"):
        return text
    return f"Here is my answer.\n```json\n{text}\n```\n"


def _request_schema(body: dict[str, Any]) -> dict[str, Any] | None:
    fmt = body.get("response_format")
    if isinstance(fmt, dict) and fmt.get("type") == "json_schema":
        schema = (fmt.get("json_schema") or {}).get("schema")
        if isinstance(schema, dict):
            return schema
    # json_object / text: find a JSON schema embedded in the messages (last one wins).
    for message in reversed(body.get("messages", [])):
        found = _schema_in_text(str(message.get("content", "")))
        if found is not None:
            return found
    return None


_FENCE = re.compile(r"```(?:json)?\s*(\{.*?\})\s*```", re.DOTALL)


def _schema_in_text(text: str) -> dict[str, Any] | None:
    for block in reversed(_FENCE.findall(text)):
        try:
            candidate = json.loads(block)
        except json.JSONDecodeError:
            continue
        if isinstance(candidate, dict) and ("properties" in candidate or "$defs" in candidate):
            return candidate
    return None


class SchemaSampler:
    """Generate a JSON value valid against a (pydantic-style) JSON schema."""

    def __init__(self, root: dict[str, Any], rng: random.Random) -> None:
        self.root = root
        self.rng = rng
        self.words = [
            "offer",
            "tariff",
            "soybeans",
            "quota",
            "review",
            "phase",
            "pledge",
            "red line",
        ]

    def sample(self, schema: dict[str, Any], name: str = "value", depth: int = 0) -> Any:
        if "$ref" in schema:
            return self.sample(self._resolve(schema["$ref"]), name, depth)
        if "const" in schema:
            return schema["const"]
        if "enum" in schema:
            return self.rng.choice(list(schema["enum"]))
        for key in ("anyOf", "oneOf"):
            if key in schema:
                options = [s for s in schema[key] if s.get("type") != "null"] or schema[key]
                return self.sample(options[0], name, depth)
        if "allOf" in schema:
            return self.sample(schema["allOf"][0], name, depth)
        kind = schema.get("type", "object" if "properties" in schema else "string")
        if isinstance(kind, list):
            kind = next((k for k in kind if k != "null"), "null")
        if kind == "object":
            props: dict[str, Any] = schema.get("properties", {})
            return {k: self.sample(v, k, depth + 1) for k, v in props.items()}
        if kind == "array":
            n = (
                max(int(schema.get("minItems", 1)), 1)
                if depth < 4
                else int(schema.get("minItems", 0))
            )
            n = min(n, int(schema.get("maxItems", n)))
            items = schema.get("items", {"type": "string"})
            return [self.sample(items, name, depth + 1) for _ in range(n)]
        if kind == "integer":
            lo = int(schema.get("minimum", 0))
            hi = int(schema.get("maximum", lo + 10))
            return self.rng.randint(lo, hi)
        if kind == "number":
            lo = float(schema.get("minimum", 0.0))
            hi = float(schema.get("maximum", lo + 1.0))
            return round(self.rng.uniform(lo, hi), 3)
        if kind == "boolean":
            return self.rng.random() < 0.5
        if kind == "null":
            return None
        text = f"{name.replace('_', ' ')}: {' '.join(self.rng.sample(self.words, 3))}"
        lo = int(schema.get("minLength", 0))
        hi = int(schema.get("maxLength", max(lo, len(text))))
        text = text.ljust(lo, ".")[:hi]
        return text

    def _resolve(self, ref: str) -> dict[str, Any]:
        node: Any = self.root
        for part in ref.lstrip("#/").split("/"):
            node = node[part]
        return dict(node)


def requests_matching(fake: FakeOpenAI, text: str) -> list[RecordedRequest]:
    """Chat requests whose messages contain `text` (handy to count a persona's calls)."""
    return [r for r in fake.chat_requests if any(text in str(m.get("content")) for m in r.messages)]


def first_system_prompt(request_json: dict[str, Any]) -> str:
    """The first system message of a request: responders use it to tell speakers apart."""
    for message in request_json.get("messages", []):
        if message.get("role") == "system":
            return str(message.get("content", ""))
    return ""


__all__: Iterable[str] = [
    "FakeOpenAI",
    "Fault",
    "FaultKind",
    "RecordedRequest",
    "Responder",
    "SchemaSampler",
    "first_system_prompt",
    "requests_matching",
]
