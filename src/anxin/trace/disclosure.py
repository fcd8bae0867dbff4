"""A lot's life as the public sees it: selective disclosure with salted commitments.

The farm publishes a *manifest* for a lot: for every event of the lot a commitment to each of a
fixed set of facts, ``sha256(salt ‖ JCS([ref, field, value]))`` with a fresh 16-byte salt per
fact. An event is named by a salted reference, ``ref = sha256(salt ‖ event hash)``, never by
its CBV event hash or ledger number: those are public functions of *all* the event's fields
(the hash directly, the number through its ledger leaf), so naming events by them let anyone
guess a hidden field with few possible values by hashing candidate events. The
manifest's digest is appended to the ledger, so once a cosigned checkpoint covers it nobody
(the farm included) can change what was committed. The public page then *opens* the fields
the farm chose to make public (value and salt) and nothing else: a consumer recomputes each
opening's commitment, the manifest's digest, the leaf and the Merkle path up to the signed
root. A hidden field stays a random looking hash.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.orm import Session

from anxin.core.errors import InvalidInput, PermissionDenied, RuleViolation
from anxin.core.security import Principal, Role
from anxin.core.unit import UnitOfWork
from anxin.ledger import service as ledger
from anxin.ledger.entry import canonical_json
from anxin.ledger.service import NewEntry
from anxin.trace import vocab
from anxin.trace.models import Disclosure, Lot, Plot, Product, TraceEvent, TraceEventEpc

ENTRY_TYPE = "trace.disclosure"
# The facts a lot's page can show, in display order. ``place`` (the exact plot) is the one a
# farm most often keeps private: a competitor or a thief learns nothing from its commitment.
FIELDS = (
    "step",
    "time",
    "place",
    "quantity",
    "input",
    "organic",
    "variety",
    "certification",
    "weather",
)
DEFAULT_PUBLIC = ("step", "time", "quantity", "input", "organic", "variety", "certification")


def _step(body: Mapping[str, Any]) -> str | None:
    raw = body.get("bizStep")
    if not isinstance(raw, str):
        return None
    farm = vocab.farm_step(raw)
    if farm:
        return farm
    uri = vocab.vocab_uri("bizStep", raw)
    return (uri or raw).rsplit("-", 1)[-1] if uri else raw


def facts(body: Mapping[str, Any]) -> dict[str, str]:
    """The disclosable facts of one event, every value a string (so commitments are plain)."""
    out: dict[str, str] = {}
    step = _step(body)
    if step:
        out["step"] = step
    if isinstance(body.get("eventTime"), str):
        out["time"] = str(body["eventTime"])
    place = (body.get("readPoint") or body.get("bizLocation") or {}).get("id")
    if isinstance(place, str):
        out["place"] = place
    quantities = body.get("quantityList") or body.get("outputQuantityList") or []
    if quantities and isinstance(quantities[0], Mapping) and "quantity" in quantities[0]:
        q = quantities[0]
        out["quantity"] = f"{q['quantity']} {q.get('uom', '')}".strip()
    applied = body.get("anxin:input")
    if isinstance(applied, Mapping):
        out["input"] = str(applied.get("product", ""))
        out["organic"] = "true" if applied.get("organic") is True else "false"
    ilmd = body.get("ilmd")
    if isinstance(ilmd, Mapping) and isinstance(ilmd.get("anxin:variety"), str):
        out["variety"] = str(ilmd["anxin:variety"])
    if isinstance(body.get("certificationInfo"), str):
        out["certification"] = str(body["certificationInfo"])
    if isinstance(body.get("anxin:weather"), str):
        out["weather"] = str(body["anxin:weather"])
    return out


def commitment(salt_hex: str, event: str, field: str, value: str) -> str:
    return hashlib.sha256(
        bytes.fromhex(salt_hex) + canonical_json([event, field, value])
    ).hexdigest()


def reference(salt_hex: str, event_hash: str) -> str:
    """An event's name in a manifest: only whoever is given the salt can link it to the event."""
    return hashlib.sha256(bytes.fromhex(salt_hex) + event_hash.encode()).hexdigest()


def manifest_digest(manifest: Mapping[str, Any]) -> str:
    return hashlib.sha256(canonical_json(dict(manifest))).hexdigest()


def lot_events(session: Session, lot: Lot, product: Product) -> list[TraceEvent]:
    """The lot's events: on its plot (the field work) or naming its LGTIN (from harvest on)."""
    lgtin = f"{vocab.DL_HOST}/01/{product.gtin}/10/{lot.code}"
    plot = session.get(Plot, lot.plot_id) if lot.plot_id else None
    named = select(TraceEventEpc.event_id).where(TraceEventEpc.epc == lgtin)
    where: list[ColumnElement[bool]] = [TraceEvent.id.in_(named)]
    if plot is not None:
        where += [TraceEvent.read_point == plot.location, TraceEvent.biz_location == plot.location]
    return list(
        session.scalars(
            select(TraceEvent)
            .where(TraceEvent.farm_id == lot.farm_id, or_(*where))
            .order_by(TraceEvent.event_time, TraceEvent.id)
        )
    )


