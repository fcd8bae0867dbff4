"""The services API: the catalogue of scenarios."""

from __future__ import annotations

from fastapi import APIRouter

from anxin.people.deps import CurrentPrincipal
from anxin.services.catalogue import CATALOGUE, Scenario
from anxin.services.schemas import CheckItemRead, ScenarioRead

router = APIRouter(prefix="/api/v1/services", tags=["services"])

LABELS: dict[str, tuple[str, str]] = {
    "services_catalogue": ("服务项目", "Home services"),
    "services_duration": ("时长(分钟)", "Duration (minutes)"),
    "services_price": ("价格(元)", "Price (yuan)"),
    "services_checklist": ("完成标准", "What done means"),
}


def scenario_read(s: Scenario) -> ScenarioRead:
    return ScenarioRead(
        code=s.code,
        zh=s.zh,
        en=s.en,
        duration_minutes=s.duration_minutes,
        price=s.price,
        skills=sorted(s.skills),
        checklist=[CheckItemRead(code=c.code, zh=c.zh, en=c.en) for c in s.checklist],
    )


@router.get("/catalogue", response_model=list[ScenarioRead])
def get_catalogue(_: CurrentPrincipal) -> list[ScenarioRead]:
    """The ten scenarios every member may book; the same for every organisation."""
    return [scenario_read(s) for s in CATALOGUE.values()]
