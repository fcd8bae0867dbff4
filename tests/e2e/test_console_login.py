"""A person logs in to the console in a real browser and sees only what is theirs."""

import pytest

from tests.conftest import browser_login

pytestmark = pytest.mark.e2e


def test_family_logs_in_and_sees_only_their_elder(live_server, page):
    browser_login(page, live_server.url, "son")
    assert page.locator("h1").inner_text().startswith("欢迎")
    cards = page.locator("section.elder h3")
    assert cards.all_inner_texts() == ["张桂芳 Zhang Guifang"]
    assert "赵建国" not in page.content()
    page.click("text=English")
    assert page.locator("h2").first.inner_text() == "Elders"
