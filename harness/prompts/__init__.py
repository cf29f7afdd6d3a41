"""Prompt templates, as files. `render(name, **values)` fills `$name` placeholders.

A template variable that is not supplied is an error, never an empty string, and a value
supplied that the template does not use is an error too: both catch drift between code and
template files.
"""

from __future__ import annotations

import string
from functools import cache
from importlib import resources


@cache
def template_text(name: str) -> str:
    """The raw text of `harness/prompts/<name>.md`."""
    return resources.files(__package__).joinpath(f"{name}.md").read_text(encoding="utf-8")


def placeholders(name: str) -> set[str]:
    pattern = string.Template.pattern
    found = set()
    for match in pattern.finditer(template_text(name)):
        key = match.group("named") or match.group("braced")
        if key:
            found.add(key)
    return found


def render(template: str, /, **values: str) -> str:
    """Fill `template`; raise KeyError on a missing or an unused value."""
    wanted = placeholders(template)
    unused = set(values) - wanted
    if unused:
        raise KeyError(f"prompt template {template!r} has no placeholder for {sorted(unused)}")
    return string.Template(template_text(template)).substitute(values).strip() + "\n"
