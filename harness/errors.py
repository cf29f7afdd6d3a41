"""Errors a user can fix. The CLI prints them as one line and exits 2, no traceback."""

from __future__ import annotations

from pathlib import Path


class ImpasseError(Exception):
    """A problem with the user's input or setup, worded so the user can fix it.

    `location` names the file (and line when known), `field` the offending field, and
    `fix` what to do about it. `str(error)` is the one line the CLI prints.
    """

    def __init__(
        self,
        message: str,
        *,
        location: str | Path | None = None,
        field: str | None = None,
        fix: str | None = None,
    ) -> None:
        self.message = message
        self.location = str(location) if location is not None else None
        self.field = field
        self.fix = fix
        super().__init__(self.one_line())

    def one_line(self) -> str:
        parts = []
        if self.location:
            parts.append(self.location)
        if self.field:
            parts.append(self.field)
        head = ": ".join(parts)
        text = f"{head}: {self.message}" if head else self.message
        if self.fix:
            text += f" ({self.fix})"
        return " ".join(text.split())  # always one line


class PackError(ImpasseError):
    """A persona pack, ledger, persona or scenario file is invalid."""


class ConfigError(ImpasseError):
    """Configuration (flags, environment, impasse.toml) is invalid or incomplete."""


class EndpointError(ImpasseError):
    """A model endpoint cannot be used: unreachable, unauthorised, unknown model."""


class TranscriptError(ImpasseError):
    """A transcript or run folder is missing, ambiguous or invalid."""


class EvalError(ImpasseError):
    """An evaluation input (turns file, gold set, suite) is invalid."""
