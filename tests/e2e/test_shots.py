"""The picture helper retries only the browser's own capture failure, and not for ever."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Error

from tests.e2e.shots import CAPTURE_ATTEMPTS, TRANSIENT, full_page_shot


class _Page:
    def __init__(self, failures: list[str]) -> None:
        self.failures = failures
        self.calls = 0

    def screenshot(self, *, path: str, full_page: bool) -> bytes:
        self.calls += 1
        if self.failures:
            raise Error(self.failures.pop(0))
        Path(path).write_bytes(b"png")
        return b"png"


def test_a_refused_capture_is_taken_again(tmp_path: Path) -> None:
    page = _Page([f"Protocol error (Page.captureScreenshot): {TRANSIENT}"])
    full_page_shot(page, tmp_path / "a.png")
    assert page.calls == 2 and (tmp_path / "a.png").read_bytes() == b"png"


def test_other_errors_and_a_lasting_refusal_are_reported(tmp_path: Path) -> None:
    with pytest.raises(Error, match="Target closed"):
        full_page_shot(_Page(["Target closed"]), tmp_path / "b.png")
    lasting = _Page([TRANSIENT] * CAPTURE_ATTEMPTS)
    with pytest.raises(Error, match=TRANSIENT):
        full_page_shot(lasting, tmp_path / "c.png")
    assert lasting.calls == CAPTURE_ATTEMPTS
