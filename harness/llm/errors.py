"""Typed errors of the LLM layer. All are `ImpasseError`s: the CLI prints one line, exit 2.

The engine catches `EndpointUnavailable` (retries exhausted) to keep its checkpoint and tell the
user to `impasse resume`; `StructuredOutputError` is the model's fault, never a silent default.
"""

from __future__ import annotations

from harness.errors import EndpointError, ImpasseError


class EndpointRejected(EndpointError):
    """The endpoint refused the request (400, 401, 403, 404, 422): retrying cannot help."""

    def __init__(self, message: str, *, status: int | None = None, **kwargs: object) -> None:
        self.status = status
        super().__init__(message, **kwargs)  # type: ignore[arg-type]


class EndpointUnavailable(EndpointError):
    """Retries (attempts or the total deadline) are exhausted on a transient failure."""

    def __init__(
        self, message: str, *, endpoint: str, cause: str, retries: int = 0, **kwargs: object
    ) -> None:
        self.endpoint = endpoint
        self.cause = cause
        self.retries = retries
        super().__init__(message, **kwargs)  # type: ignore[arg-type]


class FormatUnsupported(EndpointRejected):
    """A 400 saying the requested `response_format` is not supported (drives the fallback)."""


class StructuredOutputError(ImpasseError):
    """The model's reply does not parse or validate, even after the fallbacks and one repair."""

    RAW_LIMIT = 600

    def __init__(self, *, model: str, schema: str, problem: str, raw: str) -> None:
        self.model = model
        self.schema_name = schema
        self.problem = problem
        self.raw = raw
        shown = raw if len(raw) <= self.RAW_LIMIT else raw[: self.RAW_LIMIT] + " [...]"
        super().__init__(
            f"model {model!r} did not return a valid {schema}: {problem}; raw reply: {shown!r}"
        )