def publish(
    *, uow: UnitOfWork, principal: Principal, lot: Lot, product: Product, public: Sequence[str]
) -> Disclosure:
    if principal.role not in (Role.ADMIN, Role.FARMER):
        raise PermissionDenied("the farm or the brand decides what a lot's page discloses")
    unknown = [f for f in public if f not in FIELDS]
    if unknown:
        raise InvalidInput.field("public", f"unknown fields {unknown}; known: {list(FIELDS)}")
    events = lot_events(uow.session, lot, product)
    if not events:
        raise RuleViolation("the lot has no recorded events to disclose yet")
    salts: dict[str, str] = {}
    entries = []
    for row in events:
        ref_salt = secrets.token_hex(16)
        ref = reference(ref_salt, row.event_hash)
        # The private side: which event a reference names, and the salt that proves it.
        salts[f"{ref}#event"] = row.event_hash
        salts[f"{ref}#ref"] = ref_salt
        committed = {}
        for name, value in facts(row.body).items():
            salt = secrets.token_hex(16)
            salts[f"{ref}#{name}"] = salt
            committed[name] = commitment(salt, ref, name, value)
        entries.append({"ref": ref, "fields": committed})
    manifest = {"gtin": product.gtin, "lot": lot.code, "events": entries}
    digest = manifest_digest(manifest)
    (seq,) = ledger.append_entries(
        session=uow.session,
        entries=[NewEntry(ENTRY_TYPE, product.organisation_id, payload_sha256=digest)],
        now=uow.now(),
    )
    made = Disclosure(
        lot_id=lot.id,
        public_fields=[f for f in FIELDS if f in public],
        manifest=manifest,
        salts=salts,
        digest=digest,
        created_by=principal.user_id,
        created_at=uow.now(),
        ledger_seq=seq,
    )
    uow.session.add(made)
    uow.session.flush()
    return made


def latest(session: Session, lot_id: str) -> Disclosure | None:
    return session.scalar(
        select(Disclosure)
        .where(Disclosure.lot_id == lot_id)
        .order_by(Disclosure.created_at.desc(), Disclosure.id.desc())
        .limit(1)
    )


@dataclass(frozen=True, slots=True)
class Opened:
    """One event on the public page: its opened facts and the commitments of the rest."""

    ref: str
    opened: dict[str, dict[str, str]]  # field -> {value, salt}
    hidden: dict[str, str]  # field -> commitment

    def value(self, name: str) -> str | None:
        item = self.opened.get(name)
        return item["value"] if item else None


def ref_of(entry: Mapping[str, Any]) -> str:
    """A manifest entry's name. Manifests published before salted references named events
    by their hash (``event``); they still verify, and republishing replaces them."""
    return str(entry["ref"] if "ref" in entry else entry["event"])


def openings(session: Session, disclosure: Disclosure) -> list[Opened]:
    """Open the public fields of the manifest (values recomputed from the stored events)."""
    refs = [ref_of(e) for e in disclosure.manifest["events"]]
    hashes = {ref: str(disclosure.salts.get(f"{ref}#event", ref)) for ref in refs}
    bodies = {
        r.event_hash: r.body
        for r in session.scalars(
            select(TraceEvent).where(TraceEvent.event_hash.in_(list(hashes.values())))
        )
    }
    out = []
    for entry, ref in zip(disclosure.manifest["events"], refs, strict=True):
        values = facts(bodies.get(hashes[ref], {}))
        opened, hidden = {}, {}
        for name, committed in entry["fields"].items():
            if name in disclosure.public_fields and name in values:
                salt = disclosure.salts[f"{ref}#{name}"]
                opened[name] = {"value": values[name], "salt": salt}
            else:
                hidden[name] = committed
        out.append(Opened(ref, opened, hidden))
    return out


def check_openings(manifest: Mapping[str, Any], opened: Sequence[Opened]) -> list[str]:
    """What does not verify (empty when everything does): each opening against its commitment."""
    committed = {ref_of(e): e["fields"] for e in manifest["events"]}
    problems = []
    for item in opened:
        for name, o in item.opened.items():
            want = committed.get(item.ref, {}).get(name)
            if commitment(o["salt"], item.ref, name, o["value"]) != want:
                problems.append(f"{item.ref} {name}")
    return problems


def proof_for(session: Session, seq: int | None) -> tuple[dict[str, Any], str] | None:
    """The manifest's inclusion proof (a ledger bundle) under the newest checkpoint that
    covers it, and that checkpoint's signed note."""
    if seq is None:
        return None
    cp = ledger.latest_checkpoint(session=session)
    if cp is None or cp.size <= seq:
        return None
    bundle = ledger.evidence(session=session, seq=seq, checkpoint=cp, include_body=False)
    return bundle.to_json(), cp.note
