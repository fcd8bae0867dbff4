"""The ledger's service layer: append facts, serve proofs, publish and cosign checkpoints.

Functions are keyword-only, take the caller's ``session``, flush and never commit: an
anchored fact commits (or rolls back) with the business change that anchored it.

Other domains call::

    from anxin.ledger.service import append_entry
    entry = append_entry(
        session=session,
        entry_type="collateral.receipt",     # lower-case dotted name of the fact
        organisation_id=principal.organisation_id,
        body={"receipt": "WR-2026-0001", ...},  # any JSON; or payload_sha256="<hex>"
        now=now,
    )
    entry.seq  # its permanent index in the log; proofs are served once a checkpoint covers it
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, delete, func, insert, select, text, union_all, update
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session
from sqlalchemy.sql import ColumnElement

from anxin.core.audit import AuditLog
from anxin.core.errors import AnxinError, InvalidInput, NotFound, PermissionDenied, RuleViolation
from anxin.core.events import Event
from anxin.core.unit import UnitOfWork
from anxin.ledger import merkle
from anxin.ledger.config import LedgerSettings
from anxin.ledger.entry import (
    EntryError,
    Envelope,
    canonical_json,
    check_body,
    format_time,
    parse_leaf,
)
from anxin.ledger.merkle import NodeId
from anxin.ledger.models import (
    LedgerCheckpoint,
    LedgerEntry,
    LedgerFactIndex,
    LedgerNode,
    LedgerRecentFact,
    LedgerTree,
    node_key,
)
from anxin.ledger.note import (
    Checkpoint,
    Note,
    NoteError,
    Signer,
    Verifier,
    parse_checkpoint,
    parse_note,
    parse_signature_lines,
    sign_note,
    verified_signatures,
)
from anxin.ledger.verify import Bundle

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 64 * 1024  # facts, not documents: anchor a large file by its hash
_IN_CHUNK = 500  # stay far below every driver's bound-parameter limit
TREE_ROW = 1


class LedgerIntegrityError(AnxinError):
    """Stored ledger data contradicts itself: someone changed the database underneath us."""

    status_code = 500
    code = "ledger_integrity"


@dataclass(frozen=True, slots=True)
class NewEntry:
    """One fact to append: a JSON ``body``, or only its ``payload_sha256`` (hex), or both."""

    entry_type: str
    organisation_id: str
    body: Any = None
    payload_sha256: str | None = None


@dataclass(slots=True)
class AuditReport:
    size: int = 0
    checkpoints: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def _publish(uow: UnitOfWork, subject: str, payload: dict[str, Any], at: datetime) -> None:
    uow.publish(Event(subject=subject, payload=payload, occurred_at=at))


def _chunks(items: Sequence[Any], size: int = _IN_CHUNK) -> Iterable[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


# --- appending --------------------------------------------------------------------------


def _prepare(item: NewEntry, at: str) -> tuple[Envelope, str | None]:
    body_text: str | None = None
    digest = item.payload_sha256.lower() if item.payload_sha256 else None
    try:
        if item.body is not None:
            raw = canonical_json(item.body)
            if len(raw) > MAX_BODY_BYTES:
                raise InvalidInput.field(
                    "body", f"larger than {MAX_BODY_BYTES} bytes; anchor its hash instead"
                )
            body_text = raw.decode("utf-8")
            env_digest = hashlib.sha256(raw).hexdigest()
            if digest is not None and digest != env_digest:
                raise InvalidInput.field("payload_sha256", "does not match the body")
            digest = env_digest
        if digest is None:
            raise InvalidInput("give a JSON body or its payload_sha256")
        env = Envelope(item.entry_type, item.organisation_id, at, digest)
    except EntryError as exc:
        raise InvalidInput(str(exc)) from exc
    return env, body_text


def _lock_head(session: Session, at: datetime) -> tuple[int, int]:
    """Take the ledger's write lock; return the current size and the merged boundary.

    A no-op UPDATE takes a row lock on PostgreSQL and the write lock on SQLite, so two
    writers cannot both read size n and both append leaf n, and a merge never moves keys
    between the dedup levels while an append is looking them up.
    """
    bump = (
        update(LedgerTree)
        .where(LedgerTree.id == TREE_ROW)
        .values(size=LedgerTree.size)
        .execution_options(synchronize_session=False)
    )
    if session.execute(bump).rowcount == 0:  # type: ignore[attr-defined]
        session.execute(
            insert(LedgerTree).values(id=TREE_ROW, size=0, merged_size=0, updated_at=at)
        )
        return 0, 0
    size, merged = session.execute(
        select(LedgerTree.size, LedgerTree.merged_size).where(LedgerTree.id == TREE_ROW)
    ).one()
    return int(size), int(merged)


def _lock_tree(session: Session, at: datetime) -> int:
    return _lock_head(session, at)[0]


@dataclass(frozen=True, slots=True)
class DedupTuning:
    merge_rows: int
    sqlite_cache_mib: int


@functools.cache
def dedup_tuning() -> DedupTuning:
    """The merge threshold and page cache, read from the environment once per process."""
    settings = LedgerSettings()
    return DedupTuning(settings.merge_rows, settings.sqlite_cache_mib)


def _size_sqlite_cache(session: Session) -> None:
    """A page cache that holds the fact-key index's hot pages (per connection; SQLite's
    default 2 MB holds ~500 pages). Set on every append: the ledger does not own the pool."""
    mib = dedup_tuning().sqlite_cache_mib
    if mib and session.get_bind().dialect.name == "sqlite":
        session.execute(text(f"PRAGMA cache_size = -{mib * 1024}"))  # an int from settings


_ENTRY_COLUMNS = (
    "seq",
    "entry_type",
    "organisation_id",
    "submitted_at",
    "payload_sha256",
    "fact_key",
    "leaf",
    "body",
)


def _bind_value(conn: Connection, column: ColumnElement[Any], value: Any) -> Any:
    """``value`` as the driver wants it for ``column`` (e.g. our UTC datetime handling)."""
    proc = column.type.bind_processor(conn.dialect)
    return proc(value) if proc else value


def _insert_many(
    conn: Connection, table: Table, columns: Sequence[str], rows: list[tuple[Any, ...]]
) -> None:
    """Driver-level executemany: the hot path of appends.

    SQLAlchemy's per-row parameter processing costs more than the hashing here, and every
    value is already in driver form (str, int, bytes, the pre-bound timestamp).
    """
    style = conn.dialect.paramstyle
    if style == "qmark":
        mark = "?"
    elif style in ("format", "pyformat"):
        mark = "%s"
    else:  # an unusual driver: let SQLAlchemy do it
        conn.execute(insert(table), [dict(zip(columns, r, strict=True)) for r in rows])
        return
    quote = conn.dialect.identifier_preparer.quote
    sql = (
        f"INSERT INTO {quote(table.name)} ({', '.join(quote(c) for c in columns)}) "  # noqa: S608
        f"VALUES ({', '.join([mark] * len(columns))})"
    )
    conn.exec_driver_sql(sql, rows)  # identifiers come from our own table metadata


def tree_size(*, session: Session) -> int:
    size = session.execute(select(LedgerTree.size).where(LedgerTree.id == TREE_ROW)).scalar()
    return int(size or 0)


def read_nodes(session: Session, ids: Iterable[NodeId]) -> dict[NodeId, bytes]:
    """Stored subtree hashes for ``ids``, in one query per 500 ids; all must exist."""
    wanted = {node_key(n.level, n.idx): n for n in ids}
    keys = list(wanted)
    out: dict[NodeId, bytes] = {}
    for chunk in _chunks(keys):
        rows = session.execute(
            select(LedgerNode.key, LedgerNode.hash).where(LedgerNode.key.in_(chunk))
        )
        for key, digest in rows:
            out[wanted[int(key)]] = bytes(digest)
    if len(out) != len(wanted):
        missing = sorted(set(wanted.values()) - set(out))[:5]
        raise LedgerIntegrityError(f"ledger nodes missing from storage: {missing}")
    return out


def _reader(session: Session) -> merkle.NodeReader:
    def read(ids: Iterable[NodeId]) -> Mapping[NodeId, bytes]:
        return read_nodes(session, ids)

    return read


def _known_facts(session: Session, key64: Iterable[int]) -> dict[tuple[str, str, str], int]:
    """The logged facts whose 64-bit key is one of ``key64``, from both dedup levels."""
    known: dict[tuple[str, str, str], int] = {}
    for chunk in _chunks(sorted(set(key64))):
        # Candidates by the 64-bit key; the full fact decides (two facts may share 64 bits).
        candidates = union_all(
            select(LedgerRecentFact.seq).where(LedgerRecentFact.fact_key.in_(chunk)),
            select(LedgerFactIndex.seq).where(LedgerFactIndex.fact_key.in_(chunk)),
        )
        rows = session.execute(
            select(
                LedgerEntry.payload_sha256,
                LedgerEntry.entry_type,
                LedgerEntry.organisation_id,
                LedgerEntry.seq,
            ).where(LedgerEntry.seq.in_(candidates))
        )
        known.update({(p, t, o): int(s) for p, t, o, s in rows})
    return known


def append_entries(*, session: Session, entries: Sequence[NewEntry], now: datetime) -> list[int]:
    """Append many facts in one go; returns their sequence numbers in input order.

    O(log n) reads plus about two node writes per entry. A fact already in the log (same
    type, organisation and payload hash) is not appended again: its existing number is
    returned, so retries are safe. New fact keys go to the small recent level, which the
    ledger's merge worker (`runtime.merge_fact_keys`) empties into the big index.
    """
    at = now
    try:
        stamp = format_time(at)
    except EntryError as exc:
        raise InvalidInput(str(exc)) from exc
    prepared = [_prepare(item, stamp) for item in entries]
    if not prepared:
        return []
    _size_sqlite_cache(session)
    size = _lock_tree(session, at)
    keys = [env.fact_key() for env, _ in prepared]
    key64 = [env.fact_key64() for env, _ in prepared]
    known = _known_facts(session, key64)

    edge_ids = merkle.CompactRange.edge_ids(size)
    edge = read_nodes(session, edge_ids)
    acc = merkle.CompactRange(size, [edge[i] for i in edge_ids])
    entry_rows: list[tuple[Any, ...]] = []
    node_rows: list[tuple[Any, ...]] = []
    stamp_db = _bind_value(session.connection(), LedgerEntry.__table__.c.submitted_at, at)
    out: list[int] = []
    for (env, body_text), key, k64 in zip(prepared, keys, key64, strict=True):
        seq = known.get(key)
        if seq is None:
            seq = acc.size
            known[key] = seq
            leaf = env.leaf()
            entry_rows.append(
                (
                    seq,
                    env.entry_type,
                    env.organisation,
                    stamp_db,
                    env.payload_sha256,
                    k64,
                    leaf,
                    body_text,
                )
            )
            for node, digest in acc.append(merkle.leaf_hash(leaf)):
                node_rows.append((node_key(node.level, node.idx), digest))
        out.append(seq)
    if entry_rows:
        conn = session.connection()
        _insert_many(conn, cast(Table, LedgerEntry.__table__), _ENTRY_COLUMNS, entry_rows)
        _insert_many(conn, cast(Table, LedgerNode.__table__), ("key", "hash"), node_rows)
        # In key order: the batch walks the small recent B-tree once, front to back.
        recent = sorted((row[5], row[0]) for row in entry_rows)
        _insert_many(conn, cast(Table, LedgerRecentFact.__table__), ("fact_key", "seq"), recent)
        session.execute(
            update(LedgerTree)
            .where(LedgerTree.id == TREE_ROW)
            .values(size=acc.size, updated_at=at)
            .execution_options(synchronize_session=False)
        )
    return out


# --- the two dedup levels ---------------------------------------------------------------


def merge_recent_facts(*, session: Session, limit: int, now: datetime) -> int:
    """Move the oldest ``limit`` (at most) recent fact keys into the big fact-key index.

    Under the append lock, in key order: the index's pages are then rewritten once per merge
    and in file order, not once per append at random. Returns how many keys moved. The
    caller commits; a crash before that leaves every key where it was.
    """
    _size_sqlite_cache(session)
    size, merged = _lock_head(session, now)
    upto = min(size, merged + limit)
    if upto <= merged:
        return 0
    below = LedgerRecentFact.seq < upto
    # Every entry in [merged, upto) has exactly one recent key; anything else is tampering.
    found = session.execute(select(func.count()).where(below)).scalar_one()
    if found != upto - merged:
        raise LedgerIntegrityError(
            f"recent fact keys below {upto}: {found} stored, {upto - merged} expected"
        )
    oldest = (
        select(LedgerRecentFact.fact_key, LedgerRecentFact.seq)
        .where(below)
        .order_by(LedgerRecentFact.fact_key, LedgerRecentFact.seq)
    )
    session.execute(insert(LedgerFactIndex).from_select(["fact_key", "seq"], oldest))
    session.execute(delete(LedgerRecentFact).where(below))
    session.execute(
        update(LedgerTree)
        .where(LedgerTree.id == TREE_ROW)
        .values(merged_size=upto)
        .execution_options(synchronize_session=False)
    )
    return upto - merged


def merge_if_due(*, session: Session, now: datetime, threshold: int | None = None) -> int:
    """One bounded merge if the recent level holds ``threshold`` keys (default: the
    configured ``merge_rows``). The caller commits: the merge is its own short transaction."""
    rows = threshold or dedup_tuning().merge_rows
    size, merged = session.execute(
        select(LedgerTree.size, LedgerTree.merged_size).where(LedgerTree.id == TREE_ROW)
    ).one_or_none() or (0, 0)
    if size - merged < rows:
        return 0
    return merge_recent_facts(session=session, limit=rows, now=now)


def append_entry(
    *,
    session: Session,
    entry_type: str,
    organisation_id: str,
    body: Any = None,
    payload_sha256: str | None = None,
    now: datetime,
) -> LedgerEntry:
    """Anchor one fact in the ledger and return its stored entry.

    ``entry_type``: lower-case dotted name, e.g. ``"trace.event"``, ``"lending.dual_recording"``.
    ``organisation_id``: the submitting organisation (recorded in the signed leaf).
    ``body``: any JSON value (stored in RFC 8785 canonical form, at most 64 KiB); or give
    only ``payload_sha256`` (hex SHA-256 of the canonical body or of a file) to keep the
    content off the ledger. A repeat of an earlier fact returns the earlier entry.
    Raises ``InvalidInput`` for a bad type, body or hash.
    """
    item = NewEntry(entry_type, organisation_id, body, payload_sha256)
    (seq,) = append_entries(session=session, entries=[item], now=now)
    return get_entry(session=session, seq=seq)


# --- reading and proving ----------------------------------------------------------------


def get_entry(*, session: Session, seq: int) -> LedgerEntry:
    entry = session.get(LedgerEntry, seq)
    if entry is None:
        raise NotFound(f"ledger entry {seq} not found")
    return entry


def find_entries(
    *,
    session: Session,
    payload_sha256: str | None = None,
    organisation_id: str | None = None,
    entry_type: str | None = None,
    limit: int = 100,
) -> list[LedgerEntry]:
    stmt = select(LedgerEntry).order_by(LedgerEntry.seq.desc()).limit(min(limit, 1000))
    if payload_sha256:
        stmt = stmt.where(LedgerEntry.payload_sha256 == payload_sha256.lower())
    if organisation_id:
        stmt = stmt.where(LedgerEntry.organisation_id == organisation_id)
    if entry_type:
        stmt = stmt.where(LedgerEntry.entry_type == entry_type)
    return list(session.execute(stmt).scalars())


def erase_body(*, uow: UnitOfWork, seq: int, organisation_id: str) -> LedgerEntry:
    """Drop an entry's stored body (e.g. personal data past its retention).

    The leaf keeps the body's hash, so every proof still holds and whoever kept a copy of
    the body can still prove it was this entry. Only the submitting organisation may erase:
    another's retention is not ours to decide.
    """
    session = uow.session
    entry = get_entry(session=session, seq=seq)
    if entry.organisation_id != organisation_id:
        raise PermissionDenied("only the organisation that submitted an entry may erase its body")
    if entry.body is not None:
        entry.body = None
        # Recorded by hand: the generic audit snapshot would copy the body we are erasing.
        session.add(
            AuditLog(
                at=uow.now(),
                actor=uow.actor,
                action="erase_body",
                entity_type=LedgerEntry.__tablename__,
                entity_id=str(seq),
                before={"payload_sha256": entry.payload_sha256, "body": "erased"},
                after=None,
            )
        )
    session.flush()
    return entry


def entry_body(entry: LedgerEntry) -> Any:
    return None if entry.body is None else json.loads(entry.body)


def root_hash(*, session: Session, size: int) -> bytes:
    return merkle.root_at(size, _reader(session))


def inclusion_proof(*, session: Session, seq: int, size: int) -> list[bytes]:
    """Audit path of entry ``seq`` in the tree of ``size`` leaves: O(log n) rows, one query."""
    current = tree_size(session=session)
    if not 0 <= seq < size or size > current:
        raise InvalidInput(
            f"no inclusion proof for entry {seq} in a tree of {size} (log has {current})"
        )
    return merkle.prove_inclusion(seq, size, _reader(session))


def consistency_proof(*, session: Session, first: int, second: int) -> list[bytes]:
    current = tree_size(session=session)
    if not 0 < first <= second <= current:
        raise InvalidInput(
            f"no consistency proof from {first} to {second} (log has {current}; first must be > 0)"
        )
    return merkle.prove_consistency(first, second, _reader(session))


# --- checkpoints and cosignatures --------------------------------------------------------


def publish_checkpoint(*, uow: UnitOfWork, signer: Signer) -> LedgerCheckpoint:
    """Sign the current tree head, unless a checkpoint of this size already exists."""
    session = uow.session
    at = uow.now()
    # Under the append lock: a second publisher waits and then finds this checkpoint.
    size = _lock_tree(session, at)
    root = root_hash(session=session, size=size)
    existing = session.get(LedgerCheckpoint, size)
    if existing is not None:
        if bytes(existing.root_hash) != root:
            raise LedgerIntegrityError(
                f"stored checkpoint at size {size} does not match the stored tree"
            )
        return existing
    note = sign_note(Checkpoint(signer.name, size, root).body(), signer)
    row = LedgerCheckpoint(
        size=size, root_hash=root, note=note.render(), cosignatures=0, created_at=at
    )
    session.add(row)
    session.flush()
    _publish(uow, "ledger.checkpoint.published", {"size": size, "root_hash": root.hex()}, at)
    return row


def latest_checkpoint(*, session: Session, min_cosignatures: int = 0) -> LedgerCheckpoint | None:
    stmt = (
        select(LedgerCheckpoint)
        .where(LedgerCheckpoint.cosignatures >= min_cosignatures)
        .order_by(LedgerCheckpoint.size.desc())
        .limit(1)
    )
    return session.execute(stmt).scalar_one_or_none()


def get_checkpoint(*, session: Session, size: int) -> LedgerCheckpoint:
    cp = session.get(LedgerCheckpoint, size)
    if cp is None:
        raise NotFound(f"no checkpoint at size {size}")
    return cp


def add_cosignature(
    *, session: Session, size: int, line: str, witnesses: Sequence[Verifier]
) -> LedgerCheckpoint:
    """Attach a witness cosignature to the checkpoint of ``size``.

    The signature is its own credential: only lines made by a configured witness key over
    exactly this checkpoint are accepted.
    """
    # Lock the row before reading it: two witnesses answering at once must not overwrite
    # each other's line (a no-op UPDATE locks on PostgreSQL and SQLite alike).
    session.execute(
        update(LedgerCheckpoint)
        .where(LedgerCheckpoint.size == size)
        .values(cosignatures=LedgerCheckpoint.cosignatures)
        .execution_options(synchronize_session=False)
    )
    cp = session.execute(
        select(LedgerCheckpoint)
        .where(LedgerCheckpoint.size == size)
        .execution_options(populate_existing=True)
    ).scalar_one_or_none()
    if cp is None:
        raise NotFound(f"no checkpoint at size {size}")
    try:
        sigs = parse_signature_lines(line if line.endswith("\n") else line + "\n")
        note = parse_note(cp.note)
    except NoteError as exc:
        raise InvalidInput(f"cosignature: {exc}") from exc
    if len(sigs) != 1:
        raise InvalidInput("send exactly one cosignature line")
    sig = sigs[0]
    ver = next((w for w in witnesses if (w.name, w.key_id) == (sig.name, sig.key_id)), None)
    if ver is None:
        raise PermissionDenied(f"{sig.name} is not a witness of this ledger")
    if ver.verify(note.text, sig.sig) is None:
        raise InvalidInput(f"cosignature by {sig.name} does not verify for size {size}")
    # One cosignature per witness: a newer one replaces the older.
    final = Note(note.text, (*[s for s in note.signatures if s.name != sig.name], sig))
    cp.note = final.render()
    cp.cosignatures = len(verified_signatures(final, list(witnesses)))
    session.flush()
    return cp


def evidence(
    *,
    session: Session,
    seq: int,
    checkpoint: LedgerCheckpoint,
    include_body: bool,
) -> Bundle:
    """Everything an outsider needs to verify entry ``seq`` offline against ``checkpoint``."""
    entry = get_entry(session=session, seq=seq)
    if seq >= checkpoint.size:
        raise RuleViolation(
            f"entry {seq} is not covered by a checkpoint yet (latest size {checkpoint.size}); "
            "it will be at the next one"
        )
    proof = inclusion_proof(session=session, seq=seq, size=checkpoint.size)
    has_body = include_body and entry.body is not None
    return Bundle(
        index=seq,
        leaf=bytes(entry.leaf),
        proof=tuple(proof),
        checkpoint=checkpoint.note,
        body=entry_body(entry) if has_body else None,
        has_body=has_body,
    )


# --- self-audit ---------------------------------------------------------------------------


def audit(*, uow: UnitOfWork, log_key: Verifier, batch: int = 5000) -> AuditReport:
    """Recompute the whole tree from the entries and compare with everything stored.

    O(n): for operators and tamper drills, not for requests. Finds changed entries or
    bodies, changed or missing nodes, checkpoints whose root or signature no longer holds.
    """
    session = uow.session
    report = AuditReport(size=tree_size(session=session))
    acc = merkle.CompactRange()
    report.checkpoints = int(
        session.execute(select(func.count()).select_from(LedgerCheckpoint)).scalar_one()
    )
    # Rows are read as plain tuples, a batch at a time: the session's identity map would
    # otherwise hold the whole log by the end.
    cp_cols = (LedgerCheckpoint.size, LedgerCheckpoint.root_hash, LedgerCheckpoint.note)
    entry_cols = (
        LedgerEntry.seq,
        LedgerEntry.leaf,
        LedgerEntry.body,
        LedgerEntry.entry_type,
        LedgerEntry.organisation_id,
        LedgerEntry.payload_sha256,
    )

    def load_checkpoints(lo: int, hi: int) -> dict[int, tuple[bytes, str]]:
        rows = session.execute(select(*cp_cols).where(LedgerCheckpoint.size.between(lo, hi))).all()
        return {int(size): (bytes(root), str(note)) for size, root, note in rows}

    def check_checkpoint(size: int, root: bytes) -> None:
        found = checkpoints.get(size)
        if found is None:
            return
        stored_root, note = found
        try:
            signed = parse_note(note)
            body = parse_checkpoint(signed.text)
            if not verified_signatures(signed, [log_key]):
                report.problems.append(f"checkpoint {size}: not signed by the log key")
            if body.size != size or body.root_hash != stored_root:
                report.problems.append(f"checkpoint {size}: signed text disagrees with its row")
        except NoteError as exc:
            report.problems.append(f"checkpoint {size}: {exc}")
        if stored_root != root:
            report.problems.append(f"checkpoint {size}: root differs from the recomputed tree")

    checkpoints = load_checkpoints(0, 0)
    check_checkpoint(0, merkle.EMPTY_ROOT)
    last = -1
    while True:
        rows = session.execute(
            select(*entry_cols).where(LedgerEntry.seq > last).order_by(LedgerEntry.seq).limit(batch)
        ).all()
        if not rows:
            break
        checkpoints = load_checkpoints(int(rows[0].seq) + 1, int(rows[-1].seq) + 1)
        created: list[tuple[NodeId, bytes]] = []
        for entry in rows:
            if entry.seq != acc.size:
                report.problems.append(f"entry {acc.size} is missing (next is {entry.seq})")
                return report
            leaf = bytes(entry.leaf)
            try:
                env = parse_leaf(leaf)
                if entry.body is not None:
                    check_body(env, json.loads(entry.body))
                    if canonical_json(json.loads(entry.body)).decode() != entry.body:
                        report.problems.append(f"entry {entry.seq}: body is not canonical")
                if (env.entry_type, env.organisation, env.payload_sha256) != (
                    entry.entry_type,
                    entry.organisation_id,
                    entry.payload_sha256,
                ):
                    report.problems.append(f"entry {entry.seq}: columns disagree with its leaf")
            except (EntryError, ValueError) as exc:
                report.problems.append(f"entry {entry.seq}: {exc}")
            created.extend(acc.append(merkle.leaf_hash(leaf)))
            check_checkpoint(acc.size, acc.root())
        stored = _stored_nodes(session, [n for n, _ in created])
        for node, digest in created:
            if stored.get(node) != digest:
                report.problems.append(
                    f"node level {node.level} index {node.idx} differs from the recomputed tree"
                )
        last = int(rows[-1].seq)
    if acc.size != report.size:
        report.problems.append(f"tree head says {report.size} entries, found {acc.size}")
    beyond = session.execute(
        select(func.count()).select_from(LedgerCheckpoint).where(LedgerCheckpoint.size > acc.size)
    ).scalar_one()
    if beyond:
        report.problems.append(f"{beyond} checkpoint(s) claim more entries than exist")
    report.problems.extend(_dedup_level_problems(session, acc.size))
    extra = session.execute(select(func.count()).select_from(LedgerNode)).scalar_one()
    expected = 2 * acc.size - bin(acc.size).count("1")
    if int(extra) != expected:
        report.problems.append(f"{extra} stored nodes, a tree of {acc.size} has {expected}")
    if report.problems:
        _publish(
            uow,
            "ledger.integrity.failed",
            {"problems": report.problems[:20], "size": report.size},
            uow.now(),
        )
    return report


def _dedup_level_problems(session: Session, size: int) -> list[str]:
    """Every entry's fact key is in exactly one level, on its side of the merged boundary."""
    merged = int(
        session.execute(
            select(LedgerTree.merged_size).where(LedgerTree.id == TREE_ROW)
        ).scalar_one_or_none()
        or 0
    )
    problems: list[str] = []
    for table, lo, hi in ((LedgerFactIndex, 0, merged), (LedgerRecentFact, merged, size)):
        count, below, above = session.execute(
            select(func.count(), func.min(table.seq), func.max(table.seq))
        ).one()
        if count != hi - lo or (count and (below < lo or above >= hi)):
            problems.append(
                f"{table.__tablename__}: {count} fact keys in [{below}, {above}], "
                f"entries {lo}..{hi - 1} expected"
            )
    return problems


def _stored_nodes(session: Session, ids: Sequence[NodeId]) -> dict[NodeId, bytes]:
    wanted = {node_key(n.level, n.idx): n for n in ids}
    out: dict[NodeId, bytes] = {}
    for chunk in _chunks(list(wanted)):
        for key, digest in session.execute(
            select(LedgerNode.key, LedgerNode.hash).where(LedgerNode.key.in_(chunk))
        ):
            out[wanted[int(key)]] = bytes(digest)
    return out
