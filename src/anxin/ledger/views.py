"""Ledger HTTP API under ``/api/v1/ledger``; thin, all rules live in the service.

Appending and reading entries need an account. Checkpoints and proofs are public: they
reveal only hashes, and witnesses and outside auditors must fetch them without one.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response
from sqlalchemy.orm import Session

from anxin.core.bounds import Count64
from anxin.core.errors import NotFound, PermissionDenied
from anxin.core.security import PUBLIC_ROUTE, Principal
from anxin.ledger import access, merkle, service
from anxin.ledger.models import LedgerEntry
from anxin.ledger.runtime import ledger_keys
from anxin.ledger.schemas import (
    BundleRead,
    CheckpointRead,
    ConsistencyProofRead,
    CosignatureCreate,
    EntryCreate,
    EntryRead,
    InclusionProofRead,
    LedgerInfo,
    b64,
)
from anxin.people.deps import AdminPrincipal, ContextDep, CurrentPrincipal, SessionDep, UnitDep

router = APIRouter(prefix="/api/v1/ledger", tags=["ledger"])


@router.get("", response_model=LedgerInfo, openapi_extra=PUBLIC_ROUTE)
def ledger_info(session: SessionDep, context: ContextDep) -> LedgerInfo:
    """The log's identity and trust policy: pin these keys in your verifier."""
    keys = ledger_keys(context)
    return LedgerInfo(
        origin=keys.signer.name,
        log_key=keys.signer.verifier.vkey,
        witnesses=[w.vkey for w in keys.policy.witnesses],
        quorum=keys.policy.quorum,
        tree_size=service.tree_size(session=session),
    )


@router.post("/entries", response_model=EntryRead, status_code=201)
def append(
    data: EntryCreate,
    principal: CurrentPrincipal,
    session: SessionDep,
    context: ContextDep,
    response: Response,
) -> EntryRead:
    """Anchor a fact for the caller's organisation; a repeat returns the original (200)."""
    if not access.may_append(principal.role, data.entry_type):
        space = access.namespace(data.entry_type)
        raise PermissionDenied(f"role {principal.role.value!r} may not append {space!r} entries")
    before = service.tree_size(session=session)
    entry = service.append_entry(
        session=session,
        entry_type=data.entry_type,
        organisation_id=principal.organisation_id,
        body=data.body,
        payload_sha256=data.payload_sha256,
        now=context.clock.now(),
    )
    if entry.seq < before:
        response.status_code = 200
    return EntryRead.of(entry, show_body=True)


def _entry_for(session: Session, principal: Principal, seq: int) -> tuple[LedgerEntry, bool]:
    entry = service.get_entry(session=session, seq=seq)
    show = access.may_read_body(principal.role, principal.organisation_id, entry.organisation_id)
    return entry, show


