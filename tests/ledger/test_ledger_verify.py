"""Entry envelopes, the offline verifier and the witness decision (all pure)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from anxin.ledger import entry, merkle, witness
from anxin.ledger.entry import EntryError, Envelope
from anxin.ledger.merkle import InMemoryTree
from anxin.ledger.note import ALG_COSIGNATURE_V1, Checkpoint, NoteError, Signer, sign_note
from anxin.ledger.verify import Bundle, Policy, verify_bundle, verify_extension
from anxin.ledger.witness import Outcome, WitnessState

ORIGIN = "anxin.test/ledger"
AT = datetime(2026, 3, 1, 8, 30, tzinfo=UTC)


def _envelope(i: int) -> tuple[Envelope, dict[str, object]]:
    body = {"lot": f"L{i}", "event": "harvest", "kg": i * 10}
    env = Envelope.build(
        entry_type="trace.event",
        organisation="farm-7",
        at=AT,
        payload_sha256=entry.payload_sha256(body),
    )
    return env, body


class Log:
    """A tiny in-memory log that signs checkpoints, for exercising the verifier."""

    def __init__(self, n: int) -> None:
        self.signer = Signer.generate(ORIGIN)
        self.items = [_envelope(i) for i in range(n)]
        self.tree = InMemoryTree(tuple(e.leaf_hash() for e, _ in self.items))

    def checkpoint(self, size: int | None = None) -> str:
        size = len(self.items) if size is None else size
        body = Checkpoint(ORIGIN, size, self.tree.root(size)).body()
        return sign_note(body, self.signer).render()

    def bundle(self, i: int, checkpoint: str, size: int | None = None) -> Bundle:
        env, body = self.items[i]
        proof = tuple(self.tree.inclusion_proof(i, size))
        return Bundle(i, env.leaf(), proof, checkpoint, body, True)


def _cosign(cp: str, *witnesses: Signer) -> str:
    for w in witnesses:
        cp += witness.cosign(cp, w, 1_750_000_000)
    return cp


def test_envelope_is_canonical_and_checked() -> None:
    env, body = _envelope(3)
    leaf = env.leaf()
    assert leaf.startswith(b'{"org":"farm-7","payload_sha256":"')
    assert b'"time":"2026-03-01T08:30:00.000000Z"' in leaf
    assert entry.parse_leaf(leaf) == env
    entry.check_body(env, {"kg": 30, "event": "harvest", "lot": "L3"})  # key order is irrelevant
    with pytest.raises(EntryError):
        entry.check_body(env, {**body, "kg": 31})
    with pytest.raises(EntryError):
        entry.parse_leaf(leaf.replace(b'{"org"', b'{ "org"'))
    with pytest.raises(EntryError):
        entry.canonical_json({"x": float("nan")})
    with pytest.raises(EntryError):
        Envelope.build(entry_type="Bad Type", organisation="o", at=AT, payload_sha256="0" * 64)
    with pytest.raises(EntryError):
        entry.format_time(datetime(2026, 1, 1))  # noqa: DTZ001 - the naive time is the point
    shanghai = AT.astimezone(timezone(timedelta(hours=8)))
    assert entry.format_time(shanghai) == "2026-03-01T08:30:00.000000Z"
    assert (
        env.fact_key()
        == Envelope.build(
            entry_type="trace.event",
            organisation="farm-7",
            at=AT + timedelta(days=1),
            payload_sha256=env.payload_sha256,
        ).fact_key()
    )


@settings(max_examples=150, deadline=None)
@given(st.text(min_size=1, max_size=40).filter(str.isprintable))
def test_fast_leaf_encoding_is_rfc8785(org: str) -> None:
    env = Envelope.build(entry_type="a.b", organisation=org, at=AT, payload_sha256="ab" * 32)
    assert env.leaf() == env.leaf_slow()
    assert entry.parse_leaf(env.leaf()) == env


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**60), max_value=2**60)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4)
    ),
    max_leaves=12,
)


@settings(max_examples=200, deadline=None)
@given(json_values)
def test_fast_canonical_json_is_rfc8785(value: Any) -> None:
    import rfc8785

    try:
        want = bytes(rfc8785.dumps(value))
    except Exception:
        with pytest.raises(EntryError):
            entry.canonical_json(value)
        return
    assert entry.canonical_json(value) == want


def test_verify_bundle_yes_and_every_no() -> None:
    log = Log(11)
    w1 = Signer.generate("bank-a/w", ALG_COSIGNATURE_V1)
    w2 = Signer.generate("bank-b/w", ALG_COSIGNATURE_V1)
    policy = Policy(log.signer.verifier, (w1.verifier, w2.verifier), quorum=2)
    cp = _cosign(log.checkpoint(), w1, w2)
    good = log.bundle(5, cp)
    verdict = verify_bundle(good, policy)
    assert verdict.ok, verdict.reason
    assert verdict.witnesses == ("bank-a/w", "bank-b/w")
    # The JSON form round-trips, with and without the body.
    assert verify_bundle(Bundle.from_json(good.to_json()), policy).ok
    no_body = Bundle(5, good.leaf, good.proof, cp)
    assert "body" not in no_body.to_json() and verify_bundle(no_body, policy).ok

    def no(b: Bundle, why: str, pol: Policy = policy) -> None:
        v = verify_bundle(b, pol)
        assert not v.ok and why in v.reason, v.reason

    no(log.bundle(5, _cosign(log.checkpoint(), w1)), "policy needs 2")
    no(
        Bundle(5, good.leaf, good.proof, cp, {"lot": "L5", "event": "harvest", "kg": 51}, True),
        "body",
    )
    other = _envelope(99)[0].leaf()
    no(Bundle(5, other, good.proof, cp), "inclusion proof")
    no(Bundle(4, good.leaf, good.proof, cp), "inclusion proof")
    no(Bundle(5, good.leaf, good.proof[:-1], cp), "inclusion proof")
    no(Bundle(5, good.leaf, good.proof, cp.replace("\n11\n", "\n12\n")), "checkpoint rejected")
    stranger = Policy(Signer.generate(ORIGIN).verifier)
    no(good, "not signed by the log", stranger)
    no(Bundle(5, b"{}", good.proof, cp), "entry rejected")


def test_policy_validation() -> None:
    log = Signer.generate(ORIGIN)
    with pytest.raises(NoteError):
        Policy(log.verifier, (), quorum=1)
    with pytest.raises(NoteError):
        Policy(log.verifier, (Signer.generate("w").verifier,), quorum=1)


def test_verify_extension() -> None:
    log = Log(20)
    policy = Policy(log.signer.verifier)
    old, new = log.checkpoint(7), log.checkpoint(20)
    proof = log.tree.consistency_proof(7, 20)
    assert verify_extension(old, new, proof, policy).ok
    assert not verify_extension(old, new, proof[1:], policy).ok


def test_witness_cosigns_only_consistent_extensions() -> None:
    log = Log(30)
    w = Signer.generate("bank-a/w", ALG_COSIGNATURE_V1)
    key = log.signer.verifier

    first = witness.review(state=None, signed_checkpoint=log.checkpoint(10), log=key, proof=[])
    assert first.outcome is Outcome.COSIGN and first.state is not None
    state = WitnessState.from_json(first.state.to_json())
    assert state == first.state

    grown = witness.review(
        state=state,
        signed_checkpoint=log.checkpoint(25),
        log=key,
        proof=log.tree.consistency_proof(10, 25),
    )
    assert grown.outcome is Outcome.COSIGN and grown.state is not None
    assert grown.state.size == 25
    line = witness.cosign(log.checkpoint(25), w, 1_750_000_000)
    policy = Policy(key, (w.verifier,), 1)
    assert verify_bundle(log.bundle(3, log.checkpoint(25) + line, 25), policy).ok

    same = witness.review(
        state=grown.state, signed_checkpoint=log.checkpoint(25), log=key, proof=[]
    )
    assert same.outcome is Outcome.COSIGN

    stale = witness.review(
        state=grown.state, signed_checkpoint=log.checkpoint(20), log=key, proof=[]
    )
    assert stale.outcome is Outcome.REFUSE and not stale.alarm

    bad_sig = witness.review(
        state=grown.state,
        signed_checkpoint=log.checkpoint(30).replace("\n30\n", "\n31\n"),
        log=key,
        proof=[],
    )
    assert bad_sig.outcome is Outcome.REFUSE

    # A rewritten history: same signing key, entry 3 replaced, then the log grows.
    forked = Log(30)
    forked.signer = log.signer
    leaves = list(log.tree.leaves)
    leaves[3] = merkle.leaf_hash(b"rewritten")
    forked.tree = InMemoryTree(tuple(leaves))
    same_size = witness.review(
        state=grown.state, signed_checkpoint=forked.checkpoint(25), log=key, proof=[]
    )
    assert same_size.outcome is Outcome.FORK and same_size.alarm and same_size.state is None
    bigger = witness.review(
        state=grown.state,
        signed_checkpoint=forked.checkpoint(30),
        log=key,
        proof=forked.tree.consistency_proof(25, 30),
    )
    assert bigger.outcome is Outcome.FORK


def test_witness_from_empty_tree() -> None:
    log = Log(3)
    empty = WitnessState(ORIGIN, 0, merkle.EMPTY_ROOT, "")
    d = witness.review(
        state=empty, signed_checkpoint=log.checkpoint(3), log=log.signer.verifier, proof=[]
    )
    assert d.outcome is Outcome.COSIGN
    other = witness.review(
        state=WitnessState("other/log", 0, merkle.EMPTY_ROOT, ""),
        signed_checkpoint=log.checkpoint(3),
        log=log.signer.verifier,
        proof=[],
    )
    assert other.outcome is Outcome.REFUSE
