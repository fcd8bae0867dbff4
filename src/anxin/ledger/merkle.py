"""RFC 9162 Merkle tree maths, pure: hashing, roots, proofs and their verification.

The tree over leaves ``D[0:n]`` is the one of RFC 9162 section 2.1 (the same as RFC 6962):
leaves are hashed as ``SHA-256(0x00 || data)``, interior nodes as ``SHA-256(0x01 || l || r)``,
and a tree whose size is not a power of two is split at the largest power of two below it.

Storage-friendly addressing: a *perfect* subtree of ``2**level`` leaves starting at leaf
``index * 2**level`` is named ``NodeId(level, index)``. Those are the only hashes a log needs
to keep; every other hash a proof needs (on the ragged right edge of the tree) is the fold of
at most ``log2(n)`` perfect subtrees. Proof generation is therefore split in two: a *plan*
(which perfect subtrees to read, computed from sizes alone) and an *assembly* (hash them into
proof elements), so a database can answer a proof with one batched read of O(log n) rows.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import NamedTuple

HASH_SIZE = 32
LEAF_PREFIX = b"\x00"
NODE_PREFIX = b"\x01"
EMPTY_ROOT = hashlib.sha256(b"").digest()


class ProofError(ValueError):
    """A proof, a root or a size is malformed or does not verify; the message says which."""


class NodeId(NamedTuple):
    """Perfect subtree of ``2**level`` leaves starting at leaf ``idx << level``."""

    level: int
    idx: int


def leaf_hash(data: bytes) -> bytes:
    return hashlib.sha256(LEAF_PREFIX + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(NODE_PREFIX + left + right).digest()


def _split_point(n: int) -> int:
    """Largest power of two strictly below ``n`` (n >= 2)."""
    return 1 << ((n - 1).bit_length() - 1)


def root_from_leaf_hashes(hashes: Sequence[bytes]) -> bytes:
    """MTH of a whole tree given its leaf hashes, in O(n) time and O(log n) memory."""
    acc = CompactRange()
    for h in hashes:
        acc.append(h)
    return acc.root()


def range_decomposition(start: int, end: int) -> list[NodeId]:
    """Perfect subtrees covering ``[start, end)``, left to right, largest first.

    Only valid for the ranges proofs ask about: ``start`` aligned to a power of two at least
    ``end - start`` (true of every right-hand range in the RFC 9162 recursion), so the
    binary digits of the length give the subtrees directly.
    """
    if not 0 <= start < end:
        raise ValueError(f"empty or negative range [{start}, {end})")
    out: list[NodeId] = []
    pos = start
    size = end - start
    for level in range(size.bit_length() - 1, -1, -1):
        if size >> level & 1:
            if pos % (1 << level):
                raise ValueError(f"range [{start}, {end}) is not aligned")
            out.append(NodeId(level, pos >> level))
            pos += 1 << level
    return out


def fold_right(hashes: Sequence[bytes]) -> bytes:
    """Hash of a range given the hashes of its decomposition (right edge folds first)."""
    acc = hashes[-1]
    for h in reversed(hashes[:-1]):
        acc = node_hash(h, acc)
    return acc


# A proof plan: one entry per proof element, each the perfect subtrees whose fold it is.
ProofPlan = list[list[NodeId]]


def inclusion_plan(index: int, size: int) -> ProofPlan:
    """Which perfect subtrees make up the audit path of leaf ``index`` in a tree of ``size``."""
    if not 0 <= index < size:
        raise ProofError(f"leaf index {index} out of range for tree size {size}")
    plan: ProofPlan = []
    lo, hi = 0, size  # current subtree [lo, hi)
    # Walk down from the root, then reverse: RFC 9162 lists siblings leaf-first.
    while hi - lo > 1:
        k = _split_point(hi - lo)
        if index - lo < k:
            plan.append(range_decomposition(lo + k, hi))
            hi = lo + k
        else:
            plan.append(range_decomposition(lo, lo + k))
            lo = lo + k
    plan.reverse()
    return plan


def consistency_plan(size1: int, size2: int) -> ProofPlan:
    """Perfect subtrees making up the RFC 9162 consistency proof from ``size1`` to ``size2``."""
    if not 0 < size1 <= size2:
        raise ProofError(f"no consistency proof from size {size1} to size {size2}")
    if size1 == size2:
        return []
    plan: ProofPlan = []
    lo, hi, m = 0, size2, size1
    complete = True  # RFC 9162 SUBPROOF's flag b: is [lo, lo+m) a subtree the verifier has?
    while m != hi:
        k = _split_point(hi - lo)
        if m - lo <= k:
            plan.append(range_decomposition(lo + k, hi))
            hi = lo + k
        else:
            plan.append(range_decomposition(lo, lo + k))
            lo = lo + k
            complete = False
    if not complete:
        plan.append(range_decomposition(lo, hi))
    plan.reverse()
    return plan


def plan_nodes(plan: ProofPlan) -> set[NodeId]:
    return {node for element in plan for node in element}


def assemble(plan: ProofPlan, nodes: Mapping[NodeId, bytes]) -> list[bytes]:
    """Turn a plan into proof hashes; ``nodes`` must hold every id in ``plan_nodes(plan)``."""
    return [fold_right([nodes[n] for n in element]) for element in plan]


class CompactRange:
    """The right edge of a growing tree: one hash per set bit of its size.

    Appending a leaf returns every perfect subtree that the leaf completed, so a log that
    stores them costs O(1) amortised node writes per append and O(log n) to resume.
    """

    __slots__ = ("_hashes", "_levels", "size")

    def __init__(self, size: int = 0, hashes: Sequence[bytes] = ()) -> None:
        levels = [lv for lv in range(size.bit_length() - 1, -1, -1) if size >> lv & 1]
        if len(levels) != len(hashes):
            raise ValueError(f"size {size} needs {len(levels)} edge hashes, got {len(hashes)}")
        self.size = size
        self._levels = levels
        self._hashes = list(hashes)

    @staticmethod
    def edge_ids(size: int) -> list[NodeId]:
        """Perfect subtrees whose hashes resume a range of ``size`` leaves."""
        return range_decomposition(0, size) if size else []

    def append(self, leaf: bytes) -> list[tuple[NodeId, bytes]]:
        """Add one leaf hash; returns the new perfect subtrees, the leaf itself first."""
        idx = self.size
        created = [(NodeId(0, idx), leaf)]
        h, level = leaf, 0
        while self._levels and self._levels[-1] == level:
            self._levels.pop()
            h = node_hash(self._hashes.pop(), h)
            level += 1
            created.append((NodeId(level, idx >> level), h))
        self._levels.append(level)
        self._hashes.append(h)
        self.size += 1
        return created

    def extend(self, leaves: Iterable[bytes]) -> list[tuple[NodeId, bytes]]:
        out: list[tuple[NodeId, bytes]] = []
        for leaf in leaves:
            out.extend(self.append(leaf))
        return out

    def root(self) -> bytes:
        return fold_right(self._hashes) if self._hashes else EMPTY_ROOT

    def edge(self) -> list[bytes]:
        return list(self._hashes)


@dataclass(frozen=True, slots=True)
class InMemoryTree:
    """A whole tree held in memory; for tests, tools and small logs."""

    leaves: tuple[bytes, ...]

    @classmethod
    def from_data(cls, items: Iterable[bytes]) -> InMemoryTree:
        return cls(tuple(leaf_hash(d) for d in items))

    def _nodes(self) -> dict[NodeId, bytes]:
        acc = CompactRange()
        return dict(acc.extend(self.leaves))

    def root(self, size: int | None = None) -> bytes:
        return root_from_leaf_hashes(self.leaves[: len(self.leaves) if size is None else size])

    def inclusion_proof(self, index: int, size: int | None = None) -> list[bytes]:
        plan = inclusion_plan(index, len(self.leaves) if size is None else size)
        return assemble(plan, self._nodes())

    def consistency_proof(self, size1: int, size2: int | None = None) -> list[bytes]:
        plan = consistency_plan(size1, len(self.leaves) if size2 is None else size2)
        return assemble(plan, self._nodes())


def _check_hash(name: str, value: bytes) -> None:
    if len(value) != HASH_SIZE:
        raise ProofError(f"{name} must be {HASH_SIZE} bytes, got {len(value)}")


def root_from_inclusion_proof(index: int, size: int, leaf: bytes, proof: Sequence[bytes]) -> bytes:
    """RFC 9162 section 2.1.3.2: the root the proof implies for ``leaf`` (a leaf *hash*)."""
    if not 0 <= index < size:
        raise ProofError(f"leaf index {index} out of range for tree size {size}")
    _check_hash("leaf hash", leaf)
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        _check_hash("proof element", p)
        if sn == 0:
            raise ProofError("inclusion proof is too long")
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while not fn & 1 and fn:
                fn >>= 1
                sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ProofError("inclusion proof is too short")
    return r


def verify_inclusion(
    index: int, size: int, leaf: bytes, proof: Sequence[bytes], root: bytes
) -> None:
    """Raise ``ProofError`` unless ``proof`` puts leaf hash ``leaf`` at ``index`` under ``root``."""
    got = root_from_inclusion_proof(index, size, leaf, proof)
    if got != root:
        raise ProofError("inclusion proof does not lead to the given root")


def verify_consistency(
    size1: int, size2: int, proof: Sequence[bytes], root1: bytes, root2: bytes
) -> None:
    """RFC 9162 section 2.1.4.2; raise ``ProofError`` unless tree ``size2`` extends ``size1``."""
    if size1 == 0:
        # Every tree extends the empty tree; a "proof" of it proves nothing, so refuse it.
        raise ProofError("consistency from an empty tree is meaningless")
    if size2 < size1:
        raise ProofError(f"size2 {size2} is smaller than size1 {size1}")
    if size1 == size2:
        if proof:
            raise ProofError("sizes are equal but the proof is not empty")
        if root1 != root2:
            raise ProofError("sizes are equal but the roots differ")
        return
    if not proof:
        raise ProofError("empty consistency proof")
    for p in proof:
        _check_hash("proof element", p)
    path = list(proof)
    if size1 & (size1 - 1) == 0:  # old tree is a perfect subtree: its root starts the path
        path.insert(0, root1)
    fn, sn = size1 - 1, size2 - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            raise ProofError("consistency proof is too long")
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            while not fn & 1 and fn:
                fn >>= 1
                sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ProofError("consistency proof is too short")
    if fr != root1:
        raise ProofError("consistency proof does not match the old root")
    if sr != root2:
        raise ProofError("consistency proof does not match the new root")


NodeReader = Callable[[Iterable[NodeId]], Mapping[NodeId, bytes]]


def prove_inclusion(index: int, size: int, read: NodeReader) -> list[bytes]:
    """Inclusion proof with one call to ``read`` for the O(log n) stored subtrees it needs."""
    plan = inclusion_plan(index, size)
    return assemble(plan, read(plan_nodes(plan)))


def prove_consistency(size1: int, size2: int, read: NodeReader) -> list[bytes]:
    plan = consistency_plan(size1, size2)
    return assemble(plan, read(plan_nodes(plan)))


def root_at(size: int, read: NodeReader) -> bytes:
    """Root of the first ``size`` leaves from stored subtrees (O(log n) reads)."""
    if size == 0:
        return EMPTY_ROOT
    ids = CompactRange.edge_ids(size)
    got = read(ids)
    return fold_right([got[i] for i in ids])
