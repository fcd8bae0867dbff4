"""The ten scenarios as data, and the catalogue API."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

from fastapi.testclient import TestClient

from anxin.services.catalogue import CATALOGUE, ScenarioCode, scenario

Headers = Callable[[str], dict[str, str]]


def test_ten_scenarios_each_complete() -> None:
    assert set(CATALOGUE) == set(ScenarioCode) and len(CATALOGUE) == 11
    for s in CATALOGUE.values():
        assert s.zh and s.en and s.duration_minutes > 0 and s.skills and s.checklist
        assert isinstance(s.price, Decimal) and s.price == s.price.quantize(Decimal("0.01"))
        assert len({c.code for c in s.checklist}) == len(s.checklist)
    assert scenario("emergency_help").urgent and not scenario("cleaning").urgent


def test_catalogue_api(client: TestClient, as_user: Headers) -> None:
    r = client.get("/api/v1/services/catalogue", headers=as_user("elder"))
    assert r.status_code == 200, r.text
    cook = next(s for s in r.json() if s["code"] == "cook_visit")
    assert cook["zh"] == "上门做饭" and cook["price"] == "120.00" and cook["skills"] == ["cooking"]
    assert [c["code"] for c in cook["checklist"]] == ["diet", "meal", "fridge", "gas"]
    assert client.get("/api/v1/services/catalogue").status_code == 401
