"""RFC 9162 vectors (transparency-dev/merkle) and property tests for anxin.ledger.merkle."""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from tests.property_budget import examples

from anxin.ledger import merkle
from anxin.ledger.merkle import InMemoryTree, ProofError

DATA = Path(__file__).resolve().parent.parent / "data" / "rfc9162"


def _cases(kind: str) -> list[Any]:
    files = sorted((DATA / kind).rglob("*.json"))
    assert files, f"no {kind} vectors under {DATA}"
    return [pytest.param(json.loads(f.read_text()), id=str(f.relative_to(DATA))) for f in files]


def _b(s: str) -> bytes:
    return base64.b64decode(s)


@pytest.mark.parametrize("case", _cases("inclusion"))
def test_inclusion_vectors(case: dict[str, Any]) -> None:
    args = (
        case["leafIdx"],
        case["treeSize"],
        _b(case["leafHash"]),
        [_b(p) for p in case["proof"] or []],
        _b(case["root"]),
    )
    if case["wantErr"]:
        with pytest.raises(ProofError):
            merkle.verify_inclusion(*args)
    else:
        merkle.verify_inclusion(*args)


@pytest.mark.parametrize("case", _cases("consistency"))
def test_consistency_vectors(case: dict[str, Any]) -> None:
    args = (
        case["size1"],
        case["size2"],
        [_b(p) for p in case["proof"] or []],
        _b(case["root1"]),
        _b(case["root2"]),
    )
    if case["wantErr"]:
        with pytest.raises(ProofError):
            merkle.verify_consistency(*args)
    else:
        merkle.verify_consistency(*args)


def test_vector_count() -> None:
    # Guards against a partial copy of the data silently shrinking the suite.
    assert len(list(DATA.rglob("*.json"))) == 196


def _reference_root(leaves: list[bytes]) -> bytes:
    """RFC 9162 MTH written straight from its recursive definition."""
    if not leaves:
        return hashlib.sha256(b"").digest()
    if len(leaves) == 1:
        return leaves[0]
    k = 1
    while k * 2 < len(leaves):
        k *= 2
    return merkle.node_hash(_reference_root(leaves[:k]), _reference_root(leaves[k:]))


def test_known_roots() -> None:
    # Roots from RFC 6962's reference data: the tree of 8 leaves used by every vector above.
    leaves = [b"", b"\x00", b"\x10", b" !", b"01", b"@ABC", b"PQRSTUVW", b"`abcdefghijklmno"]
    tree = InMemoryTree.from_data(leaves)
    assert base64.b64encode(tree.root()).decode() == "XcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg="
    assert tree.root(0) == merkle.EMPTY_ROOT
    assert tree.inclusion_proof(0) == [
        _b("lqKW0iTyhcZ77pPDD4owkVfw2qNdxbh+QQt4YwoJz8c="),
        _b("Xwg/ChozygdqlSeYMlgNs+DvRYS9/x9UyKNg9Q3jAx4="),
        _b("a0eq8p7jwq+a+Im8H7klTavTEXfxYjLdaqsDXKOb9uQ="),
    ]


def test_proof_generation_matches_vectors() -> None:
    leaves = [b"", b"\x00", b"\x10", b" !", b"01", b"@ABC", b"PQRSTUVW", b"`abcdefghijklmno"]
    tree = InMemoryTree.from_data(leaves)
    for f in sorted((DATA / "consistency").glob("[0-9]/happy-path.json")):
        case = json.loads(f.read_text())
        if case["size1"] == 0:
            continue
        want = [_b(p) for p in case["proof"] or []]
        assert tree.consistency_proof(case["size1"], case["size2"]) == want, f
    for f in sorted((DATA / "inclusion").glob("[0-9]/happy-path.json")):
        case = json.loads(f.read_text())
        want = [_b(p) for p in case["proof"] or []]
        assert tree.inclusion_proof(case["leafIdx"], case["treeSize"]) == want, f


def test_rejects_bad_arguments() -> None:
    with pytest.raises(ProofError):
        merkle.inclusion_plan(3, 3)
    with pytest.raises(ProofError):
        merkle.consistency_plan(0, 4)
    with pytest.raises(ProofError):
        merkle.consistency_plan(5, 4)
    assert merkle.consistency_plan(4, 4) == []


def test_compact_range_resume() -> None:
    tree = InMemoryTree.from_data(bytes([i]) for i in range(37))
    nodes = tree._nodes()
    for size in range(38):
        edge = [nodes[i] for i in merkle.CompactRange.edge_ids(size)]
        acc = merkle.CompactRange(size, edge)
        assert acc.root() == _reference_root(list(tree.leaves[:size]))
        acc.extend(tree.leaves[size:])
        assert acc.root() == tree.root()
    assert merkle.root_at(21, lambda ids: nodes) == tree.root(21)


