"""`impasse config show|check`: the effective LLM settings (key masked) and the preflight."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Annotated

import typer
from pydantic import SecretStr
from rich.console import Console
from rich.table import Table

from harness.cli import options
from harness.llm.config import CLIOverrides, LLMSettings, resolve_settings

console = Console(highlight=False)

JudgeModel = Annotated[
    str | None,
    typer.Option("--judge-model", help="Model for the LLM judge (env IMPASSE_JUDGE_MODEL)."),
]
ApiKey = Annotated[
    str | None,
    typer.Option("--api-key", help="API key (prefer OPENAI_API_KEY: flags show up in `ps`)."),
]
ConfigFile = Annotated[
    Path | None,
    typer.Option(
        "--config",
        help="Config file (env IMPASSE_CONFIG) (default ./impasse.toml, then ~/.config/impasse/impasse.toml).",
    ),
]
MaxConcurrency = Annotated[
    int | None,
    typer.Option(
        "--max-concurrency",
        min=1,
        help="Requests in flight per endpoint (env IMPASSE_MAX_CONCURRENCY) (default 8).",
    ),
]
AsJson = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]


def _settings(
    model: str | None,
    model_for: list[str] | None,
    endpoint_for: list[str] | None,
    judge_model: str | None,
    base_url: str | None,
    api_key: str | None,
    model_path: Path | None,
    cache: bool | None,
    max_concurrency: int | None,
    config: Path | None,
) -> LLMSettings:
    return resolve_settings(
        CLIOverrides(
            model=model,
            model_for=model_for or [],
            endpoint_for=endpoint_for or [],
            judge_model=judge_model,
            base_url=base_url,
            api_key=SecretStr(api_key) if api_key else None,
            model_path=model_path,
            cache=cache,
            max_concurrency=max_concurrency,
            config=config,
        )
    )


def show(
    model: options.Model = None,
    model_for: options.ModelFor = None,
    endpoint_for: options.EndpointFor = None,
    judge_model: JudgeModel = None,
    base_url: options.BaseUrl = None,
    api_key: ApiKey = None,
    model_path: options.ModelPath = None,
    cache: options.Cache = None,
    max_concurrency: MaxConcurrency = None,
    config: ConfigFile = None,
    as_json: AsJson = False,
) -> None:
    """Print the effective LLM settings and where each came from (the key is masked)."""
    settings = _settings(
        model,
        model_for,
        endpoint_for,
        judge_model,
        base_url,
        api_key,
        model_path,
        cache,
        max_concurrency,
        config,
    )
    data = settings.describe()
    if as_json:
        typer.echo(json.dumps(data, indent=2))
        return
    sources = data.pop("sources")
    table = Table("setting", "value", "from", title="impasse LLM settings")
    for name, value in data.items():
        if name == "roles":
            continue
        if name == "base_url" and value is None:
            value = "(embedded local model)"
        if name == "model" and value is None:
            value = "(embedded model's)"
        table.add_row(
            name,
            json.dumps(value) if isinstance(value, dict | list) else str(value),
            sources.get(name, "default"),
        )
    for role, fields in data["roles"].items():
        for attr, value in fields.items():
            if value is not None:
                table.add_row(
                    f"roles.{role}.{attr}", str(value), sources.get(f"roles.{role}.{attr}", "")
                )
    console.print(table)


def check(
    model: options.Model = None,
    model_for: options.ModelFor = None,
    endpoint_for: options.EndpointFor = None,
    judge_model: JudgeModel = None,
    base_url: options.BaseUrl = None,
    api_key: ApiKey = None,
    model_path: options.ModelPath = None,
    config: ConfigFile = None,
) -> None:
    """Run the preflight (keys, reachability, model names) without simulating anything."""
    settings = _settings(
        model,
        model_for,
        endpoint_for,
        judge_model,
        base_url,
        api_key,
        model_path,
        None,
        None,
        config,
    )
    from harness.llm.router import open_router

    async def run() -> list[str]:
        async with open_router(settings) as router:
            return [f"{r.role}: {r.model} at {r.endpoint}" for r in router.roles()]

    for line in asyncio.run(run()):
        console.print(f"ok  {line}", markup=False)


def register(app: typer.Typer) -> None:
    """Add `impasse config ...`."""
    group = typer.Typer(help="Show and check the model configuration.", no_args_is_help=True)
    group.command("show")(show)
    group.command("check")(check)
    app.add_typer(group, name="config")
