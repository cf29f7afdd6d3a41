"""Entry point of the `impasse` command: joins one module per command group.

Every command module exposes `register(app)`. Errors a user can fix (`ImpasseError`) print as
one line on stderr with exit code 2 and no traceback; usage errors from typer/click also exit 2.
"""

from __future__ import annotations

import logging
import sys

import typer
from rich.console import Console
from rich.logging import RichHandler
from typer._click.exceptions import NoArgsIsHelpError  # typer vendors click; no public name

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
    verbose: bool = typer.Option(
        False, "--verbose", "-v", help="Log every model call, not just retries and notices."
    ),
) -> None:
    """impasse: simulate source-grounded negotiations and score their fidelity."""
    _setup_logging(logging.DEBUG if verbose else logging.INFO)


def _setup_logging(level: int) -> None:
    """Library modules log on `harness.*`; the CLI shows those lines on stderr, dimmed.

    Retries (with their cause), structured-output fallbacks and the first model pull are
    INFO or WARNING, so a user sees them without asking.
    """
    logger = logging.getLogger("harness")
    for handler in list(logger.handlers):
        logger.removeHandler(handler)
    handler = RichHandler(
        console=err_console, show_time=False, show_path=False, markup=False, rich_tracebacks=False
    )
    handler.setFormatter(logging.Formatter("%(message)s"))
    logger.addHandler(handler)
    logger.setLevel(level)
    logger.propagate = False


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
    # Not typer's standalone mode: it draws usage errors as a multi-line box; here every usage
    # error is one line like any other bad input (exit 2), and typer.Exit(code) is returned.
    try:
        code = app(args=argv, prog_name="impasse", standalone_mode=False)
    except ImpasseError as error:
        err_console.print(f"error: {error.one_line()}", markup=False)
        raise SystemExit(2) from None
    except NoArgsIsHelpError as error:  # `impasse personas` alone: the group's help
        error.show()
        raise SystemExit(error.exit_code) from None
    except typer.TyperException as error:  # click's UsageError, BadParameter, ...
        err_console.print(f"error: {_usage_line(error)}", markup=False)
        raise SystemExit(error.exit_code) from None
    except typer.Abort:
        err_console.print("aborted", markup=False)
        raise SystemExit(1) from None
    except KeyboardInterrupt:
        err_console.print("interrupted", markup=False)
        raise SystemExit(130) from None
    raise SystemExit(code if isinstance(code, int) else 0)


def _usage_line(error: typer.TyperException) -> str:
    """`impasse run: Invalid value for '--rounds' ... (see impasse run --help)` on one line."""
    ctx = getattr(error, "ctx", None)
    text = error.format_message()
    if ctx is not None:
        text = f"{ctx.command_path}: {text} (see {ctx.command_path} --help)"
    return " ".join(text.split())


if __name__ == "__main__":  # pragma: no cover
    main(sys.argv[1:])
