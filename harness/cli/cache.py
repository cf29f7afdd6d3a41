"""`impasse cache stats|clear`: the SQLite response cache in the cache folder."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.console import Console

from harness.llm import cache as response_cache
from harness.llm.paths import cache_dir

console = Console(highlight=False)
AsJson = Annotated[bool, typer.Option("--json", help="Print JSON.")]


def stats(as_json: AsJson = False) -> None:
    """Rows and size of the response cache."""
    data = response_cache.stats(cache_dir())
    if as_json:
        typer.echo(json.dumps(data, indent=2))
        return
    console.print(
        f"{data['path']}: {data['rows']} responses, {int(data['bytes']) / 1e6:.2f} MB", markup=False
    )  # type: ignore[call-overload]
    for model, rows in dict(data["by_model"]).items():  # type: ignore[call-overload]
        console.print(f"  {model}: {rows}", markup=False)


def clear(yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask.")] = False) -> None:
    """Delete every cached response."""
    if not yes:
        typer.confirm("Delete every cached model response?", abort=True)
    removed = response_cache.clear(cache_dir())
    console.print(f"removed {removed} cached responses", markup=False)


def register(app: typer.Typer) -> None:
    """Add `impasse cache ...`."""
    group = typer.Typer(help="Inspect or clear the model response cache.", no_args_is_help=True)
    group.command("stats")(stats)
    group.command("clear")(clear)
    app.add_typer(group, name="cache")
