"""Structured output: the request shape per mode, parsing, and the repair prompt.

Modes, in order of preference: `json_schema` (strict, grammar-constrained on llama.cpp),
`json_object` (any JSON; the schema goes into the system message), `text` (the same
instruction; the JSON is dug out of the reply). The mode that works is remembered per endpoint
and model for the life of the process (`ModeMemory`).
"""

from __future__ import annotations

import functools
import json
import re
from typing import Any

from pydantic import BaseModel, ValidationError

from harness.llm.types import ChatMessage, StructuredMode

MODES: tuple[StructuredMode, ...] = ("json_schema", "json_object", "text")

_FORMAT_HINTS = ("response_format", "json_schema", "json_object", "structured output", "schema")
_UNSUPPORTED_HINTS = (
    "not support",
    "unsupported",
    "invalid",
    "unknown",
    "not allowed",
    "unrecognized",
)


def schema_name(schema: type[BaseModel]) -> str:
    return re.sub(r"[^A-Za-z0-9_-]", "_", schema.__name__)[:64] or "Reply"


@functools.lru_cache(maxsize=256)
def strict_schema(schema: type[BaseModel]) -> dict[str, Any]:
    """A JSON schema accepted by OpenAI's strict mode (all fields required, no extras).

    Cached per class (building it costs more than the rest of a call); treat it as read-only.
    """
    try:
        from openai.lib._pydantic import to_strict_json_schema  # the SDK's own, as `parse` uses
    except ImportError:  # pragma: no cover - private module moved: do the essentials ourselves
        return _strictify(schema.model_json_schema())
    return to_strict_json_schema(schema)


def _strictify(node: Any) -> Any:
    if isinstance(node, dict):
        node = {k: _strictify(v) for k, v in node.items() if k != "default"}
        if node.get("type") == "object" and "properties" in node:
            node["additionalProperties"] = False
            node["required"] = list(node["properties"])
        return node
    if isinstance(node, list):
        return [_strictify(v) for v in node]
    return node


def response_format(mode: StructuredMode, schema: type[BaseModel]) -> dict[str, Any] | None:
    if mode == "json_schema":
        return {
            "type": "json_schema",
            "json_schema": {
                "name": schema_name(schema),
                "schema": strict_schema(schema),
                "strict": True,
            },
        }
    if mode == "json_object":
        return {"type": "json_object"}
    return None


@functools.lru_cache(maxsize=256)
def instruction(schema: type[BaseModel]) -> str:
    body = json.dumps(schema.model_json_schema(), sort_keys=True)
    return (
        "Reply with one JSON object and nothing else. It must conform to this JSON schema:\n"
        f"```json\n{body}\n```"
    )


def messages_for(
    mode: StructuredMode, messages: list[ChatMessage], schema: type[BaseModel]
) -> list[ChatMessage]:
    """The messages to send in `mode`.

    Without server-side schema support the schema is appended to the *first* system message
    (one system message at the start suits every chat template, and it keeps each speaker's
    prompt prefix byte-stable, which is what llama.cpp's prompt cache reuses).
    """
    if mode == "json_schema":
        return list(messages)
    text = instruction(schema)
    out = list(messages)
    for i, message in enumerate(out):
        if message.role == "system":
            out[i] = ChatMessage(role="system", content=f"{message.content}\n\n{text}")
            return out
    return [ChatMessage(role="system", content=text), *out]


def repair_messages(sent: list[ChatMessage], raw: str, problem: str) -> list[ChatMessage]:
    return [
        *sent,
        ChatMessage(role="assistant", content=raw),
        ChatMessage(
            role="user",
            content=(
                f"That reply is not valid: {problem}. Reply again with only the corrected JSON "
                "object that conforms to the schema."
            ),
        ),
    ]


def extract_json(raw: str, mode: StructuredMode) -> Any:
    """Decode the reply. In `text` mode, dig the object out of fences or prose.

    Raises ValueError with a short reason.
    """
    text = raw.strip()
    if mode != "text":
        return json.loads(text)
    fenced = re.search(r"```(?:json)?\s*(.*?)```", text, re.DOTALL)
    if fenced:
        text = fenced.group(1).strip()
    start, end = text.find("{"), text.rfind("}")
    if start == -1 or end <= start:
        raise ValueError("no JSON object in the reply")
    return json.loads(text[start : end + 1])


def validate(schema: type[BaseModel], data: Any) -> BaseModel:
    return schema.model_validate(data)


def short_validation_error(error: ValidationError) -> str:
    parts = []
    for item in error.errors()[:5]:
        loc = ".".join(str(p) for p in item["loc"]) or "(root)"
        parts.append(f"{loc}: {item['msg']}")
    return "; ".join(parts)


def says_format_unsupported(message: str) -> bool:
    """Does a 400's message say the response_format itself is the problem?"""
    lowered = message.lower()
    return any(h in lowered for h in _FORMAT_HINTS) and any(
        h in lowered for h in _UNSUPPORTED_HINTS
    )


class ModeMemory:
    """Which mode works, per (endpoint, model). In-process only; `reset()` for tests."""

    def __init__(self) -> None:
        self._modes: dict[tuple[str, str], StructuredMode] = {}

    def get(self, endpoint: str, model: str) -> StructuredMode:
        return self._modes.get((endpoint, model), "json_schema")

    def set(self, endpoint: str, model: str, mode: StructuredMode) -> None:
        self._modes[(endpoint, model)] = mode

    def reset(self) -> None:
        self._modes.clear()


MODE_MEMORY = ModeMemory()
