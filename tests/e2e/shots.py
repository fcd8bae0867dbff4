"""Full-page pictures for people to look through, taken again when the browser itself fails.

Chromium now and then refuses a capture it takes a moment later ("Unable to capture
screenshot": its compositor had no frame ready on a busy machine). The page is not at fault,
and one such refusal among the suite's hundreds of pictures failed a whole CI run (2026-12-08),
so that one error is retried; any other is the test's to report.
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

from playwright.sync_api import Error

CAPTURE_ATTEMPTS = 3
TRANSIENT = "Unable to capture screenshot"


class Shootable(Protocol):
    def screenshot(self, *, path: str, full_page: bool) -> bytes: ...


def full_page_shot(page: Shootable, path: Path) -> None:
    """The whole page, scrolled, saved at `path`."""
    for attempt in range(1, CAPTURE_ATTEMPTS + 1):
        try:
            page.screenshot(path=str(path), full_page=True)
            return
        except Error as exc:
            if TRANSIENT not in str(exc) or attempt == CAPTURE_ATTEMPTS:
                raise
