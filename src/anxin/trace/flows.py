"""Bus handlers of the trace domain: anchor captured events in the ledger.

The in-process bus runs this inside the capturing unit of work, so an event and its ledger
leaf commit together; on JetStream it runs after commit in its own unit and fills
``ledger_seq`` then. Only a blinded hash is anchored (the ledger's ``payload_sha256`` is
``sha256(anchor salt ‖ event digest)``): the farm's records stay private, whoever holds an event
*and its salt* can find and verify its leaf, and a guesser hashing candidate events cannot.
"""

from __future__ import annotations

from sqlalchemy import select

from anxin.core.events import Event
from anxin.core.unit import UnitOfWork
from anxin.ledger.service import NewEntry, append_entries
from anxin.trace.models import ErrorDeclaration, TraceEvent
from anxin.trace.service import declaration_anchor, event_anchor

EVENT_ENTRY = "trace.epcis_event"
DECLARATION_ENTRY = "trace.epcis_error_declaration"


def on_captured(uow: UnitOfWork, event: Event) -> None:
    org = str(event.payload["organisation_id"])
    session = uow.session
    ids = [str(i) for i in event.payload.get("events", [])]
    rows: list[TraceEvent] = []
    for start in range(0, len(ids), 500):
        rows += session.scalars(
            select(TraceEvent).where(TraceEvent.id.in_(ids[start : start + 500]))
        )
    decl_ids = [str(i) for i in event.payload.get("declarations", [])]
    decls = list(session.scalars(select(ErrorDeclaration).where(ErrorDeclaration.id.in_(decl_ids))))
    entries = [NewEntry(EVENT_ENTRY, org, payload_sha256=event_anchor(r)) for r in rows]
    entries += [
        NewEntry(DECLARATION_ENTRY, org, payload_sha256=declaration_anchor(d)) for d in decls
    ]
    seqs = append_entries(session=session, entries=entries, now=event.occurred_at)
    for row, seq in zip(rows, seqs[: len(rows)], strict=True):
        row.ledger_seq = seq
    for decl, seq in zip(decls, seqs[len(rows) :], strict=True):
        decl.ledger_seq = seq
    session.flush()
