"""The persistent log, and tampering with it directly in the database (SQLite and PostgreSQL)."""

from __future__ import annotations

import base64
import dataclasses
import json
from pathlib import Path

import pytest
from sqlalchemy import select, text

from anxin.core.clock import FrozenClock
from anxin.core.context import AppContext
from anxin.core.db import Database
from anxin.core.errors import InvalidInput
from anxin.ledger import merkle, service
from anxin.ledger.models import LedgerEntry, LedgerNode, node_key
from anxin.ledger.note import ALG_COSIGNATURE_V1, Signer
from anxin.ledger.service import LedgerIntegrityError, NewEntry
from anxin.ledger.verify import Policy, verify_bundle
from anxin.ledger.witness import Outcome
from anxin.ledger.witnessd import Witness, load_state

ORIGIN = "anxin.test/ledger"


class DirectClient:
    """A witness's view of the log straight through the service (no HTTP)."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.received: list[tuple[int, str]] = []

    def latest_checkpoint(self) -> str:
        with self.db.session_scope() as s:
            cp = service.latest_checkpoint(session=s)
            assert cp is not None
            return cp.note

    def consistency(self, first: int, second: int) -> list[bytes]:
        with self.db.session_scope() as s:
            return service.consistency_proof(session=s, first=first, second=second)

    def submit_cosignature(self, size: int, line: str) -> None:
        self.received.append((size, line))


@pytest.fixture
def signer() -> Signer:
    return Signer.generate(ORIGIN)


@pytest.fixture
def witness(tmp_path: Path, signer: Signer) -> Witness:
    return Witness(
        signer=Signer.generate("bank.test/w", ALG_COSIGNATURE_V1),
        log_key=signer.verifier,
        state_path=tmp_path / "w" / "state.json",
    )


def _body(i: int) -> dict[str, object]:
    return {"lot": f"LOT-{i:04d}", "event": "harvest", "kg": 100 + i, "organic": i % 2 == 0}


def _grow(db: Database, clock: FrozenClock, start: int, stop: int) -> None:
    with db.session_scope() as s:
        service.append_entries(
            session=s,
            entries=[NewEntry("trace.event", "coop-1", _body(i)) for i in range(start, stop)],
            now=clock.now(),
        )


def _checkpoint(context: AppContext, signer: Signer) -> int:
    with context.unit(actor="test:ledger") as uow:
        return service.publish_checkpoint(uow=uow, signer=signer).size


def _verdict(db: Database, signer: Signer, seq: int) -> tuple[bool, str]:
    with db.session_scope() as s:
        cp = service.latest_checkpoint(session=s)
        assert cp is not None
        bundle = service.evidence(session=s, seq=seq, checkpoint=cp, include_body=True)
    v = verify_bundle(bundle, Policy(signer.verifier))
    return v.ok, v.reason


def _audit(context: AppContext, signer: Signer) -> list[str]:
    with context.unit(actor="test:ledger") as uow:
        return service.audit(uow=uow, log_key=signer.verifier).problems


def _sql(db: Database, sql: str, **params: object) -> None:
    with db.session_scope() as s:
        s.execute(text(sql), params)


def test_append_dedup_proofs_and_checkpoints(
    db: Database, context: AppContext, clock: FrozenClock, signer: Signer
) -> None:
    with db.session_scope() as s:
        first = service.append_entry(
            session=s,
            entry_type="trace.event",
            organisation_id="coop-1",
            body=_body(0),
            now=clock.now(),
        )
        assert first.seq == 0 and json.loads(first.body or "") == _body(0)
        clock.advance(60)
        again = service.append_entry(
            session=s,
            entry_type="trace.event",
            organisation_id="coop-1",
            body=_body(0),
            now=clock.now(),
        )
        assert again.seq == 0  # a retry, not a new fact
        hashed = service.append_entry(
            session=s,
            entry_type="lending.dual_recording",
            organisation_id="bank-1",
            payload_sha256="AB" * 32,
            now=clock.now(),
        )
        assert hashed.seq == 1 and hashed.body is None and hashed.payload_sha256 == "ab" * 32
        seqs = service.append_entries(
            session=s,
            entries=[NewEntry("trace.event", "coop-1", _body(i)) for i in [1, 2, 1, 3, 0]],
            now=clock.now(),
        )
        assert seqs == [2, 3, 2, 4, 0]
        with pytest.raises(InvalidInput):
            service.append_entry(
                session=s, entry_type="Bad", organisation_id="o", body={}, now=clock.now()
            )
        with pytest.raises(InvalidInput):
            service.append_entry(session=s, entry_type="a.b", organisation_id="o", now=clock.now())
        with pytest.raises(InvalidInput):
            service.append_entry(
                session=s,
                entry_type="a.b",
                organisation_id="o",
                body={"x": 1},
                payload_sha256="0" * 64,
                now=clock.now(),
            )
    _grow(db, clock, 10, 50)
    size = _checkpoint(context, signer)
    assert size == 45
    with db.session_scope() as s:
        assert service.tree_size(session=s) == 45
        leaves = [
            bytes(e.leaf)
            for e in s.execute(select(LedgerEntry).order_by(LedgerEntry.seq)).scalars()
        ]
        tree = merkle.InMemoryTree.from_data(leaves)
        for n in (1, 2, 7, 8, 9, 33, 45):
            assert service.root_hash(session=s, size=n) == tree.root(n)
        for seq in range(45):
            proof = service.inclusion_proof(session=s, seq=seq, size=45)
            assert proof == tree.inclusion_proof(seq, 45)
        for m in (1, 5, 16, 44):
            assert service.consistency_proof(
                session=s, first=m, second=45
            ) == tree.consistency_proof(m, 45)
        with pytest.raises(InvalidInput):
            service.inclusion_proof(session=s, seq=45, size=45)
        with pytest.raises(InvalidInput):
            service.consistency_proof(session=s, first=0, second=45)
        # Stored subtrees only: 2n - popcount(n) rows, about two per entry.
        count = s.execute(select(LedgerNode.key)).all()
        assert len(count) == 2 * 45 - bin(45).count("1")
    assert _checkpoint(context, signer) == 45  # nothing new: the same checkpoint
    assert _verdict(db, signer, 17)[0]
    assert _audit(context, signer) == []


def test_rollback_leaves_no_trace(db: Database, clock: FrozenClock) -> None:
    _grow(db, clock, 0, 3)
    with pytest.raises(RuntimeError), db.session_scope() as s:
        service.append_entries(session=s, entries=[NewEntry("t.x", "o", {"i": 9})], now=clock.now())
        raise RuntimeError("the business change failed")
    with db.session_scope() as s:
        assert service.tree_size(session=s) == 3
        seqs = service.append_entries(
            session=s, entries=[NewEntry("t.x", "o", {"i": 9})], now=clock.now()
        )
        assert seqs == [3]


def test_tampered_body_is_detected(
    db: Database, context: AppContext, clock: FrozenClock, signer: Signer
) -> None:
    _grow(db, clock, 0, 12)
    _checkpoint(context, signer)
    assert _verdict(db, signer, 5)[0]
    forged = json.dumps(
        {**_body(5), "organic": True, "kg": 999}, separators=(",", ":"), sort_keys=True
    )
    _sql(db, "UPDATE ledger_entries SET body = :b WHERE seq = 5", b=forged)
    ok, reason = _verdict(db, signer, 5)
    assert not ok and "body does not match" in reason
    assert any("entry 5" in p for p in _audit(context, signer))


def test_tampered_leaf_is_detected(
    db: Database, context: AppContext, clock: FrozenClock, signer: Signer
) -> None:
    _grow(db, clock, 0, 12)
    _checkpoint(context, signer)
    with db.session_scope() as s:
        leaf = bytes(s.get(LedgerEntry, 4).leaf)  # type: ignore[union-attr]
    _sql(
        db,
        "UPDATE ledger_entries SET leaf = :l, organisation_id = 'coop-2' WHERE seq = 4",
        l=leaf.replace(b'"coop-1"', b'"coop-2"'),
    )
    ok, reason = _verdict(db, signer, 4)
    assert not ok and "inclusion proof" in reason
    assert any("node level 0 index 4" in p for p in _audit(context, signer))


def test_tampered_node_is_detected_by_verifier_and_witness(
    db: Database, context: AppContext, clock: FrozenClock, signer: Signer, witness: Witness
) -> None:
    _grow(db, clock, 0, 10)
    _checkpoint(context, signer)
    client = DirectClient(db)
    assert witness.run_once(client, now=1).outcome is Outcome.COSIGN
    _grow(db, clock, 10, 20)
    # Rewrite the subtree of entries 0-7: the inclusion proof of entry 9 and the 10 -> 20
    # consistency proof both pass through it.
    target = merkle.NodeId(3, 0)
    assert target in merkle.plan_nodes(merkle.inclusion_plan(9, 20))
    assert target in merkle.plan_nodes(merkle.consistency_plan(10, 20))
    _sql(db, "UPDATE ledger_nodes SET hash = :h WHERE key = :k", h=b"\x07" * 32, k=node_key(3, 0))
    _checkpoint(context, signer)
    ok, reason = _verdict(db, signer, 9)
    assert not ok and "inclusion proof" in reason
    decision = witness.run_once(client, now=2)
    assert decision.outcome is Outcome.FORK, decision.reason
    state = load_state(witness.state_path)
    assert state is not None and state.size == 10  # never moved to the forged view
    assert list(witness.state_path.parent.glob("state.json.fork-*.json"))
    assert any("node level 3 index 0" in p for p in _audit(context, signer))


def test_tampered_checkpoint_is_detected(
    db: Database, context: AppContext, clock: FrozenClock, signer: Signer, witness: Witness
) -> None:
    _grow(db, clock, 0, 8)
    _checkpoint(context, signer)
    client = DirectClient(db)
    assert witness.run_once(client, now=1).outcome is Outcome.COSIGN
    _grow(db, clock, 8, 9)
    _checkpoint(context, signer)
    with db.session_scope() as s:
        cp = service.get_checkpoint(session=s, size=9)
        real_root = bytes(cp.root_hash)
        note = cp.note
    fake_root = merkle.leaf_hash(b"fake")
    forged = note.replace(
        base64.b64encode(real_root).decode(), base64.b64encode(fake_root).decode()
    )
    _sql(
        db,
        "UPDATE ledger_checkpoints SET note = :n, root_hash = :r WHERE size = 9",
        n=forged,
        r=fake_root,
    )
    ok, reason = _verdict(db, signer, 2)
    assert not ok and "checkpoint rejected" in reason and "does not verify" in reason
    decision = witness.run_once(client, now=2)
    assert decision.outcome is Outcome.REFUSE and "not a valid checkpoint" in decision.reason
    problems = _audit(context, signer)
    assert any("checkpoint 9" in p for p in problems)
    with context.unit(actor="test:ledger") as uow, pytest.raises(LedgerIntegrityError):
        service.publish_checkpoint(uow=uow, signer=signer)


def _rewrite_history(db: Database, clock: FrozenClock, size: int, changed: int) -> None:
    """A dishonest operator (holding the log key) replaces one entry and rebuilds the tree."""
    with db.session_scope() as s:
        for table in (
            "ledger_checkpoints",
            "ledger_nodes",
            "ledger_entries",
            "ledger_recent_facts",
            "ledger_fact_index",
        ):
            s.execute(text(f"DELETE FROM {table}"))  # noqa: S608 - fixed table names
        s.execute(text("UPDATE ledger_tree SET size = 0, merged_size = 0"))
        bodies = [_body(i) for i in range(size)]
        bodies[changed] = {**bodies[changed], "organic": True, "kg": 5000}
        service.append_entries(
            session=s,
            entries=[NewEntry("trace.event", "coop-1", b) for b in bodies],
            now=clock.now(),
        )


def test_fork_is_refused_and_alarmed(
    db: Database, context: AppContext, clock: FrozenClock, signer: Signer, witness: Witness
) -> None:
    alarms: list[dict[str, object]] = []
    witness = dataclasses.replace(witness, on_alarm=alarms.append)
    _grow(db, clock, 0, 16)
    _checkpoint(context, signer)
    client = DirectClient(db)
    assert witness.run_once(client, now=1).outcome is Outcome.COSIGN
    good = load_state(witness.state_path)
    assert good is not None

    # Same size, different root: the classic split view.
    _rewrite_history(db, clock, 16, changed=3)
    _checkpoint(context, signer)
    same = witness.run_once(client, now=2)
    assert same.outcome is Outcome.FORK and "two different roots" in same.reason
    # The rewritten log grows on: still inconsistent with what the witness signed.
    _grow(db, clock, 16, 30)
    _checkpoint(context, signer)
    grown = witness.run_once(client, now=3)
    assert grown.outcome is Outcome.FORK and "not consistent" in grown.reason
    assert load_state(witness.state_path) == good
    assert client.received == [(16, client.received[0][1])]  # only the honest one was cosigned
    evidence = sorted(witness.state_path.parent.glob("state.json.fork-*.json"))
    assert evidence
    data = json.loads(evidence[-1].read_text())
    assert data["cosigned"]["size"] == 16 and data["presented"]
    assert len(alarms) == 2 and alarms[0]["log"] == ORIGIN


def test_nodes_missing_are_an_integrity_error(db: Database, clock: FrozenClock) -> None:
    _grow(db, clock, 0, 4)
    _sql(db, "DELETE FROM ledger_nodes WHERE key = :k", k=node_key(2, 0))
    with db.session_scope() as s, pytest.raises(LedgerIntegrityError):
        service.append_entries(session=s, entries=[NewEntry("t.x", "o", {"i": 1})], now=clock.now())


def test_concurrent_appenders_are_serialised(
    db: Database, context: AppContext, clock: FrozenClock, signer: Signer
) -> None:
    import threading

    errors: list[BaseException] = []

    def worker(w: int) -> None:
        try:
            for i in range(15):
                with db.session_scope() as s:
                    service.append_entries(
                        session=s,
                        entries=[
                            NewEntry("trace.event", f"coop-{w}", {"w": w, "i": i, "j": j})
                            for j in range(3)
                        ],
                        now=clock.now(),
                    )
        except BaseException as exc:  # surfaced below; a thread cannot fail the test itself
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(w,)) for w in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with db.session_scope() as s:
        assert service.tree_size(session=s) == 3 * 15 * 3
    _checkpoint(context, signer)
    assert _audit(context, signer) == []


def test_erasing_a_body_keeps_the_proof(
    db: Database, context: AppContext, clock: FrozenClock, signer: Signer
) -> None:
    _grow(db, clock, 0, 6)
    _checkpoint(context, signer)
    with context.unit(actor="test:retention") as uow:
        owner = service.get_entry(session=uow.session, seq=2).organisation_id
        entry = service.erase_body(uow=uow, seq=2, organisation_id=owner)
        assert entry.body is None and entry.payload_sha256
        rows = uow.session.execute(
            text("SELECT action, entity_id FROM audit_log WHERE action = 'erase_body'")
        )
        assert [tuple(r) for r in rows] == [("erase_body", "2")]
    ok, reason = _verdict(db, signer, 2)
    assert ok, reason
    assert _audit(context, signer) == []


def test_simultaneous_cosignatures_are_all_kept(
    db: Database, context: AppContext, clock: FrozenClock, signer: Signer
) -> None:
    import threading

    from anxin.ledger.witness import cosign

    _grow(db, clock, 0, 5)
    _checkpoint(context, signer)
    witnesses = [Signer.generate(f"w{i}.test/w", ALG_COSIGNATURE_V1) for i in range(4)]
    keys = [w.verifier for w in witnesses]
    with db.session_scope() as s:
        note = service.get_checkpoint(session=s, size=5).note
    barrier = threading.Barrier(len(witnesses))
    errors: list[BaseException] = []

    def deliver(w: Signer) -> None:
        try:
            barrier.wait()
            with db.session_scope() as s:
                service.add_cosignature(session=s, size=5, line=cosign(note, w, 7), witnesses=keys)
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=deliver, args=(w,)) for w in witnesses]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with db.session_scope() as s:
        cp = service.get_checkpoint(session=s, size=5)
        assert cp.cosignatures == 4
        policy = Policy(signer.verifier, tuple(keys), quorum=4)
        bundle = service.evidence(session=s, seq=1, checkpoint=cp, include_body=False)
    assert verify_bundle(bundle, policy).ok


def test_audit_in_small_batches_sees_every_checkpoint(
    db: Database, context: AppContext, clock: FrozenClock, signer: Signer
) -> None:
    for stop in (3, 7, 8, 20, 21):
        with db.session_scope() as s:
            size = service.tree_size(session=s)
        _grow(db, clock, size, stop)
        _checkpoint(context, signer)
    with context.unit(actor="test:ledger") as uow:
        report = service.audit(uow=uow, log_key=signer.verifier, batch=4)
        assert report.ok and report.size == 21 and report.checkpoints == 5
    _sql(db, "UPDATE ledger_checkpoints SET root_hash = :r WHERE size = 8", r=b"\x01" * 32)
    with context.unit(actor="test:ledger") as uow:
        problems = service.audit(uow=uow, log_key=signer.verifier, batch=4).problems
    assert any("checkpoint 8" in p for p in problems), problems
