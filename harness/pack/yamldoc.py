"""Read one YAML file of a pack and turn every failure into a line-numbered `Problem`.

PyYAML's composed node tree keeps the line of every key and value, so a pydantic error `loc`
such as `("entries", 3, "evidence", 0, "quote")` can be pointed at the exact line of the file.
Bad bytes, bad syntax, duplicate keys and oversized files never escape as exceptions.
"""

from __future__ import annotations

import types
import typing
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from harness.pack.problem import Problem

MAX_FILE_BYTES = 2 * 1024 * 1024

Loc = tuple[str | int, ...]
M = TypeVar("M", bound=BaseModel)

_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def display_path(path: Path) -> str:
    """The path as an author would type it: relative to the working folder when inside it."""
    absolute = Path(path).absolute()
    cwd = Path.cwd()
    return str(absolute.relative_to(cwd)) if absolute.is_relative_to(cwd) else str(absolute)


def field_name(loc: Loc) -> str:
    """`("entries", 3, "evidence", 0)` -> `entries[3].evidence[0]`."""
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "-"


@dataclass(frozen=True)
class YamlDoc:
    """A parsed YAML file: its data and the node tree that knows where each value stood."""

    path: Path
    data: Any
    node: yaml.Node | None

    @property
    def display(self) -> str:
        return display_path(self.path)

    def line(self, loc: Loc) -> int | None:
        """1-based line of the value at `loc`; the nearest enclosing value if `loc` is missing."""
        node = self._node_at(loc)
        return None if node is None else node.start_mark.line + 1

    def key_line(self, loc: Loc) -> int | None:
        """Line of the key at the end of `loc` (for unknown fields, which have no value node)."""
        node = self._node_at(loc[:-1])
        if isinstance(node, yaml.MappingNode):
            for key, _ in node.value:
                if key.value == str(loc[-1]):
                    return key.start_mark.line + 1
        return self.line(loc[:-1])

    def _node_at(self, loc: Loc) -> yaml.Node | None:
        node = self.node
        for part in loc:
            if node is None:
                return None
            # A union tag or a missing key does not resolve: stay on the enclosing value.
            node = _child(node, part) or node
        return node

    def problem(self, loc: Loc, message: str) -> Problem:
        return Problem(
            file=self.display, line=self.line(loc), field=field_name(loc), message=message
        )

    def validate(self, model: type[M], data: Any, loc: Loc = ()) -> tuple[M | None, list[Problem]]:
        """Validate `data` (found at `loc` in this file) as `model`, mapping errors to lines."""
        try:
            return model.model_validate(data), []
        except ValidationError as error:
            return None, [self._from_pydantic(model, loc, err) for err in error.errors()]

    def _from_pydantic(self, model: type[BaseModel], base: Loc, err: Any) -> Problem:
        loc: Loc = base + tuple(err["loc"])
        kind = err["type"]
        if kind == "missing":
            message = "required field is missing"
        elif kind == "extra_forbidden":
            allowed = _fields_at(model, tuple(err["loc"])[:-1])
            message = "unknown field" + (
                f" (expected one of: {', '.join(allowed)})" if allowed else ""
            )
            return Problem(
                file=self.display, line=self.key_line(loc), field=field_name(loc), message=message
            )
        else:
            message = err["msg"].removeprefix("Value error, ")
            value = err.get("input")
            if isinstance(value, dict) and kind == "string_type":
                message += " (got a mapping: put text containing ': ' in quotes)"
            elif kind != "value_error" and not isinstance(value, (dict, list)):
                message += f" (got {_short(value)})"
        return self.problem(loc, message)


def read_yaml(path: Path) -> tuple[YamlDoc | None, Problem | None]:
    """Read and parse one YAML file; on failure return the single problem that stopped it."""
    where = display_path(path)
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            return None, Problem(
                file=where, field="size", message=f"file is {size} bytes; the limit is 2 MB"
            )
        raw = path.read_bytes()
    except OSError as error:
        return None, Problem(file=where, field="file", message=f"cannot read: {error.strerror}")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        line = raw[: error.start].count(b"\n") + 1
        return None, Problem(
            file=where,
            line=line,
            field="encoding",
            message=f"not valid UTF-8 (byte {raw[error.start]:#04x} at offset {error.start})",
        )
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line = mark.line + 1 if mark is not None else None
        what = " ".join(str(x) for x in (error.context, error.problem) if x)
        return None, Problem(file=where, line=line, field="yaml", message=f"invalid YAML: {what}")
    except yaml.YAMLError as error:
        return None, Problem(file=where, field="yaml", message=f"invalid YAML: {error}")
    finally:
        loader.dispose()
    if node is None:
        return None, Problem(file=where, line=1, field="-", message="file is empty")
    duplicate = _duplicate_key(node)
    if duplicate is not None:
        return None, Problem(
            file=where,
            line=duplicate.start_mark.line + 1,
            field=str(duplicate.value),
            message="key appears twice in the same mapping",
        )
    return YamlDoc(path=path, data=data, node=node), None


def _child(node: yaml.Node, part: str | int) -> yaml.Node | None:
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            if key.value == str(part):
                return value
    elif (
        isinstance(node, yaml.SequenceNode)
        and isinstance(part, int)
        and 0 <= part < len(node.value)
    ):
        return node.value[part]
    return None


def _duplicate_key(node: yaml.Node) -> yaml.Node | None:
    stack = [node]
    while stack:
        current = stack.pop()
        if isinstance(current, yaml.MappingNode):
            seen: set[str] = set()
            for key, value in current.value:
                if isinstance(key, yaml.ScalarNode):
                    if key.value in seen:
                        return key
                    seen.add(key.value)
                stack.append(value)
        elif isinstance(current, yaml.SequenceNode):
            stack.extend(current.value)
    return None


def _fields_at(model: type[BaseModel], loc: Sequence[str | int]) -> list[str]:
    """Field names of the model found by following `loc` through `model`'s annotations."""
    current: Any = model
    for part in loc:
        if isinstance(part, int):
            continue
        if not (isinstance(current, type) and issubclass(current, BaseModel)):
            return []
        info = current.model_fields.get(part)
        if info is None:
            return []
        current = _inner_model(info.annotation)
    if isinstance(current, type) and issubclass(current, BaseModel):
        return list(current.model_fields)
    return []


def _inner_model(annotation: Any) -> Any:
    """The pydantic model inside `X`, `list[X]`, `dict[K, X]` or `X | None`, if any."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    origin = typing.get_origin(annotation)
    if origin in (list, dict, typing.Union, types.UnionType):
        for arg in reversed(typing.get_args(annotation)):
            found = _inner_model(arg)
            if found is not None:
                return found
    return None


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
