"""A problem found in a pack: which file, which line, which field, and what is wrong.

Validation collects every problem; loading raises the first one as a `PackError`. Both print
the same single line, `file:line: field: message`, so an author can jump straight to it.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from harness.errors import PackError


class Problem(BaseModel):
    model_config = ConfigDict(frozen=True)

    file: str
    line: int | None = None
    field: str = "-"
    message: str

    @property
    def location(self) -> str:
        return self.file if self.line is None else f"{self.file}:{self.line}"

    def __str__(self) -> str:
        return " ".join(f"{self.location}: {self.field}: {self.message}".split())

    def to_error(self) -> PackError:
        return PackError(self.message, location=self.location, field=self.field)
