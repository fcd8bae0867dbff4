"""The scheme's administrator lets a person's own login or a family member's see her page."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient

from anxin.core.context import AppContext
from anxin.demo.seed import DemoInfo
from anxin.people import service as people


def test_a_family_login_is_linked_once_and_a_bad_relation_is_refused(
    client: TestClient,
    as_user: Callable[[str], dict[str, str]],
    demo: DemoInfo,
    context: AppContext,
) -> None:
    with context.unit(actor="test") as uow:
        son = people.get_user_by_username(session=uow.session, username="son")
        assert son is not None
        son_id = son.id
    admin = as_user("ltc-admin")
    url = f"/api/v1/ltc/beneficiaries/{demo.ltc.beneficiary_id}/viewers"
    linked = client.post(url, headers=admin, json={"user_id": son_id, "relation": "family"})
    assert linked.status_code == 201, linked.text
    assert linked.json() == {
        "user_id": son_id,
        "beneficiary_id": demo.ltc.beneficiary_id,
        "relation": "family",
    }
    again = client.post(url, headers=admin, json={"user_id": son_id, "relation": "family"})
    assert again.status_code == 409
    bad = client.post(url, headers=admin, json={"user_id": son_id, "relation": "friend"})
    assert bad.status_code == 422 and bad.json()["fields"][0]["field"] == "relation"
    family = client.post(url, headers=as_user("son"), json={"user_id": son_id, "relation": "self"})
    assert family.status_code == 403  # only the scheme's administrators link logins
