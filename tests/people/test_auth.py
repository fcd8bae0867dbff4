"""Login (token and console cookie), expiry, disabling, and a permission check on every route."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.routing import APIRoute

from tests.conftest import DEMO_PASSWORDS, login


def test_token_login_and_me(client, demo):
    headers = login(client, "son", DEMO_PASSWORDS["son"]).headers
    me = client.get("/api/v1/me", headers=headers).json()
    assert me["username"] == "son" and me["role"] == "family"
    assert "password_hash" not in me


def test_wrong_password_and_unknown_user_look_the_same(client, demo):
    wrong = client.post("/api/v1/auth/token", data={"username": "son", "password": "nope-nope"})
    unknown = client.post("/api/v1/auth/token", data={"username": "ghost", "password": "nope-nope"})
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json()


def test_tokens_are_short_lived(client, demo, clock):
    headers = login(client, "butler", DEMO_PASSWORDS["butler"]).headers
    assert client.get("/api/v1/me", headers=headers).status_code == 200
    clock.advance(timedelta(minutes=16))
    expired = client.get("/api/v1/me", headers=headers)
    assert expired.status_code == 401
    assert expired.json()["message"] == "access token expired"


def test_disabled_user_loses_access_at_once(client, demo, as_user):
    son = as_user("son")
    me = client.get("/api/v1/me", headers=son).json()
    assert (
        client.post(f"/api/v1/users/{me['id']}/disable", headers=as_user("admin")).status_code
        == 200
    )
    assert client.get("/api/v1/me", headers=son).status_code == 401


def test_only_admins_manage_users(client, demo, as_user):
    payload = {
        "username": "newbutler",
        "display_name": "N",
        "role": "butler",
        "password": "long-enough-pw",
    }
    assert client.post("/api/v1/users", json=payload, headers=as_user("butler")).status_code == 403
    created = client.post("/api/v1/users", json=payload, headers=as_user("admin"))
    assert created.status_code == 201
    again = client.post("/api/v1/users", json=payload, headers=as_user("admin"))
    assert again.status_code == 409
    short = client.post(
        "/api/v1/users",
        json={**payload, "username": "x1x", "password": "short"},
        headers=as_user("admin"),
    )
    assert short.status_code == 422 and short.json()["fields"][0]["field"] == "password"


def test_console_login_sets_a_session_cookie(client, demo):
    assert client.get("/", follow_redirects=False).headers["location"] == "/login"
    bad = client.post("/login", data={"username": "son", "password": "wrong-password"})
    assert bad.status_code == 401
    response = client.post(
        "/login",
        data={"username": "son", "password": DEMO_PASSWORDS["son"]},
        follow_redirects=False,
    )
    assert response.status_code == 303
    cookie = response.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie
    home = client.get("/")
    assert home.status_code == 200
    assert "张桂芳" in home.text and "赵建国" not in home.text
    # The same cookie authenticates the JSON API for the console's own scripts.
    assert client.get("/api/v1/me").json()["username"] == "son"
    client.post("/logout")
    assert client.get("/api/v1/me").status_code == 401


def test_english_labels_on_request(client, demo):
    client.post("/login", data={"username": "son", "password": DEMO_PASSWORDS["son"]})
    assert "长者" in client.get("/").text
    assert "Elders" in client.get("/?lang=en").text


def _routes(app) -> list[tuple[str, str, bool]]:
    """(method, path, marked public) of every endpoint, including those in included routers."""
    out = []
    pending = list(app.routes)
    while pending:
        route = pending.pop()
        if isinstance(route, APIRoute):
            public = bool((route.openapi_extra or {}).get("x-anxin-public"))
            out.extend((method, route.path, public) for method in route.methods)
        elif hasattr(route, "original_router"):  # FastAPI's wrapper for an included router
            pending.extend(route.original_router.routes)
    return sorted(out)


def test_every_non_public_route_requires_authentication(client, app, demo):
    checked = 0
    for method, path, public in _routes(app):
        if public:
            continue
        url = path.replace("{", "").replace("}", "")
        response = client.request(method, url, follow_redirects=False)
        # The API answers 401; console pages send the browser to the login page.
        refused = response.status_code == 401 or (
            response.status_code == 303 and response.headers["location"].startswith("/login")
        )
        assert refused, f"{method} {path} answered {response.status_code}"
        checked += 1
    assert checked >= 15


def test_the_deliberately_public_routes_are_few_and_known(app):
    public = {(m, p) for m, p, is_public in _routes(app) if is_public}
    assert {
        ("GET", "/healthz"),
        ("POST", "/api/v1/auth/token"),
        ("POST", "/api/v1/telemetry"),
        ("GET", "/login"),
        ("POST", "/login"),
    } <= public
    # Anything else open must be a ledger proof or checkpoint (hashes only, by design), the
    # API's documentation, or what a consumer holding a bag of rice may do without an account
    # (trace: scan it, check its signed code, read its public page, report it, fetch the
    # brands' public keys).
    others = {p for _, p in public} - {
        "/docs",
        "/docs/oauth2-redirect",
        "/redoc",
        "/01/{gtin}/10/{lot}/21/{serial}",
        "/api/v1/trace/codes/verify",
        "/api/v1/trace/keys",
        "/api/v1/trace/reports",
        "/api/v1/trace/scans",
        "/healthz",
        "/api/v1/auth/token",
        "/api/v1/telemetry",
        "/login",
        "/logout",
        "/",
    }
    assert all(p.startswith("/api/v1/ledger") for p in others), others


@pytest.mark.parametrize("path", ["/docs", "/openapi.json"])
def test_api_docs_are_served(client, path):
    assert client.get(path).status_code == 200
