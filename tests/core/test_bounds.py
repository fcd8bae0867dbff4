"""Numbers and dates from outside are bounded at the schema: a 422 naming the field, never a 500."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import BaseModel, ValidationError

from anxin.core.bounds import DATE_MAX, DATE_MIN, INT64_MAX, Count64, SaneDate
from anxin.core.money import MONEY_MAX, Money


class _Row(BaseModel):
    seq: Count64 | None = None
    amount: Money | None = None
    day: SaneDate | None = None


@given(st.integers(min_value=-(2**80), max_value=2**80))
def test_count64_admits_exactly_what_a_bigint_column_holds(value: int) -> None:
    if 0 <= value <= INT64_MAX:
        assert _Row(seq=value).seq == value
    else:
        with pytest.raises(ValidationError) as err:
            _Row(seq=value)
        assert err.value.errors()[0]["loc"] == ("seq",)


@given(st.decimals(allow_nan=True, allow_infinity=True))
def test_money_is_finite_bounded_and_exact_or_refused(value: Decimal) -> None:
    try:
        amount = _Row(amount=value).amount
    except ValidationError as err:
        assert err.errors()[0]["loc"] == ("amount",)
        exact = value.is_finite() and value.as_tuple().exponent >= -2  # type: ignore[operator]
        assert not (exact and abs(value) <= MONEY_MAX)
        return
    assert amount is not None and amount == value
    assert abs(amount) <= MONEY_MAX and amount.as_tuple().exponent == -2


@given(st.dates())
def test_sane_dates_leave_room_for_date_arithmetic(value: date) -> None:
    if DATE_MIN <= value <= DATE_MAX:
        day = _Row(day=value).day
        assert day is not None
        # the window's whole point: a week either side is still a date
        assert day - timedelta(days=7) < day < day + timedelta(days=7)
    else:
        with pytest.raises(ValidationError, match="must lie between"):
            _Row(day=value)


def _field(response: object) -> str:
    body = response.json()  # type: ignore[attr-defined]
    fields: list[dict[str, str]] = body["fields"]
    return fields[0]["field"]


@pytest.mark.parametrize(
    ("path", "field"),
    [
        ("/api/v1/ledger/proofs/inclusion?index=5056883117671525575032832&tree_size=1", "index"),
        ("/api/v1/ledger/proofs/inclusion?index=0&tree_size=99999999999999999999", "tree_size"),
        ("/api/v1/ledger/proofs/consistency?first=1&second=99999999999999999999", "second"),
        ("/api/v1/ledger/checkpoints/99999999999999999999999", "size"),
        ("/api/v1/ledger/checkpoint?min_cosignatures=99999999999999999999", "min_cosignatures"),
    ],
)
def test_huge_integers_in_public_ledger_routes_are_422(client, path: str, field: str) -> None:
    response = client.get(path)
    assert response.status_code == 422, response.text
    assert _field(response).endswith(field)


def test_huge_sequence_numbers_in_entry_routes_are_422(client, as_user) -> None:
    admin = as_user("admin")
    for method, path in (
        ("GET", "/api/v1/ledger/entries/99999999999999999999999"),
        ("GET", "/api/v1/ledger/entries/99999999999999999999999/bundle"),
        ("DELETE", "/api/v1/ledger/entries/99999999999999999999999/body"),
    ):
        response = client.request(method, path, headers=admin)
        assert response.status_code == 422, (path, response.text)
        assert _field(response) == "path.seq"


def test_a_pledge_of_astronomical_money_is_422(client, demo, as_user) -> None:
    body = {
        "borrower_id": demo.collateral.trader_id,
        "loan_reference": "X-1",
        "loan_amount": 1.468e229,
        "receipt_ids": ["r"],
        "haircut": "0.3",
        "warning_ltv": "0.6",
        "margin_call_ltv": "0.7",
    }
    response = client.post("/api/v1/collateral/pledges", json=body, headers=as_user("bank"))
    assert response.status_code == 422, response.text
    assert _field(response) == "loan_amount"


@pytest.mark.parametrize("amount", [1e30, "1e30", 1e308, str(MONEY_MAX + 1)])
def test_a_life_quote_of_astronomical_money_is_422(client, as_user, amount: object) -> None:
    body = {"issue_age": 30, "sex": "F", "pay_term": 10, "sum_assured": amount}
    response = client.post("/api/v1/life/quote", json=body, headers=as_user("admin"))
    assert response.status_code == 422, response.text
    assert _field(response) == "sum_assured"


def test_the_largest_sum_assured_is_quoted_and_illustrated(client, as_user) -> None:
    body = {"issue_age": 30, "sex": "F", "pay_term": 20, "sum_assured": str(MONEY_MAX)}
    response = client.post("/api/v1/life/illustration", json=body, headers=as_user("admin"))
    assert response.status_code == 200, response.text
    # later years' benefits grow past the input bound; responses are not held to it
    assert Decimal(response.json()["rows"][-1]["death_benefit"]) > MONEY_MAX


def test_the_illustration_page_shows_astronomical_money_as_an_error(client, demo) -> None:
    client.post("/login", data={"username": "admin", "password": "demo-admin-pass"})
    response = client.get(
        "/life/illustration?issue_age=30&sex=F&pay_term=10&sum_assured=1e308&lang=en"
    )
    assert response.status_code == 422
    assert "sum_assured" in response.text


def test_a_sleep_report_for_the_last_night_of_the_calendar_is_422(client, demo, as_user) -> None:
    for night in ("9999-12-31", "0001-01-01"):
        response = client.get(
            f"/api/v1/elders/{demo.elder_id}/sleep-report?night={night}", headers=as_user("son")
        )
        assert response.status_code == 422, response.text
        assert _field(response) == "query.night"


def test_the_console_elder_page_refuses_the_last_night_of_the_calendar(client, demo) -> None:
    client.post("/login", data={"username": "son", "password": "demo-son-pass"})
    response = client.get(f"/console/elders/{demo.elder_id}?night=9999-12-31")
    assert response.status_code == 422
    assert client.get(f"/console/elders/{demo.elder_id}?night=2026-11-28").status_code == 200


def test_readings_between_far_instants_are_422(client, demo, demo_devices, as_user) -> None:
    device_id, _ = demo_devices["mmwave_radar"]
    response = client.get(
        f"/api/v1/devices/{device_id}/readings?end=9999-12-31T23:59:59Z", headers=as_user("son")
    )
    assert response.status_code == 422, response.text
    assert _field(response) == "query.end"


def test_price_marks_far_in_time_are_422(client, demo, as_user) -> None:
    body = {"marks": [{"commodity": "rebar", "as_of": "9999-12-31", "price": "3650.00"}]}
    response = client.post("/api/v1/collateral/prices", json=body, headers=as_user("bank"))
    assert response.status_code == 422, response.text
    assert _field(response) == "marks.0.as_of"


@pytest.mark.parametrize("night", ["0", "1700000000", "-5"])
def test_a_night_written_as_a_number_is_not_a_unix_time(client, demo, as_user, night) -> None:
    response = client.get(
        f"/api/v1/elders/{demo.elder_id}/sleep-report?night={night}", headers=as_user("son")
    )
    assert response.status_code == 422, response.text
    assert _field(response) == "query.night"


def test_dates_in_bodies_are_dates_not_numbers() -> None:
    with pytest.raises(ValidationError, match="a date like"):
        _Row(day=0)  # type: ignore[arg-type]
    assert _Row(day="2026-11-28").day == date(2026, 11, 28)  # type: ignore[arg-type]
