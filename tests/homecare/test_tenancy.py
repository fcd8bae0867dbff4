"""A family sees only its own elder; existence of others never leaks (404, not 403)."""

from __future__ import annotations

from sqlalchemy import select

from anxin.homecare.models import Elder


def _other_elder_id(db, demo) -> str:
    with db.session_scope() as session:
        return session.scalars(select(Elder.id).where(Elder.id != demo.elder_id)).one()


def test_family_lists_only_their_own_elder(client, demo, as_user):
    for username in ("son", "daughter", "elder"):
        elders = client.get("/api/v1/elders", headers=as_user(username)).json()
        assert [e["id"] for e in elders] == [demo.elder_id], username


def test_another_familys_elder_is_404_not_403(client, demo, as_user, db):
    other = _other_elder_id(db, demo)
    response = client.get(f"/api/v1/elders/{other}", headers=as_user("son"))
    assert response.status_code == 404
    missing = client.get("/api/v1/elders/no-such-elder", headers=as_user("son"))
    # Same answer for "exists but not yours" and "does not exist".
    assert response.json() == {**missing.json(), "message": response.json()["message"]}
    assert response.json()["error"] == missing.json()["error"] == "not_found"


def test_neighbour_family_sees_neither_elder_nor_devices_of_the_zhang_household(
    client, demo, as_user, demo_devices
):
    headers = as_user("neighbour-family")
    assert client.get(f"/api/v1/elders/{demo.elder_id}", headers=headers).status_code == 404
    assert client.get(f"/api/v1/households/{demo.household_id}", headers=headers).status_code == 404
    device_id, _ = demo_devices["mmwave_radar"]
    assert client.get(f"/api/v1/devices/{device_id}", headers=headers).status_code == 404
    assert client.get(f"/api/v1/devices/{device_id}/readings", headers=headers).status_code == 404
    assert client.get("/api/v1/devices", headers=headers).json() == []


def test_butler_sees_every_elder_of_the_organisation(client, demo, as_user):
    assert len(client.get("/api/v1/elders", headers=as_user("butler")).json()) == 2


def test_another_organisation_sees_nothing(client, demo, context, clock):
    from anxin.people import service as people
    from anxin.people.models import OrganisationKind
    from anxin.people.schemas import UserCreate
    from tests.conftest import login

    with context.unit(actor="test:seed") as uow:
        session = uow.session
        org = people.create_organisation(
            session=session, name="Other care", kind=OrganisationKind.CARE_PROVIDER, now=clock.now()
        )
        people.create_user(
            session=session,
            organisation_id=org.id,
            now=clock.now(),
            data=UserCreate(
                username="other-admin", display_name="O", role="admin", password="other-admin-pass"
            ),
        )
    headers = login(client, "other-admin", "other-admin-pass").headers
    assert client.get("/api/v1/elders", headers=headers).json() == []
    assert client.get(f"/api/v1/elders/{demo.elder_id}", headers=headers).status_code == 404
    assert client.get("/api/v1/devices", headers=headers).json() == []


def test_family_may_switch_household_mode_but_not_create_households(client, demo, as_user):
    headers = as_user("daughter")
    response = client.put(
        f"/api/v1/households/{demo.household_id}/mode", json={"mode": "away"}, headers=headers
    )
    assert response.status_code == 200 and response.json()["mode"] == "away"
    created = client.post("/api/v1/households", json={"name": "x", "address": "y"}, headers=headers)
    assert created.status_code == 403


def test_bad_elder_input_names_the_field(client, demo, as_user):
    response = client.post(
        "/api/v1/elders",
        json={
            "household_id": demo.household_id,
            "full_name": "X",
            "birth_date": "1950-02-30",
            "sex": "F",
        },
        headers=as_user("admin"),
    )
    assert response.status_code == 422
    assert response.json()["fields"][0]["field"] == "birth_date"
