"""Every error answer, Starlette's own included, has the one documented error body."""

from __future__ import annotations

import pytest


def test_an_unparsable_body_is_a_400_in_the_error_body(client, as_user) -> None:
    response = client.post(
        "/api/v1/households",
        content=b"\xff\xfe{",
        headers={**as_user("admin"), "Content-Type": "application/json"},
    )
    assert response.status_code in (400, 422)
    body = response.json()
    assert set(body) == {"error", "message", "fields"} and "detail" not in body


def test_a_wrong_method_lists_every_method_of_the_path(client) -> None:
    # GET and POST of this path are two routes; Starlette's 405 named only the first's.
    response = client.options("/api/v1/collateral/pledges")
    assert response.status_code == 405
    allowed = {m.strip() for m in response.headers["allow"].split(",")}
    assert {"GET", "POST"} <= allowed
    assert response.json()["error"] == "method_not_allowed"


def test_an_unknown_path_is_a_404_in_the_error_body(client) -> None:
    response = client.get("/api/v1/nothing-here")
    assert response.status_code == 404
    assert response.json() == {"error": "not_found", "message": "Not Found", "fields": []}


@pytest.mark.pg
def test_a_nul_character_postgresql_cannot_store_is_a_422_naming_the_column(
    client, as_user
) -> None:
    body = {"code": "nul_test", "name_zh": "钢\x00材", "name_en": "steel"}
    response = client.post("/api/v1/collateral/commodities", json=body, headers=as_user("admin"))
    assert response.status_code == 422, response.text
    assert response.json()["fields"] == [
        {"field": "name_zh", "reason": "must not contain NUL characters"}
    ]
