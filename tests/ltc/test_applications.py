"""Applications to grade: the self-assessment gate, two assessors and a third on disagreement,
the beneficiary and the entitlement a grade brings, appeals and reassessments — over the API."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from anxin.core.clock import FrozenClock
from anxin.core.context import AppContext
from anxin.core.security import Role
from anxin.ltc.applications import (
    GATE_MAX_BARTHEL,
    ApplicationState,
    assessments_allowed,
    course,
    gate,
    reassessment_due,
)
from anxin.ltc.assessment import Consensus, Grade
from anxin.ltc.models import LtcApplication, LtcBeneficiary, LtcInsured, LtcService
from anxin.people.schemas import UserCreate
from anxin.people.service import create_user
from tests.conftest import login
from tests.ltc.conftest import PASSWORD

HER_ID = "32060219550312002X"
URL = "/api/v1/ltc/applications"
# Moderately impaired in daily living (Barthel 50), cognition and perception intact: grade 2.
MODERATE = {
    "feeding": 5, "bathing": 0, "grooming": 5, "dressing": 5, "bowels": 10, "bladder": 5,
    "toilet": 5, "transfers": 10, "mobility": 5, "stairs": 0,
}  # fmt: skip
SEVERE = dict.fromkeys(MODERATE, 0)  # Barthel 0, mind intact: grade 3 (severe I)
INDEPENDENT = {
    "feeding": 10, "bathing": 5, "grooming": 5, "dressing": 10, "bowels": 10, "bladder": 10,
    "toilet": 10, "transfers": 15, "mobility": 15, "stairs": 10,
}  # fmt: skip
INTACT_MIND = {
    "cognition": {"time_orientation": 4, "person_orientation": 4, "space_orientation": 4,
                  "memory": 4},
    "perception": {"vision": 4, "hearing": 4, "communication": 4},
}  # fmt: skip
ASSESSORS = ("assessor-a", "assessor-b", "assessor-c", "assessor-d", "assessor-e")


@pytest.fixture
def ready(context: AppContext, city: str, client: TestClient) -> Callable[[str], dict[str, str]]:
    """Her on the register, the service menu and the grade-2 rule; five assessors."""
    with context.unit(actor="test:seed") as uow:
        s = uow.session
        s.add(
            LtcInsured(
                org_id=city, id_number=HER_ID, name="王秀兰", sex="F",
                birth_date=date(1955, 3, 12), district="崇川区", address="青年路 8 号",
                lat=32.0146, lon=120.8642, updated_at=uow.now(),
            )
        )  # fmt: skip
        for code, zh, en, price in [("bath", "助浴", "bathing", "60.00"),
                                    ("massage", "按摩", "massage", "35.50")]:  # fmt: skip
            s.add(LtcService(org_id=city, code=code, name_zh=zh, name_en=en, price=Decimal(price)))
        for name in ASSESSORS:
            create_user(
                session=s, organisation_id=city, now=uow.now(),
                data=UserCreate(
                    username=name, display_name=name, role=Role.LTC_ADMIN, password=PASSWORD
                ),
            )  # fmt: skip
    admin = login(client, "ltc-admin", PASSWORD).headers
    rule = {
        "city": "nantong", "grade": 2, "valid_from": "2020-01-01", "monthly_cash": "210.00",
        "visits_per_week": 2, "services": ["bath", "massage"], "visit_copay_ratio": "0.10",
        "rental_fund_ratio": "0.80",
    }  # fmt: skip
    assert client.post("/api/v1/ltc/rules", json=rule, headers=admin).status_code == 201
    return lambda username: login(client, username, PASSWORD).headers


def _apply(client: TestClient, headers: dict[str, str], **extra: object) -> dict[str, object]:
    body = {"id_number": HER_ID, "city": "nantong", "self_assessment": MODERATE, **extra}
    response = client.post(URL, json=body, headers=headers)
    assert response.status_code == 201, response.text
    result: dict[str, object] = response.json()
    return result


def _assess(
    client: TestClient, headers: dict[str, str], app_id: object, adl: dict[str, int],
    visited_on: date,
) -> httpx.Response:  # fmt: skip
    body = {"visited_on": str(visited_on), "adl": adl, **INTACT_MIND}
    response: httpx.Response = client.post(
        f"{URL}/{app_id}/assessments", json=body, headers=headers
    )
    return response


def test_application_two_agreeing_assessments_grade_and_entitlement(
    client: TestClient, ready: Callable[[str], dict[str, str]], clock: FrozenClock
) -> None:
    app = _apply(client, ready("ltc-admin"))
    assert app["state"] == "assessing" and app["self_barthel"] == 50
    today = clock.now().date()
    first = _assess(client, ready("assessor-a"), app["id"], MODERATE, today)
    assert first.status_code == 201, first.text
    assert first.json()["state"] == "assessing" and first.json()["grade"] is None
    second = _assess(client, ready("assessor-b"), app["id"], MODERATE, today).json()
    assert (second["state"], second["grade"], second["consensus"]) == ("decided", 2, "agreed")
    assert [a["barthel"] for a in second["assessments"]] == [50, 50]
    entitled = second["entitlement"]
    assert entitled["monthly_cash"] == "210.00" and entitled["visits_per_week"] == 2
    assert [s["code"] for s in entitled["services"]] == ["bath", "massage"]
    # The supervisor reads it; a closed application takes no more assessments.
    seen = client.get(f"{URL}/{app['id']}", headers=ready("ltc-supervisor"))
    assert seen.status_code == 200 and seen.json()["grade"] == 2
    late = _assess(client, ready("assessor-c"), app["id"], MODERATE, today)
    assert late.status_code == 409


def test_the_grade_makes_her_a_beneficiary(
    client: TestClient, ready: Callable[[str], dict[str, str]], context: AppContext,
    clock: FrozenClock,
) -> None:  # fmt: skip
    app = _apply(client, ready("ltc-admin"))
    for who in ("assessor-a", "assessor-b"):
        _assess(client, ready(who), app["id"], MODERATE, clock.now().date())
    with context.unit(actor="test") as uow:
        person = uow.session.scalar(select(LtcBeneficiary))
        assert person is not None
        assert (person.grade, person.city, person.entitled_to) == (2, "nantong", None)
    again = client.post(
        URL, json={"id_number": HER_ID, "city": "nantong", "self_assessment": MODERATE},
        headers=ready("ltc-admin"),
    )  # fmt: skip
    assert again.status_code == 422 and again.json()["fields"][0]["field"] == "kind"


def test_disagreement_calls_a_third_assessor_who_decides(
    client: TestClient, ready: Callable[[str], dict[str, str]], clock: FrozenClock
) -> None:
    app = _apply(client, ready("ltc-admin"))
    today = clock.now().date()
    _assess(client, ready("assessor-a"), app["id"], MODERATE, today)
    split = _assess(client, ready("assessor-b"), app["id"], SEVERE, today).json()
    assert (split["state"], split["grade"]) == ("needs_third", None)
    third = _assess(client, ready("assessor-c"), app["id"], SEVERE, today).json()
    assert (third["state"], third["grade"], third["consensus"]) == ("decided", 3, "arbitrated")
    assert third["entitlement"] is None  # no grade-3 rule in this city yet


def test_one_assessor_assesses_an_application_once(
    client: TestClient, ready: Callable[[str], dict[str, str]], clock: FrozenClock
) -> None:
    app = _apply(client, ready("ltc-admin"))
    _assess(client, ready("assessor-a"), app["id"], MODERATE, clock.now().date())
    twice = _assess(client, ready("assessor-a"), app["id"], MODERATE, clock.now().date())
    assert twice.status_code == 409


def test_the_gate_declines_independence_with_its_reason(
    client: TestClient, ready: Callable[[str], dict[str, str]], clock: FrozenClock
) -> None:
    app = _apply(client, ready("ltc-admin"), self_assessment=INDEPENDENT)
    assert app["state"] == "declined" and "Barthel index 100" in str(app["reason"])
    refused = _assess(client, ready("assessor-a"), app["id"], MODERATE, clock.now().date())
    assert refused.status_code == 409


def test_an_appeal_is_assessed_by_other_assessors_and_regrades(
    client: TestClient, ready: Callable[[str], dict[str, str]], context: AppContext,
    clock: FrozenClock,
) -> None:  # fmt: skip
    today = clock.now().date()
    app = _apply(client, ready("ltc-admin"))
    for who in ("assessor-a", "assessor-b"):
        _assess(client, ready(who), app["id"], MODERATE, today)
    response = client.post(
        f"{URL}/{app['id']}/appeal", json={"reason": "she cannot stand any more"},
        headers=ready("ltc-admin"),
    )  # fmt: skip
    assert response.status_code == 201, response.text
    appeal = response.json()
    assert (appeal["kind"], appeal["parent_id"], appeal["state"]) == (
        "appeal", app["id"], "assessing",
    )  # fmt: skip
    same = _assess(client, ready("assessor-a"), appeal["id"], SEVERE, today)
    assert same.status_code == 409
    for who in ("assessor-c", "assessor-d"):
        _assess(client, ready(who), appeal["id"], SEVERE, today)
    with context.unit(actor="test") as uow:
        person = uow.session.scalar(select(LtcBeneficiary))
        assert person is not None and person.grade == 3
    twice = client.post(
        f"{URL}/{app['id']}/appeal", json={"reason": "again"}, headers=ready("ltc-admin")
    )
    assert twice.status_code == 409


def test_a_reassessment_to_grade_0_ends_the_entitlement(
    client: TestClient, ready: Callable[[str], dict[str, str]], context: AppContext,
    clock: FrozenClock,
) -> None:  # fmt: skip
    today = clock.now().date()
    app = _apply(client, ready("ltc-admin"))
    for who in ("assessor-a", "assessor-b"):
        _assess(client, ready(who), app["id"], MODERATE, today)
    review = _apply(client, ready("ltc-admin"), kind="reassessment")
    assert review["state"] == "assessing"
    for who in ("assessor-c", "assessor-d"):
        _assess(client, ready(who), review["id"], INDEPENDENT, today)
    with context.unit(actor="test") as uow:
        person = uow.session.scalar(select(LtcBeneficiary))
        assert person is not None and person.entitled_to == today


def test_scheduled_reassessment_lists_grades_two_years_old(
    client: TestClient, ready: Callable[[str], dict[str, str]], context: AppContext,
    clock: FrozenClock,
) -> None:  # fmt: skip
    app = _apply(client, ready("ltc-admin"))
    for who in ("assessor-a", "assessor-b"):
        _assess(client, ready(who), app["id"], MODERATE, clock.now().date())
    due = "/api/v1/ltc/reassessments/due"
    assert client.get(due, headers=ready("ltc-supervisor")).json() == []
    with context.unit(actor="test") as uow:  # the grade was given 730 days ago
        decided = uow.session.get(LtcApplication, app["id"])
        assert decided is not None and decided.decided_on is not None
        decided.decided_on -= timedelta(days=730)
    listed = client.get(due, headers=ready("ltc-supervisor")).json()
    assert [a["id"] for a in listed] == [app["id"]]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"id_number": "320602195503120011"}, "id_number"),
        ({"self_assessment": {**MODERATE, "feeding": 7}}, "self_assessment.feeding"),
        ({"self_assessment": {k: v for k, v in MODERATE.items() if k != "stairs"}},
         "self_assessment.stairs"),
        ({"kind": "appeal"}, "kind"),
        ({"kind": "reassessment"}, "kind"),
        ({"city": ""}, "city"),
    ],
)  # fmt: skip
def test_bad_applications_answer_422_with_the_field(
    client: TestClient, ready: Callable[[str], dict[str, str]], body: dict[str, object],
    field: str,
) -> None:  # fmt: skip
    payload = {"id_number": HER_ID, "city": "nantong", "self_assessment": MODERATE, **body}
    response = client.post(URL, json=payload, headers=ready("ltc-admin"))
    assert response.status_code == 422, response.text
    assert field in [f["field"] for f in response.json()["fields"]] or field in response.text


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"adl": {**MODERATE, "transfers": 20}}, "adl.transfers"),
        ({"cognition": {**INTACT_MIND["cognition"], "memory": 5}}, "cognition.memory"),
        ({"perception": {"vision": 4, "hearing": 4}}, "perception.communication"),
        ({"visited_on": "2099-01-01"}, "visited_on"),
    ],
)
def test_bad_assessments_answer_422_with_the_field(
    client: TestClient, ready: Callable[[str], dict[str, str]], clock: FrozenClock,
    change: dict[str, object], field: str,
) -> None:  # fmt: skip
    app = _apply(client, ready("ltc-admin"))
    body = {"visited_on": str(clock.now().date()), "adl": MODERATE, **INTACT_MIND, **change}
    response = client.post(f"{URL}/{app['id']}/assessments", json=body, headers=ready("assessor-a"))
    assert response.status_code == 422, response.text
    assert response.json()["fields"][0]["field"] == field


def test_roles_and_cities(
    client: TestClient, ready: Callable[[str], dict[str, str]], clock: FrozenClock
) -> None:
    body = {"id_number": HER_ID, "city": "nantong", "self_assessment": MODERATE}
    assert client.post(URL, json=body, headers=ready("ltc-supervisor")).status_code == 403
    app = _apply(client, ready("ltc-admin"))
    other = ready("other-admin")
    assert client.get(f"{URL}/{app['id']}", headers=other).status_code == 404
    assert client.get(URL, headers=other).json() == []
    assert _assess(client, other, app["id"], MODERATE, clock.now().date()).status_code == 404
    assert client.get(f"{URL}/{2**63}", headers=ready("ltc-admin")).status_code == 422
    assert client.get(URL, headers={}).status_code == 401


# Pure rules at their edges.


def test_the_gate_at_its_threshold() -> None:
    assert gate(GATE_MAX_BARTHEL) is None
    assert gate(GATE_MAX_BARTHEL + 5) is not None


# Every sequence of up to three grades (259 of them), so no case is left to chance.
@pytest.mark.parametrize(
    "grades", [list(g) for n in range(4) for g in itertools.product(list(Grade), repeat=n)]
)
def test_course_follows_the_assessments(grades: list[Grade]) -> None:
    after = course(grades)
    if len(grades) < 2:
        assert after.state is ApplicationState.ASSESSING
    elif grades[0] == grades[1]:
        assert (after.grade, after.consensus) == (grades[0], Consensus.AGREED)
    elif len(grades) == 2:
        assert after.state is ApplicationState.NEEDS_THIRD and after.grade is None
    else:
        assert (after.grade, after.consensus) == (grades[2], Consensus.ARBITRATED)
    # A decided application takes no further assessment; an undecided one does.
    assert assessments_allowed(grades) == (after.state is not ApplicationState.DECIDED)


def test_reassessment_is_due_on_the_730th_day() -> None:
    decided = date(2024, 1, 1)
    assert not reassessment_due(decided, decided + timedelta(days=729))
    assert reassessment_due(decided, decided + timedelta(days=730))
