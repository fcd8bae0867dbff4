"""Every state-changing call leaves an audit row: who, what, when, before and after."""

from sqlalchemy import select

from anxin.core.audit import AuditLog


def _rows(db, entity_type):
    with db.session_scope() as session:
        return list(
            session.scalars(
                select(AuditLog).where(AuditLog.entity_type == entity_type).order_by(AuditLog.id)
            )
        )


def test_mode_change_is_audited_with_actor_and_before_after(client, demo, as_user, db, clock):
    client.put(
        f"/api/v1/households/{demo.household_id}/mode",
        json={"mode": "night"},
        headers=as_user("daughter"),
    )
    update = _rows(db, "households")[-1]
    assert update.action == "update"
    assert update.actor == "user:daughter"
    assert update.entity_id == demo.household_id
    assert update.before["mode"] == "home" and update.after["mode"] == "night"
    assert update.at == clock.now()


def test_creations_are_audited_and_secrets_masked(client, demo, as_user, db):
    payload = {
        "username": "auditme",
        "display_name": "A",
        "role": "doctor",
        "password": "long-enough-pw",
    }
    created = client.post("/api/v1/users", json=payload, headers=as_user("admin")).json()
    row = next(r for r in _rows(db, "users") if r.entity_id == created["id"])
    assert row.action == "create" and row.actor == "user:admin" and row.before is None
    assert row.after["username"] == "auditme"
    assert row.after["password_hash"] == "***"


def test_device_registration_is_audited_without_the_token(client, demo, as_user, db):
    created = client.post(
        "/api/v1/devices",
        headers=as_user("butler"),
        json={
            "device_type": "door_sensor",
            "name": "back door",
            "owner_kind": "household",
            "owner_id": demo.household_id,
        },
    ).json()
    row = next(r for r in _rows(db, "devices") if r.entity_id == created["id"])
    assert row.after["token_hash"] == "***"
    assert created["token"] not in str(row.after)


def test_a_refused_change_leaves_no_audit_row(client, demo, as_user, db):
    before = len(_rows(db, "households"))
    client.post("/api/v1/households", json={"name": "x", "address": "y"}, headers=as_user("son"))
    assert len(_rows(db, "households")) == before


def test_readings_are_not_audited(client, demo_devices, db):
    _, token = demo_devices["door_sensor"]
    client.post(
        "/api/v1/telemetry",
        json={"message_id": "1", "values": {"open": True}},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert _rows(db, "readings") == []
