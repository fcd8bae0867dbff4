"""Farms, plots, captured EPCIS events (with their EPCs), error declarations, capture jobs.

An event row is immutable: its identity is the CBV event hash, and the only way to correct it
is an error declaration (its own row, anchored in the ledger like the event). Events are not
audited row by row: each is already a signed-off fact anchored in the ledger, and a 100,000
event document would otherwise write as many audit rows.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, Numeric, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from anxin.core.audit import Audited
from anxin.core.db import ID, Base, new_id

URI = String(400)


class Farm(Audited, Base):
    __tablename__ = "trace_farms"
    __table_args__ = (UniqueConstraint("organisation_id", "code"),)

    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    organisation_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"), index=True)
    code: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(200))
    # The farm's GLN as a canonical Digital Link (https://id.gs1.org/414/…): events whose
    # bizLocation or readPoint is this GLN (or one of its 254 extensions) belong to the farm.
    location: Mapped[str] = mapped_column(URI, unique=True)
    farmer_user_id: Mapped[str | None] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime]


class Plot(Audited, Base):
    __tablename__ = "trace_plots"
    __table_args__ = (UniqueConstraint("farm_id", "code"),)

    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    farm_id: Mapped[str] = mapped_column(ForeignKey("trace_farms.id"), index=True)
    code: Mapped[str] = mapped_column(String(32))
    location: Mapped[str] = mapped_column(URI, unique=True)
    crop: Mapped[str] = mapped_column(String(80))
    area_m2: Mapped[Decimal] = mapped_column(Numeric(14, 1))
    boundary: Mapped[dict[str, Any]] = mapped_column()  # a GeoJSON Polygon (WGS 84)
    created_at: Mapped[datetime]


class CaptureJob(Base):
    """One ``POST /epcis/capture``: polled at ``GET /epcis/capture/{id}``."""

    __tablename__ = "trace_capture_jobs"

    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    organisation_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"), index=True)
    created_by: Mapped[str] = mapped_column(ForeignKey("users.id"))
    running: Mapped[bool]
    success: Mapped[bool]
    captured: Mapped[int] = mapped_column(Integer, default=0)  # new events stored
    duplicates: Mapped[int] = mapped_column(Integer, default=0)  # already known, by hash
    errors: Mapped[list[Any]] = mapped_column()
    created_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]


class TraceEvent(Base):
    __tablename__ = "trace_events"
    __table_args__ = (
        UniqueConstraint("organisation_id", "event_hash"),
        Index("ix_trace_events_org_time", "organisation_id", "event_time", "id"),
    )

    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    organisation_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"))
    farm_id: Mapped[str | None] = mapped_column(ForeignKey("trace_farms.id"), index=True)
    capture_id: Mapped[str | None] = mapped_column(ForeignKey("trace_capture_jobs.id"))
    event_hash: Mapped[str] = mapped_column(String(120))
    event_type: Mapped[str] = mapped_column(String(24))
    event_time: Mapped[datetime]
    record_time: Mapped[datetime]
    action: Mapped[str | None] = mapped_column(String(8))
    biz_step: Mapped[str | None] = mapped_column(URI, index=True)
    disposition: Mapped[str | None] = mapped_column(URI)
    read_point: Mapped[str | None] = mapped_column(URI, index=True)
    biz_location: Mapped[str | None] = mapped_column(URI, index=True)
    body: Mapped[dict[str, Any]] = mapped_column()  # the event as captured
    prefixes: Mapped[dict[str, Any]] = mapped_column()  # its document's custom namespaces
    # The ledger anchors sha256(anchor_salt ‖ digest), not the bare digest: the event hash is a
    # public function of every field, so a bare anchor lets a guesser confirm candidate events.
    # The salt goes only to whoever may read the event. None: anchored bare, before trace_0004.
    anchor_salt: Mapped[str | None] = mapped_column(String(32))
    ledger_seq: Mapped[int | None]


class TraceEventEpc(Base):
    """Every identifier an event names, canonical, for the MATCH_ query parameters."""

    __tablename__ = "trace_event_epcs"

    event_id: Mapped[str] = mapped_column(ForeignKey("trace_events.id"), primary_key=True)
    role: Mapped[str] = mapped_column(String(8), primary_key=True)  # epc parent input output class
    epc: Mapped[str] = mapped_column(URI, primary_key=True, index=True)


class ErrorDeclaration(Base):
    __tablename__ = "trace_error_declarations"

    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    event_id: Mapped[str] = mapped_column(ForeignKey("trace_events.id"), index=True)
    declaration_time: Mapped[datetime]
    reason: Mapped[str | None] = mapped_column(URI)
    corrective_event_ids: Mapped[list[Any]] = mapped_column()
    body: Mapped[dict[str, Any]] = mapped_column()
    recorded_by: Mapped[str] = mapped_column(ForeignKey("users.id"))
    recorded_at: Mapped[datetime]
    anchor_salt: Mapped[str | None] = mapped_column(String(32))  # as on TraceEvent
    ledger_seq: Mapped[int | None]


class Product(Audited, Base):
    """A trade item of the brand: its GTIN-14 and where it is sold."""

    __tablename__ = "trace_products"

    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    organisation_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"), index=True)
    gtin: Mapped[str] = mapped_column(String(14), unique=True)
    name_zh: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))
    sales_region: Mapped[dict[str, Any] | None] = mapped_column()  # GeoJSON (Multi)Polygon
    next_serial: Mapped[int] = mapped_column(BigInteger, default=1)
    created_at: Mapped[datetime]


class Lot(Audited, Base):
    __tablename__ = "trace_lots"
    __table_args__ = (UniqueConstraint("product_id", "code"),)

    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    product_id: Mapped[str] = mapped_column(ForeignKey("trace_products.id"), index=True)
    farm_id: Mapped[str] = mapped_column(ForeignKey("trace_farms.id"), index=True)
    plot_id: Mapped[str | None] = mapped_column(ForeignKey("trace_plots.id"))
    code: Mapped[str] = mapped_column(String(20))  # the GS1 batch/lot (AI 10)
    created_at: Mapped[datetime]


class Unit(Base):
    """One serialised package (SGTIN). Not audited: a harvest issues hundreds of thousands."""

    __tablename__ = "trace_units"
    __table_args__ = (UniqueConstraint("gtin", "serial"),)

    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    lot_id: Mapped[str] = mapped_column(ForeignKey("trace_lots.id"), index=True)
    gtin: Mapped[str] = mapped_column(String(14))
    serial: Mapped[str] = mapped_column(String(20))
    issued_at: Mapped[datetime]
    printed_at: Mapped[datetime | None]


class Scan(Base):
    """A consumer's scan: when, roughly where (rounded), and what it showed."""

    __tablename__ = "trace_scans"
    __table_args__ = (Index("ix_trace_scans_unit_time", "unit_id", "scanned_at"),)

    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    organisation_id: Mapped[str | None] = mapped_column(ForeignKey("organisations.id"), index=True)
    gtin: Mapped[str] = mapped_column(String(14))
    serial: Mapped[str] = mapped_column(String(20))
    unit_id: Mapped[str | None] = mapped_column(ForeignKey("trace_units.id"))
    scanned_at: Mapped[datetime]
    lat: Mapped[float | None]
    lon: Mapped[float | None]
    verdict: Mapped[str] = mapped_column(String(12))  # genuine | suspect | unknown
    findings: Mapped[list[Any]] = mapped_column()


