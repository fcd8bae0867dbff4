"""Read and write models of the trace API."""
# ruff: noqa: N815 - field names are the EPCIS 2.0 standard's (captureID, eventID, ...)

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class FarmCreate(BaseModel):
    code: str = Field(pattern=r"^[A-Za-z0-9_-]{1,32}$")
    name: str = Field(min_length=1, max_length=200)
    location: str = Field(description="the farm's SGLN URN or GLN Digital Link")
    farmer_user_id: str | None = None


class FarmRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    code: str
    name: str
    location: str
    farmer_user_id: str | None


class GeoPolygon(BaseModel):
    type: Literal["Polygon"]
    coordinates: list[list[tuple[float, float]]] = Field(min_length=1)


class PlotCreate(BaseModel):
    code: str = Field(pattern=r"^[A-Za-z0-9_-]{1,32}$")
    location: str = Field(description="the plot's SGLN URN or GLN Digital Link (with 254)")
    crop: str = Field(min_length=1, max_length=80)
    area_m2: Decimal = Field(gt=0, le=Decimal("1e10"), max_digits=14, decimal_places=1)
    boundary: GeoPolygon


class PlotRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    farm_id: str
    code: str
    location: str
    crop: str
    area_m2: Decimal
    boundary: dict[str, Any]


class CaptureProblem(BaseModel):
    path: str
    reason: str


class CaptureJobRead(BaseModel):
    """Named as in EPCIS 2.0 §12.4 (capture job: running, success, errors)."""

    model_config = ConfigDict(from_attributes=True)

    captureID: str = Field(validation_alias="id")
    running: bool
    success: bool
    captured: int
    duplicates: int
    errors: list[CaptureProblem]
    createdAt: datetime = Field(validation_alias="created_at")
    finishedAt: datetime | None = Field(validation_alias="finished_at")


class EventAccepted(BaseModel):
    eventID: str
    created: bool
    ledgerSeq: int | None


class QueryResults(BaseModel):
    queryName: str = "SimpleEventQuery"
    resultsBody: dict[str, list[dict[str, Any]]]


class QueryBody(BaseModel):
    queryResults: QueryResults


class EPCISQueryDocument(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    context: list[Any] = Field(serialization_alias="@context", validation_alias="@context")
    type: Literal["EPCISQueryDocument"] = "EPCISQueryDocument"
    schemaVersion: str = "2.0"
    creationDate: datetime
    epcisBody: QueryBody
