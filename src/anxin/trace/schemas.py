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
    # The event's ledger entry anchors sha256(anchorSalt ‖ digest): keep the salt with the event.
    anchorSalt: str | None


class AnchorRead(BaseModel):
    """How to find and check an event's ledger entry: only with the event and this salt."""

    eventID: str
    anchorSalt: str | None  # None: anchored bare, before salted anchors (trace_0004)
    payloadSha256: str  # sha256(salt ‖ the SHA-256 inside eventID): the entry's payload
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


class RegionGeometry(BaseModel):
    type: Literal["Polygon", "MultiPolygon"]
    coordinates: list[Any] = Field(min_length=1)


class ProductCreate(BaseModel):
    gtin: str = Field(
        pattern=r"^\d{8}$|^\d{12,14}$", description="GTIN-8/12/13/14 with check digit"
    )
    name_zh: str = Field(min_length=1, max_length=200)
    name_en: str = Field(min_length=1, max_length=200)
    sales_region: RegionGeometry | None = None


class ProductRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    gtin: str
    name_zh: str
    name_en: str
    sales_region: dict[str, Any] | None


class LotCreate(BaseModel):
    product_id: str
    farm_id: str
    plot_id: str | None = None
    code: str = Field(pattern=r"^[!%-?A-Z_a-z\"]{1,20}$", description="GS1 AI (10) characters")


class LotRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    product_id: str
    farm_id: str
    plot_id: str | None
    code: str


class UnitsIssue(BaseModel):
    count: int = Field(ge=1, le=100_000)
    printed: bool = Field(default=True, description="labels printed as the serials are issued")


class UnitsIssued(BaseModel):
    lot_id: str
    gtin: str
    first_serial: str
    last_serial: str
    count: int


class ScanCreate(BaseModel):
    gtin: str = Field(pattern=r"^\d{14}$")
    serial: str = Field(min_length=1, max_length=20)
    lat: float | None = Field(default=None, ge=-90, le=90)
    lon: float | None = Field(default=None, ge=-180, le=180)


class FindingRead(BaseModel):
    code: str
    reason: str


class ScanRead(BaseModel):
    verdict: Literal["genuine", "suspect", "unknown"]
    first_scan: bool
    scan_count: int
    findings: list[FindingRead]
    product: str | None
    lot: str | None


class LabelsPrint(BaseModel):
    first_serial: int = Field(ge=1, description="the first serial of the sheet")
    count: int = Field(ge=1, le=480, description="labels on the sheet (24 per A4 page)")


class CodeRead(BaseModel):
    link: str
    svg: str
    key_id: str


class CodeCheck(BaseModel):
    link: str = Field(min_length=1, max_length=2000, description="the scanned Digital Link URI")


class CodeVerdict(BaseModel):
    valid: bool
    reason: str
    gtin: str | None = None
    lot: str | None = None
    serial: str | None = None
    key_id: str | None = None


class BrandKeyRead(BaseModel):
    gtin_prefixes: list[str]
    key_id: str
    algorithm: Literal["Ed25519"] = "Ed25519"
    public_key: str = Field(description="raw 32-byte public key, base64url")


class DisclosureCreate(BaseModel):
    public: list[str] = Field(max_length=20, description="the facts the public page opens")


class DisclosureRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    lot_id: str
    public_fields: list[str]
    digest: str
    ledger_seq: int | None
    manifest: dict[str, Any]
    created_at: datetime


class CheckRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    code: str
    subject: str
    outcome: Literal["pass", "warn", "fail"]
    reason: str
    evidence: dict[str, Any]
    checked_at: datetime


class FarmChecks(BaseModel):
    farm_id: str
    passed: int
    warned: int
    failed: int


Cover = Literal["food_safety", "authenticity"]


class PolicyCreate(BaseModel):
    product_id: str
    lot_id: str | None = None
    cover: Cover
    units: int = Field(ge=1, le=100_000_000)
    sum_insured: Decimal = Field(gt=0, le=Decimal("1e11"), max_digits=14, decimal_places=2)
    starts_on: datetime
    ends_on: datetime


class PolicyRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    product_id: str
    lot_id: str | None
    cover: Cover
    units: int
    sum_insured: Decimal
    premium: Decimal
    starts_on: datetime
    ends_on: datetime


class ClaimCreate(BaseModel):
    policy_id: str
    description: str = Field(min_length=1, max_length=2000)
    gtin: str | None = Field(default=None, pattern=r"^\d{14}$")
    serial: str | None = Field(default=None, min_length=1, max_length=20)


class SuspiciousReport(BaseModel):
    gtin: str = Field(pattern=r"^\d{14}$")
    serial: str = Field(min_length=1, max_length=20)
    description: str = Field(min_length=1, max_length=2000)


class ClaimRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    policy_id: str
    cover: Cover
    gtin: str | None
    serial: str | None
    description: str
    status: Literal["open", "approved", "rejected", "settled"]
    amount: Decimal | None
    decision: dict[str, Any] | None
    decision_seq: int | None
    opened_at: datetime
    decided_at: datetime | None
    settled_at: datetime | None


class ReportAccepted(BaseModel):
    case: str
    status: str