@router.get("/entries", response_model=list[EntryRead])
def search_entries(
    principal: CurrentPrincipal,
    session: SessionDep,
    payload_sha256: Annotated[str | None, Query(pattern=r"^[0-9a-fA-F]{64}$")] = None,
    entry_type: Annotated[str | None, Query(max_length=64)] = None,
    organisation_id: Annotated[str | None, Query(max_length=128)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[EntryRead]:
    """Newest first. Is this document anchored? Search by its SHA-256."""
    found = service.find_entries(
        session=session,
        payload_sha256=payload_sha256,
        entry_type=entry_type,
        organisation_id=organisation_id,
        limit=limit,
    )
    return [
        EntryRead.of(
            e,
            show_body=access.may_read_body(
                principal.role, principal.organisation_id, e.organisation_id
            ),
        )
        for e in found
    ]


@router.delete("/entries/{seq}/body", response_model=EntryRead)
def erase_body(seq: Count64, principal: AdminPrincipal, uow: UnitDep) -> EntryRead:
    """Erase a stored body (retention, personal data); its hash and all proofs remain.
    Only an admin of the organisation that submitted the entry may erase its body."""
    entry = service.erase_body(uow=uow, seq=seq, organisation_id=principal.organisation_id)
    return EntryRead.of(entry, show_body=True)


@router.get("/entries/{seq}", response_model=EntryRead)
def read_entry(seq: Count64, principal: CurrentPrincipal, session: SessionDep) -> EntryRead:
    entry, show = _entry_for(session, principal, seq)
    return EntryRead.of(entry, show_body=show)


# exclude_unset: a withheld body is left out of the bundle rather than sent as null.
@router.get("/entries/{seq}/bundle", response_model_exclude_unset=True)
def read_bundle(
    seq: Count64,
    principal: CurrentPrincipal,
    session: SessionDep,
    context: ContextDep,
) -> BundleRead:
    """Evidence for ``anxin ledger verify``: leaf, proof and the newest checkpoint that
    meets the witness quorum (or the newest checkpoint if none does yet)."""
    entry, show = _entry_for(session, principal, seq)
    quorum = ledger_keys(context).policy.quorum
    cp = service.latest_checkpoint(session=session, min_cosignatures=quorum)
    if cp is None or cp.size <= seq:
        cp = service.latest_checkpoint(session=session)
    if cp is None:
        raise NotFound("no checkpoint has been published yet")
    bundle = service.evidence(session=session, seq=entry.seq, checkpoint=cp, include_body=show)
    return BundleRead.model_validate(bundle.to_json())


@router.get("/proofs/inclusion", response_model=InclusionProofRead, openapi_extra=PUBLIC_ROUTE)
def inclusion(
    session: SessionDep,
    index: Annotated[Count64, Query()],
    tree_size: Annotated[Count64, Query(ge=1)],
) -> InclusionProofRead:
    entry = service.get_entry(session=session, seq=index)
    proof = service.inclusion_proof(session=session, seq=index, size=tree_size)
    return InclusionProofRead(
        index=index,
        tree_size=tree_size,
        leaf_hash=b64(merkle.leaf_hash(bytes(entry.leaf))),
        proof=[b64(p) for p in proof],
    )


@router.get("/proofs/consistency", response_model=ConsistencyProofRead, openapi_extra=PUBLIC_ROUTE)
def consistency(
    session: SessionDep,
    first: Annotated[Count64, Query(ge=1)],
    second: Annotated[Count64, Query(ge=1)],
) -> ConsistencyProofRead:
    proof = service.consistency_proof(session=session, first=first, second=second)
    return ConsistencyProofRead(first=first, second=second, proof=[b64(p) for p in proof])


@router.get("/checkpoint", response_model=CheckpointRead, openapi_extra=PUBLIC_ROUTE)
def latest(
    session: SessionDep,
    min_cosignatures: Annotated[Count64, Query()] = 0,
) -> CheckpointRead:
    """The newest checkpoint (with at least ``min_cosignatures`` witness cosignatures)."""
    cp = service.latest_checkpoint(session=session, min_cosignatures=min_cosignatures)
    if cp is None:
        raise NotFound("no checkpoint has been published yet")
    return CheckpointRead.of(cp)


@router.get("/checkpoints/{size}", response_model=CheckpointRead, openapi_extra=PUBLIC_ROUTE)
def checkpoint_at(size: Count64, session: SessionDep) -> CheckpointRead:
    return CheckpointRead.of(service.get_checkpoint(session=session, size=size))


@router.post("/checkpoints", response_model=CheckpointRead, status_code=201)
def checkpoint_on_demand(_: AdminPrincipal, uow: UnitDep, context: ContextDep) -> CheckpointRead:
    """Sign the current tree now instead of waiting for the interval."""
    cp = service.publish_checkpoint(uow=uow, signer=ledger_keys(context).signer)
    return CheckpointRead.of(cp)


@router.post(
    "/checkpoints/{size}/cosignatures", response_model=CheckpointRead, openapi_extra=PUBLIC_ROUTE
)
def add_cosignature(
    size: Count64, data: CosignatureCreate, session: SessionDep, context: ContextDep
) -> CheckpointRead:
    """A witness hands back its cosignature; the signature itself is the credential."""
    cp = service.add_cosignature(
        session=session,
        size=size,
        line=data.cosignature,
        witnesses=list(ledger_keys(context).policy.witnesses),
    )
    return CheckpointRead.of(cp)