def test_stored_subtree_proofs_read_once_and_match_the_tree() -> None:
    # What the ledger store does: prove from stored perfect subtrees, in one batched read.
    tree = InMemoryTree.from_data(bytes([i]) for i in range(13))
    nodes = tree._nodes()
    reads: list[set[merkle.NodeId]] = []

    def read(ids: Any) -> dict[merkle.NodeId, bytes]:
        wanted = set(ids)
        reads.append(wanted)
        return {i: nodes[i] for i in wanted}

    assert merkle.prove_inclusion(6, 11, read) == tree.inclusion_proof(6, 11)
    assert merkle.prove_consistency(3, 13, read) == tree.consistency_proof(3, 13)
    assert merkle.prove_consistency(5, 5, read) == []
    assert len(reads) == 3 and reads[-1] == set()
    with pytest.raises(ProofError):
        merkle.prove_inclusion(11, 11, read)
    assert merkle.root_at(0, read) == merkle.EMPTY_ROOT


def test_compact_range_edge_is_a_copy_of_its_hashes() -> None:
    acc = merkle.CompactRange()
    created = acc.extend(merkle.leaf_hash(bytes([i])) for i in range(3))
    assert [node for node, _ in created] == [
        merkle.NodeId(0, 0),
        merkle.NodeId(0, 1),
        merkle.NodeId(1, 0),
        merkle.NodeId(0, 2),
    ]
    edge = acc.edge()
    assert edge == [created[2][1], created[3][1]]
    edge.clear()  # the caller may keep or change it: the range is unaffected
    assert len(acc.edge()) == 2


def test_every_proof_up_to_33_leaves_verifies() -> None:
    # Exhaustive over small trees, so every shape of the RFC 9162 loops (the inner shift loop
    # runs only for a few size pairs, e.g. 9 → 12) is exercised on every run, not by chance.
    tree = InMemoryTree.from_data(bytes([i]) for i in range(33))
    for size2 in range(1, 34):
        root2 = tree.root(size2)
        for size1 in range(1, size2 + 1):
            proof = tree.consistency_proof(size1, size2)
            merkle.verify_consistency(size1, size2, proof, tree.root(size1), root2)
        for index in range(size2):
            proof = tree.inclusion_proof(index, size2)
            assert (
                merkle.root_from_inclusion_proof(index, size2, tree.leaves[index], proof) == root2
            )
    assert tree.consistency_proof(5) == tree.consistency_proof(5, 33)
    assert tree.inclusion_proof(5) == tree.inclusion_proof(5, 33)


H = hashlib.sha256(b"h").digest()


def _tree_8() -> tuple[InMemoryTree, list[bytes]]:
    tree = InMemoryTree.from_data(bytes([i]) for i in range(8))
    return tree, tree.consistency_proof(3, 7)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda t, p: merkle.inclusion_plan(3, 3), "leaf index 3 out of range for tree size 3"),
        (lambda t, p: merkle.consistency_plan(0, 4), "no consistency proof from size 0 to size 4"),
        (
            lambda t, p: merkle.verify_inclusion(-1, 4, H, [], H),
            "leaf index -1 out of range for tree size 4",
        ),
        (
            lambda t, p: merkle.verify_inclusion(0, 4, b"abc", [], H),
            "leaf hash must be 32 bytes, got 3",
        ),
        (
            lambda t, p: merkle.verify_inclusion(0, 4, H, [H, H[:31]], H),
            "proof element must be 32 bytes, got 31",
        ),
        (lambda t, p: merkle.verify_inclusion(0, 2, H, [H, H], H), "inclusion proof is too long"),
        (lambda t, p: merkle.verify_inclusion(0, 4, H, [H], H), "inclusion proof is too short"),
        (
            lambda t, p: merkle.verify_inclusion(0, 1, H, [], t.root()),
            "inclusion proof does not lead to the given root",
        ),
        (
            lambda t, p: merkle.verify_consistency(0, 7, p, t.root(3), t.root(7)),
            "consistency from an empty tree is meaningless",
        ),
        (
            lambda t, p: merkle.verify_consistency(7, 3, p, t.root(3), t.root(7)),
            "size2 3 is smaller than size1 7",
        ),
        (
            lambda t, p: merkle.verify_consistency(3, 3, p, t.root(3), t.root(3)),
            "sizes are equal but the proof is not empty",
        ),
        (
            lambda t, p: merkle.verify_consistency(3, 3, [], t.root(3), t.root(7)),
            "sizes are equal but the roots differ",
        ),
        (
            lambda t, p: merkle.verify_consistency(3, 7, [], t.root(3), t.root(7)),
            "empty consistency proof",
        ),
        (
            lambda t, p: merkle.verify_consistency(3, 7, [*p[:-1], b"x"], t.root(3), t.root(7)),
            "proof element must be 32 bytes, got 1",
        ),
        (
            lambda t, p: merkle.verify_consistency(3, 7, [*p, H], t.root(3), t.root(7)),
            "consistency proof is too long",
        ),
        (
            lambda t, p: merkle.verify_consistency(3, 7, p[:-1], t.root(3), t.root(7)),
            "consistency proof is too short",
        ),
        (
            lambda t, p: merkle.verify_consistency(3, 7, p, t.root(4), t.root(7)),
            "consistency proof does not match the old root",
        ),
        (
            lambda t, p: merkle.verify_consistency(3, 7, p, t.root(3), t.root(8)),
            "consistency proof does not match the new root",
        ),
    ],
)
def test_proof_errors_say_which_check_failed(call: Any, message: str) -> None:
    # The ledger's verify and witness commands print this message as the verdict's reason.
    tree, proof = _tree_8()
    with pytest.raises(ProofError) as info:
        call(tree, proof)
    assert str(info.value) == message


