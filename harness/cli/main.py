"""Entry point of the `impasse` command: joins one module per command group.

Every command module exposes `register(app)`. Errors a user can fix (`ImpasseError`) print as
one line on stderr with exit code 2 and no traceback; usage errors from typer/click also exit 2.
"""

from __future__ import annotations

import sys

import typer
from rich.console import Console

from harness import __version__
from harness.errors import ImpasseError

app = typer.Typer(
    name="impasse",
    help="Source-grounded negotiation simulations, transcripts and fidelity evaluation.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    rich_markup_mode="rich",
)

err_console = Console(stderr=True, highlight=False, soft_wrap=True)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"impasse {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Show the version and exit."
    ),
) -> None:
    """impasse: simulate source-grounded negotiations and score their fidelity."""


def _register_all() -> None:
    # Imported here so that `harness.cli.main` stays cheap to import and the order is explicit.
    from harness.cli import (
        cache,
        config,
        eval,
        local,
        personas,
        review,
        run,
        scenarios,
        suite,
    )

    for module in (personas, scenarios, run, review, eval, suite, config, local, cache):
        module.register(app)


_register_all()


def main(argv: list[str] | None = None) -> None:
    """Run the CLI. Raises SystemExit with the exit code (0 ok, 1 failed gate, 2 bad input)."""
    # typer's standalone mode turns usage errors into exit 2 and typer.Exit into its code.
    try:
        app(args=argv, prog_name="impasse")
    except ImpasseError as error:
        err_console.print(f"error: {error.one_line()}", markup=False)
        raise SystemExit(2) from None
    except KeyboardInterrupt:
        err_console.print("interrupted", markup=False)
        raise SystemExit(130) from None


if __name__ == "__main__":  # pragma: no cover
    main(sys.argv[1:])
