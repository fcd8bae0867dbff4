"""The officer's queue, the application page (score, reasons, policy, gates) and the risk
officer's portfolio, in Chinese and English; other banks' officers get a 404 page."""

from __future__ import annotations

from tests.conftest import login
from tests.lending.test_lending_applications import BASE, _apply, _users, application


def _console_login(client, username: str) -> None:
    client.cookies.clear()
    r = client.post(
        "/login",
        data={"username": username, "password": f"{username}-password"},
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text


def test_queue_application_and_portfolio_pages(client, context):
    _users(context)
    officer = login(client, "officer", "officer-password").headers
    app = _apply(client, officer, application())
    decision = client.post(f"{BASE}/applications/{app['id']}/decision", headers=officer).json()

    _console_login(client, "officer")
    queue = client.get("/lending")
    assert queue.status_code == 200
    assert "上海锦绣服饰商行" in queue.text and f'data-application-id="{app["id"]}"' in queue.text
    assert "贷款申请队列" in queue.text
    only_review = client.get("/lending?stage=review")
    assert f'data-application-id="{app["id"]}"' not in only_review.text

    page = client.get(f"/lending/applications/{app['id']}?lang=en")
    assert page.status_code == 200
    assert f'<strong id="score-value">{decision["score"]}</strong>' in page.text
    assert decision["reasons"][0]["en"] in page.text
    assert "Borrower is" in page.text and 'data-gate="callback"' in page.text
    zh = client.get(f"/lending/applications/{app['id']}?lang=zh")
    assert decision["reasons"][0]["zh"] in zh.text and "主要扣分原因" in zh.text

    _console_login(client, "risk")
    portfolio = client.get("/lending/portfolio?lang=en")
    assert portfolio.status_code == 200
    assert '<dd id="applications">1</dd>' in portfolio.text and "PSI" in portfolio.text

    _console_login(client, "stranger")
    assert client.get(f"/lending/applications/{app['id']}").status_code == 404
    assert app["id"] not in client.get("/lending").text


def test_the_queue_hears_of_new_and_moved_applications_on_the_live_hub(client, context, app):
    from anxin.web.live import _visibility, live_hub

    pings: list[dict] = []
    live_hub(app).publish = pings.append
    _users(context)
    officer = login(client, "officer", "officer-password").headers
    created = _apply(client, officer, application())
    heard = [(p["subject"], p["stage"]) for p in pings if p["owner_id"] == created["id"]]
    assert heard[0] == ("lending.application.created", "application")
    assert heard[-1] == ("lending.application.moved", "review")
    client.post(f"{BASE}/applications/{created['id']}/decision", headers=officer)
    assert pings[-1]["subject"] == "lending.application.moved"
    assert pings[-1]["stage"] in ("approved", "declined")
    # Only the bank's own people hear it; the queue's rows come back as a fragment.
    with context.unit(actor="test") as uow:
        from anxin.people import service as people

        def hears(username: str) -> bool:
            user = people.get_user_by_username(session=uow.session, username=username)
            return _visibility(uow, people.principal_of(user))(pings[-1])

        assert hears("officer") and hears("risk") and not hears("stranger")
    _console_login(client, "officer")
    assert 'data-live-src="/lending/parts/queue"' in client.get("/lending").text
    rows = client.get("/lending/parts/queue?lang=en")
    assert rows.status_code == 200 and "<html" not in rows.text
    assert f'data-application-id="{created["id"]}"' in rows.text
    assert created["id"] not in client.get("/lending/parts/queue?stage=closed").text
    _console_login(client, "stranger")
    assert created["id"] not in client.get("/lending/parts/queue").text
