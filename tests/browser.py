"""Headless Chromium for the HTML tests: one watched page, shared by every browser test.

Debian's chromium is driven by playwright (never `playwright install`: no browser downloads
here). The page records console errors, page errors, dialogs and any request that is not
`file:`/`data:`, so a test can assert the page is self-contained and ran no injected script.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

ARTIFACTS = Path(__file__).parent.parent / "test-artifacts"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-quic",
    "--disable-sync",
]


def chromium_path() -> str:
    """Debian's chromium, or skip the test saying how to install it."""
    for name in ("chromium", "chromium-browser"):
        found = shutil.which(name) or (
            f"/usr/bin/{name}" if Path(f"/usr/bin/{name}").exists() else None
        )
        if found:
            return found
    pytest.skip("chromium is not installed (apt-get install -y chromium)")


@dataclass
class WatchedPage:
    page: Any
    problems: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)

    def screenshot(self, name: str) -> None:
        ARTIFACTS.mkdir(exist_ok=True)
        self.page.screenshot(path=str(ARTIFACTS / name), full_page=True)


@contextmanager
def watched_page(file: Path, *, width: int = 1400, height: int = 900) -> Iterator[WatchedPage]:
    """Open `file` in headless Chromium and yield it with its problems and dialogs recorded."""
    executable = chromium_path()
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": width, "height": height})
            watched = WatchedPage(page)
            page.on(
                "console", lambda m: watched.problems.append(m.text) if m.type == "error" else None
            )
            page.on("pageerror", lambda e: watched.problems.append(str(e)))
            page.on("dialog", lambda d: (watched.dialogs.append(d.message), d.dismiss()))
            page.on(
                "request",
                lambda r: (
                    None if r.url.startswith(("file:", "data:")) else watched.problems.append(r.url)
                ),
            )
            page.goto(file.as_uri())
            page.wait_for_load_state("load")
            yield watched
        finally:
            browser.close()
