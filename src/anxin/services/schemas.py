"""Read schemas of the services API."""

from __future__ import annotations

from pydantic import BaseModel

from anxin.core.money import Money
from anxin.services.catalogue import ScenarioCode, Skill


class CheckItemRead(BaseModel):
    code: str
    zh: str
    en: str


class ScenarioRead(BaseModel):
    code: ScenarioCode
    zh: str
    en: str
    duration_minutes: int
    price: Money
    skills: list[Skill]
    checklist: list[CheckItemRead]
