"""Prescriptions: the allergy and duplicate checks (422 with the reason, or an override with
a reason), reminder times, follow-ups; and the checks' maths as properties."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient
from hypothesis import given
from hypothesis import strategies as st

from anxin.consult import drugs
from anxin.demo.seed import DemoInfo
from tests.consult.conftest import API, ask

Headers = Callable[[str], dict[str, str]]
AMOXICILLIN = {"drug": "阿莫西林 amoxicillin", "strength": "500 mg", "dose": "1 capsule",
               "route": "oral", "frequency": "tid", "duration_days": 7, "quantity": 21}  # fmt: skip


def _taken(client: TestClient, demo: DemoInfo, as_user: Headers, doctor: dict[str, str]) -> str:
    cid = str(ask(client, as_user("elder"), demo.elder_id)["id"])
    assert client.post(f"{API}/consultations/{cid}/take", headers=doctor).status_code == 200
    return cid


def test_allergy_refuses_with_the_reason_and_an_override_is_kept(
    client: TestClient, demo: DemoInfo, as_user: Headers, doctors: dict[str, dict[str, str]]
) -> None:
    wu = doctors["wu"]
    cid = _taken(client, demo, as_user, wu)
    r = client.post(
        f"{API}/elders/{demo.elder_id}/allergies",
        json={"substance": "青霉素 penicillin", "reaction": "皮疹 rash"},
        headers=wu,
    )
    assert r.status_code == 201
    url = f"{API}/consultations/{cid}/prescriptions"
    r = client.post(url, json=AMOXICILLIN, headers=wu)
    assert r.status_code == 422, r.text
    assert r.json()["fields"] == [
        {"field": "drug", "reason": "allergy: recorded allergy to 青霉素 penicillin (皮疹 rash)"}
    ]
    assert client.get(url, headers=wu).json() == []  # nothing written

    r = client.post(url, json={**AMOXICILLIN, "override_reason": "skin test negative"}, headers=wu)
    assert r.status_code == 201, r.text
    rx = r.json()
    assert rx["override_reason"] == "skin test negative"
    assert rx["warnings"] == [
        {"kind": "allergy", "reason": "recorded allergy to 青霉素 penicillin (皮疹 rash)"}
    ]
    assert rx["times"] == ["08:00", "13:00", "19:00"]  # tid in Shanghai time
    assert rx["starts_on"] == "2026-11-29" and rx["ends_on"] == "2026-12-05"
    card = client.get(f"{API}/elders/{demo.elder_id}/card", headers=as_user("son")).json()
    # beside the demo's atorvastatin
    assert {p["drug"] for p in card["prescriptions"]} == {
        "阿莫西林 amoxicillin",
        "阿托伐他汀 atorvastatin",
    }
    assert [a["substance"] for a in card["allergies"]] == ["青霉素 penicillin"]


def test_duplicate_active_drug_is_refused_until_the_first_is_stopped(
    client: TestClient, demo: DemoInfo, as_user: Headers, doctors: dict[str, dict[str, str]]
) -> None:
    wu = doctors["wu"]
    cid = _taken(client, demo, as_user, wu)
    url = f"{API}/consultations/{cid}/prescriptions"
    # The demo elder takes amlodipine (recorded by the care team).
    body: dict[str, Any] = {**AMOXICILLIN, "drug": "Amlodipine", "strength": "5 mg",
                            "frequency": "qd", "quantity": 7, "times": ["07:30"]}  # fmt: skip
    r = client.post(url, json=body, headers=wu)
    assert r.status_code == 422
    assert r.json()["fields"][0]["reason"] == "duplicate: already taking 氨氯地平 amlodipine"

    ibuprofen = {**body, "drug": "布洛芬 ibuprofen", "strength": "200 mg", "frequency": "prn"}
    first = client.post(url, json=ibuprofen, headers=wu)
    assert first.status_code == 201 and first.json()["times"] == ["07:30"]
    # Aspirin is an NSAID too: a duplicate of the active ibuprofen.
    r = client.post(url, json={**ibuprofen, "drug": "阿司匹林 aspirin"}, headers=wu)
    assert r.status_code == 422 and "布洛芬 ibuprofen" in r.json()["fields"][0]["reason"]
    r = client.post(f"{url}/{first.json()['id']}/stop", headers=wu)
    assert r.status_code == 200 and r.json()["status"] == "stopped"
    r = client.post(url, json={**ibuprofen, "drug": "阿司匹林 aspirin", "times": None}, headers=wu)
    assert r.status_code == 201 and r.json()["times"] == []  # as needed: no reminders


def test_prescription_input_and_who_prescribes(
    client: TestClient, demo: DemoInfo, as_user: Headers, doctors: dict[str, dict[str, str]]
) -> None:
    wu = doctors["wu"]
    cid = _taken(client, demo, as_user, wu)
    url = f"{API}/consultations/{cid}/prescriptions"
    for change, field in (
        ({"duration_days": 0}, "duration_days"),
        ({"quantity": 10**12}, "quantity"),
        ({"route": "by mail"}, "route"),
        ({"frequency": "sometimes"}, "frequency"),
        ({"drug": ""}, "drug"),
        ({"override_reason": "x"}, "override_reason"),
    ):
        r = client.post(url, json={**AMOXICILLIN, **change}, headers=wu)
        assert r.status_code == 422 and field in r.json()["fields"][0]["field"], r.text
    assert client.post(url, json=AMOXICILLIN, headers=as_user("elder")).status_code == 403
    assert client.post(url, json=AMOXICILLIN, headers=doctors["he"]).status_code == 404

    follow = f"{API}/consultations/{cid}/follow-ups"
    r = client.post(follow, json={"due_on": "2026-11-01", "plan": "BP check"}, headers=wu)
    assert r.status_code == 422 and r.json()["fields"][0]["field"] == "due_on"
    r = client.post(follow, json={"due_on": "2026-12-06", "plan": "BP check"}, headers=wu)
    assert r.status_code == 201
    assert [f["plan"] for f in client.get(follow, headers=as_user("son")).json()] == ["BP check"]


names = st.sampled_from(sorted({w for ws in drugs.CLASSES.values() for w in ws}))
noise = st.text(alphabet="abcxyz", min_size=3, max_size=8).map(lambda s: "zz" + s)


@given(a=names, b=names)
def test_same_substance_is_symmetric_and_follows_the_classes(a: str, b: str) -> None:
    assert drugs.same_substance(a, b) == drugs.same_substance(b, a)
    same_class = any(a in ws and b in ws for ws in drugs.CLASSES.values())
    assert drugs.same_substance(a, b) == same_class


@given(drug=names, extra=noise, upper=st.booleans())
def test_an_allergy_named_in_any_case_or_company_always_warns(
    drug: str, extra: str, upper: bool
) -> None:
    substance = f"{extra} {drug.upper() if upper else drug}"
    warnings = drugs.check(f"{drug} {extra}x", allergies=[(substance, None)], active=[])
    assert [w.kind for w in warnings] == ["allergy"]


@given(drug=noise, other=noise)
def test_unrelated_names_never_warn(drug: str, other: str) -> None:
    if drug != other:
        assert drugs.check(drug, allergies=[(other, None)], active=[other]) == []
