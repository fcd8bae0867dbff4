"""The monthly settlement page: the administrator settles a month that is over, once, after
ticking the confirmation; the page and the supervisor's dashboard show the settlement with the
rejected lines' reasons in words. Errors are the page's own, in its language, never a 500."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta

from fastapi.testclient import TestClient

from anxin.core.clock import FrozenClock
from tests.ltc.conftest import PASSWORD
from tests.ltc.test_settlement_run import RULE, her  # noqa: F401  (her: the fixture)


def _console(client: TestClient, username: str) -> None:
    client.post("/logout")
    done = client.post(
        "/login", data={"username": username, "password": PASSWORD}, follow_redirects=False
    )
    assert done.status_code == 303, done.text


def test_a_month_is_settled_once_on_the_page_and_read_by_the_supervisor(
    client: TestClient,
    headers: Callable[[str], dict[str, str]],
    her: int,  # noqa: F811
    clock: FrozenClock,
) -> None:
    assert client.post("/api/v1/ltc/rules", headers=headers("ltc-admin"), json=RULE).status_code
    _console(client, "ltc-admin")
    months = client.get("/ltc/settlements?lang=zh")
    assert months.status_code == 200 and "本月未结束" in months.text
    assert 'action="/ltc/settlements/2026-11"' not in months.text  # November is not over
    early = client.post("/ltc/settlements/2026-11?lang=zh", data={"confirm": "yes"})
    assert early.status_code == 422 and "该月尚未结束" in early.text

    clock.advance(timedelta(days=3))  # 2 December
    listed = client.get("/ltc/settlements").text
    assert 'href="/ltc/settlements?month=2026-11#settle"' in listed
    assert 'action="/ltc/settlements/2026-11"' in client.get("/ltc/settlements?month=2026-11").text
    unticked = client.post("/ltc/settlements/2026-11")
    assert unticked.status_code == 422 and "请先勾选确认再结算" in unticked.text
    done = client.post("/ltc/settlements/2026-11", data={"confirm": "yes"}, follow_redirects=False)
    assert done.status_code == 303, done.text
    shown = client.get(done.headers["location"])
    assert shown.status_code == 200
    for words in ("结算完成", "时长不足", "超出待遇范围", "待确认", "一致", "349.50", "25.50"):
        assert words in shown.text, words
    visible = re.sub(r"<[^>]+>", " ", shown.text)  # the words, not the attributes
    assert "lasted" not in visible and "too_short" not in visible and "rejected" not in visible
    assert 'action="/ltc/settlements/2026-11"' not in shown.text  # closed: no second form
    twice = client.post("/ltc/settlements/2026-11", data={"confirm": "yes"})
    assert twice.status_code == 409 and "已结算关账，不能再次结算" in twice.text
    assert client.post("/ltc/settlements/2026-13", data={"confirm": "yes"}).status_code == 422
    assert client.get("/ltc/settlements?month=26-1").status_code == 422

    _console(client, "ltc-supervisor")
    read = client.get("/ltc/settlements?month=2026-11&lang=en")
    assert read.status_code == 200 and "Too short" in read.text and "Yes" in read.text
    assert 'action="/ltc/settlements/' not in read.text  # reading only
    assert client.post("/ltc/settlements/2026-11", data={"confirm": "yes"}).status_code == 403
    board = client.get("/ltc/supervision?month=2026-11&lang=zh").text
    assert "按原因的拒付" in board and 'href="/ltc/settlements?month=2026-11"' in board
    # four November visit lines, one of them too short
    assert 'data-reason="too_short"><td>时长不足</td><td class="num">1</td>' in board
    assert "25.0%" in board and "349.50" in board
    assert client.app.state.console.catalog.unknown == set()  # type: ignore[attr-defined]


def test_another_city_sees_no_settlement_on_the_page(
    client: TestClient,
    headers: Callable[[str], dict[str, str]],
    her: int,  # noqa: F811
    clock: FrozenClock,
) -> None:
    client.post("/api/v1/ltc/rules", headers=headers("ltc-admin"), json=RULE)
    clock.advance(timedelta(days=3))
    client.post("/api/v1/ltc/settlements/2026-11", headers=headers("ltc-admin"))
    _console(client, "other-admin")
    page = client.get("/ltc/settlements?month=2026-11")
    assert page.status_code == 200 and 'id="settlement"' not in page.text
    assert 'action="/ltc/settlements/2026-11"' in page.text  # its own November is open