def test_root_at_reads_the_stored_edge() -> None:
    tree = InMemoryTree.from_data(bytes([i]) for i in range(13))
    nodes = tree._nodes()

    def read(ids: Any) -> dict[merkle.NodeId, bytes]:
        return {i: nodes[i] for i in ids}

    assert [merkle.root_at(n, read) for n in (1, 13)] == [tree.leaves[0], tree.root()]


def test_ranges_and_edges_are_checked() -> None:
    assert merkle.range_decomposition(8, 13) == [merkle.NodeId(2, 2), merkle.NodeId(0, 12)]
    for call, message in [
        (lambda: merkle.range_decomposition(3, 3), "empty or negative range [3, 3)"),
        (lambda: merkle.range_decomposition(-1, 3), "empty or negative range [-1, 3)"),
        (lambda: merkle.range_decomposition(3, 5), "range [3, 5) is not aligned"),
        (lambda: merkle.CompactRange(5, [H]), "size 5 needs 2 edge hashes, got 1"),
    ]:
        with pytest.raises(ValueError) as info:
            call()
        assert str(info.value) == message


# Property tests last: the slowest, and mutation runs stop at the first failure.


def _flip(b: bytes, bit: int) -> bytes:
    arr = bytearray(b)
    arr[(bit // 8) % len(arr)] ^= 1 << (bit % 8)
    return bytes(arr)


trees = st.integers(min_value=1, max_value=70).flatmap(
    lambda n: st.tuples(st.just(n), st.binary(min_size=4, max_size=4))
)


@examples(60)
@given(trees, st.data())
def test_every_inclusion_proof_verifies_and_any_bit_flip_fails(
    spec: tuple[int, bytes], data: st.DataObject
) -> None:
    n, salt = spec
    tree = InMemoryTree.from_data(salt + i.to_bytes(4, "big") for i in range(n))
    size = data.draw(st.integers(min_value=1, max_value=n), label="size")
    root = tree.root(size)
    assert root == _reference_root(list(tree.leaves[:size]))
    index = data.draw(st.integers(min_value=0, max_value=size - 1), label="index")
    proof = tree.inclusion_proof(index, size)
    leaf = tree.leaves[index]
    merkle.verify_inclusion(index, size, leaf, proof, root)

    bit = data.draw(st.integers(min_value=0, max_value=255), label="bit")
    with pytest.raises(ProofError):
        merkle.verify_inclusion(index, size, _flip(leaf, bit), proof, root)
    with pytest.raises(ProofError):
        merkle.verify_inclusion(index, size, leaf, proof, _flip(root, bit))
    if proof:
        pos = data.draw(st.integers(min_value=0, max_value=len(proof) - 1), label="pos")
        bad = list(proof)
        bad[pos] = _flip(bad[pos], bit)
        with pytest.raises(ProofError):
            merkle.verify_inclusion(index, size, leaf, bad, root)
        with pytest.raises(ProofError):
            merkle.verify_inclusion(index, size, leaf, proof[:-1], root)
    other = data.draw(st.integers(min_value=0, max_value=size - 1), label="other")
    if other != index:
        with pytest.raises(ProofError):
            merkle.verify_inclusion(other, size, leaf, proof, root)


@examples(60)
@given(trees, st.data())
def test_every_consistency_proof_verifies_and_any_bit_flip_fails(
    spec: tuple[int, bytes], data: st.DataObject
) -> None:
    n, salt = spec
    tree = InMemoryTree.from_data(salt + i.to_bytes(4, "big") for i in range(n))
    size2 = data.draw(st.integers(min_value=1, max_value=n), label="size2")
    size1 = data.draw(st.integers(min_value=1, max_value=size2), label="size1")
    root1, root2 = tree.root(size1), tree.root(size2)
    proof = tree.consistency_proof(size1, size2)
    merkle.verify_consistency(size1, size2, proof, root1, root2)

    bit = data.draw(st.integers(min_value=0, max_value=255), label="bit")
    with pytest.raises(ProofError):
        merkle.verify_consistency(size1, size2, proof, _flip(root1, bit), root2)
    with pytest.raises(ProofError):
        merkle.verify_consistency(size1, size2, proof, root1, _flip(root2, bit))
    if proof:
        pos = data.draw(st.integers(min_value=0, max_value=len(proof) - 1), label="pos")
        bad = list(proof)
        bad[pos] = _flip(bad[pos], bit)
        with pytest.raises(ProofError):
            merkle.verify_consistency(size1, size2, bad, root1, root2)