class Disclosure(Base):
    """What a lot's public page may show: salted commitments to every field of the lot's
    events (the manifest, anchored in the ledger by its digest) and which fields are opened.

    The salts are the farm's secret: the public page reveals the salt of a public field only,
    so a hidden field's commitment says nothing about its value.
    """

    __tablename__ = "trace_disclosures"

    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    lot_id: Mapped[str] = mapped_column(ForeignKey("trace_lots.id"), index=True)
    public_fields: Mapped[list[Any]] = mapped_column()
    manifest: Mapped[dict[str, Any]] = mapped_column()  # commitments, no salts
    salts: Mapped[dict[str, Any]] = mapped_column()  # "ref#field" -> salt, "ref#event" (private)
    digest: Mapped[str] = mapped_column(String(64))
    created_by: Mapped[str] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime]
    ledger_seq: Mapped[int | None]


class Check(Base):
    """One cross-validation finding of a lot: a farm claim held against sensors or records."""

    __tablename__ = "trace_checks"

    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    lot_id: Mapped[str] = mapped_column(ForeignKey("trace_lots.id"), index=True)
    farm_id: Mapped[str] = mapped_column(ForeignKey("trace_farms.id"), index=True)
    code: Mapped[str] = mapped_column(String(40))
    subject: Mapped[str] = mapped_column(String(80))  # the claim checked (a day, an input)
    outcome: Mapped[str] = mapped_column(String(8))  # pass | warn | fail
    reason: Mapped[str] = mapped_column(String(400))
    evidence: Mapped[dict[str, Any]] = mapped_column()
    checked_at: Mapped[datetime]


class Policy(Audited, Base):
    """Traceability insurance on a lot or on all of a product (the brand's cover)."""

    __tablename__ = "trace_policies"

    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    organisation_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"), index=True)
    product_id: Mapped[str] = mapped_column(ForeignKey("trace_products.id"), index=True)
    lot_id: Mapped[str | None] = mapped_column(ForeignKey("trace_lots.id"), index=True)
    cover: Mapped[str] = mapped_column(String(16))  # food_safety | authenticity
    units: Mapped[int] = mapped_column(BigInteger)
    sum_insured: Mapped[Decimal] = mapped_column(Numeric(14, 2))
    premium: Mapped[Decimal] = mapped_column(Numeric(14, 2))
    starts_on: Mapped[datetime]
    ends_on: Mapped[datetime]
    created_at: Mapped[datetime]


class Claim(Audited, Base):
    __tablename__ = "trace_claims"

    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    policy_id: Mapped[str] = mapped_column(ForeignKey("trace_policies.id"), index=True)
    cover: Mapped[str] = mapped_column(String(16))
    gtin: Mapped[str | None] = mapped_column(String(14))
    serial: Mapped[str | None] = mapped_column(String(20))
    description: Mapped[str] = mapped_column(String(2000))
    reported_by: Mapped[str | None] = mapped_column(ForeignKey("users.id"))  # None: a consumer
    status: Mapped[str] = mapped_column(String(12))  # open | approved | rejected | settled
    amount: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))
    decision: Mapped[dict[str, Any] | None] = mapped_column()
    decision_seq: Mapped[int | None]
    opened_at: Mapped[datetime]
    decided_at: Mapped[datetime | None]
    settled_at: Mapped[datetime | None]
