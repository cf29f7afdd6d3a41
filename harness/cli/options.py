"""Options shared by the commands that call models or read runs, declared once.

Every option has help text and, where it makes sense, an environment variable.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

Model = Annotated[
    str | None,
    typer.Option("--model", help="Default model for every role (env IMPASSE_MODEL)."),
]
ModelFor = Annotated[
    list[str] | None,
    typer.Option(
        "--model-for",
        help="ROLE=MODEL for a side (us, cn) or a persona id; repeatable.",
        metavar="ROLE=MODEL",
    ),
]
EndpointFor = Annotated[
    list[str] | None,
    typer.Option(
        "--endpoint-for",
        help="ROLE=URL: a different OpenAI-compatible endpoint for a side or persona; repeatable.",
        metavar="ROLE=URL",
    ),
]
BaseUrl = Annotated[
    str | None,
    typer.Option(
        "--base-url",
        help="OpenAI-compatible endpoint (env OPENAI_BASE_URL; default: the embedded local model).",
    ),
]
ModelPath = Annotated[
    Path | None,
    typer.Option("--model-path", help="A GGUF file for the embedded server instead of SmolLM2."),
]
Cache = Annotated[
    bool | None,
    typer.Option(
        "--cache/--no-cache",
        help="Reuse cached model responses: a repeated run makes no model calls.",
        show_default=False,
    ),
]
TranscriptsDir = Annotated[
    Path | None,
    typer.Option(
        "--transcripts-dir",
        help="Folder of runs (default ./transcripts).",
        envvar="IMPASSE_TRANSCRIPTS",
        show_envvar=True,
    ),
]
Pack = Annotated[str, typer.Option("--pack", help="Persona pack id or folder.")]


def transcripts_root(path: Path | None) -> Path:
    return path if path is not None else Path("transcripts")
