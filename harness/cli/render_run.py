"""Rich rendering of a run as it happens: one line per turn and a progress bar of rounds."""

from __future__ import annotations

from typing import Self

from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from harness.graph.runner import RunEvent

SIDE_STYLE = {"us": "bold blue", "cn": "bold red", None: "bold yellow"}
PREVIEW_CHARS = 220


class RunDisplay:
    """Consumes `RunEvent`s; use as a context manager around the run."""

    def __init__(self, console: Console, show_private: bool = False) -> None:
        self.console = console
        self.show_private = show_private
        self.progress = Progress(
            TextColumn("[bold]rounds"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
            transient=True,
        )
        self.task = self.progress.add_task("rounds", total=None)

    def __enter__(self) -> Self:
        self.progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.progress.stop()

    def __call__(self, event: RunEvent) -> None:
        if event.kind in ("started", "round"):
            self.progress.update(
                self.task, total=event.max_rounds, completed=max(event.round - 1, 0)
            )
        elif event.kind == "finished":
            self.progress.update(self.task, total=event.max_rounds, completed=event.max_rounds)
        elif event.kind == "turn" and event.turn is not None:
            turn = event.turn
            private = turn.audience != "public"
            if private and not self.show_private:
                where = {"caucus": "caucus", "principal": "directive"}.get(turn.phase, turn.phase)
                who = "" if turn.phase == "event" else f": {escape(turn.speaker)}"
                self.console.print(
                    f"[dim]r{turn.round} {where}{who} (private to {turn.audience})[/dim]"
                )
                return
            text = " ".join(turn.utterance.split())
            if len(text) > PREVIEW_CHARS:
                text = text[:PREVIEW_CHARS] + "…"
            style = SIDE_STYLE.get(turn.side, "bold")
            action = (
                f" [magenta]<{turn.move.action}>[/magenta]"
                if turn.move and turn.move.action
                else ""
            )
            self.console.print(
                f"[dim]r{turn.round} {turn.phase:<9}[/dim] [{style}]{escape(turn.speaker)}[/{style}]"
                f"{action}: {escape(text)}"
            )
