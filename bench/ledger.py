"""Ledger benchmark: durable batched appends, proofs at 1M and 10M entries, SHA-256 ceiling.

    .venv/bin/python bench/ledger.py            # full run (a few minutes, ~2 GB of temp disk)
    .venv/bin/python bench/ledger.py --quick    # small sizes, for a smoke test

What it measures, all on SQLite (WAL) in one process:

1. The ceiling: raw SHA-256 rate of this machine for Merkle node inputs (65 bytes) and for
   leaf inputs (about 200 bytes), single core. Every append costs at least ~2 hashes.
2. Durable appends/s through ``anxin.ledger.service.append_entries``: realistic JSON bodies
   canonicalised (RFC 8785), enveloped, hashed into the tree, entries and subtree nodes
   inserted, each batch one committed transaction. Run with ``synchronous=FULL`` (fsync on
   every commit: survives power loss) and ``NORMAL`` (the app's WAL default: survives a
   process crash), and with one entry per commit for contrast.
3. Proofs at 1M and 10M entries: the stored subtree table of a log that size is built in
   bulk (hashes computed level by level and inserted in one pass; no per-entry appends),
   then random inclusion and consistency proofs are served by the real service code (one
   indexed query for O(log n) rows) and verified; latency percentiles in milliseconds.

Results go to bench/results/ledger.json.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import text

from anxin.core import migrate
from anxin.core.db import Database
from anxin.ledger import merkle, service
from anxin.ledger.entry import Envelope, format_time
from anxin.ledger.models import node_key
from anxin.ledger.service import NewEntry

RESULTS = Path(__file__).resolve().parent / "results" / "ledger.json"
TESSERA_WRITES_PER_S = 2900  # Trillian Tessera, POSIX driver on a local disk (published figure)
NOW = datetime(2026, 11, 29, 4, 0, tzinfo=UTC)
STAMP = format_time(NOW)
STAMP_SQLITE = "2026-11-29 04:00:00.000000"  # how the app's UTC datetime column stores NOW


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def sha256_rate(seconds: float = 1.0) -> dict[str, float]:
    out: dict[str, float] = {}
    for name, size in (("node_65B", 65), ("leaf_200B", 200)):
        data = os.urandom(size)
        sha = hashlib.sha256
        n = 0
        start = time.perf_counter()
        while time.perf_counter() - start < seconds:
            for _ in range(10_000):
                sha(data).digest()
            n += 10_000
        elapsed = time.perf_counter() - start
        out[f"{name}_hashes_per_s"] = round(n / elapsed)
        out[f"{name}_mb_per_s"] = round(n * size / elapsed / 1e6, 1)
    return out


def fresh_db(path: Path) -> Database:
    for suffix in ("", "-wal", "-shm"):
        Path(str(path) + suffix).unlink(missing_ok=True)
    url = f"sqlite:///{path}"
    migrate.upgrade(url)
    return Database(url)


def body(i: int) -> dict[str, Any]:
    # Shaped like a farm event (EPCIS-ish): about 200 bytes once canonicalised.
    return {
        "type": "ObjectEvent",
        "eventTime": "2026-05-12T06:31:00Z",
        "action": "OBSERVE",
        "bizStep": "harvesting",
        "epcList": [f"https://id.anxin.example/01/06901234567892/21/{i:010d}"],
        "readPoint": "plot-17",
        "quantityKg": 1000 + i % 500,
    }


def appends(
    db_path: Path,
    *,
    total: int,
    batch: int,
    synchronous: str,
    existing: bool = False,
    offset: int = 0,
    count_wal: bool = False,
) -> dict[str, Any]:
    """Timed batches, each its own commit, with the merges they make due. ``count_wal``: no
    WAL checkpoints during the run, so the WAL's size at the end is every page it wrote."""
    db = Database(f"sqlite:///{db_path}") if existing else fresh_db(db_path)

    @_on_connect(db)
    def _sync(conn: Any) -> None:
        conn.execute(f"PRAGMA synchronous={synchronous}")
        if count_wal:
            conn.execute("PRAGMA wal_autocheckpoint=0")

    db.engine.dispose()  # reconnect so the pragma applies to every pooled connection
    wal = Path(str(db_path) + "-wal")
    if count_wal:
        with db.engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    items = [NewEntry("trace.event", "coop-0001", body(offset + i)) for i in range(total)]
    with db.session_scope() as session:
        before = service.tree_size(session=session)
    start = time.perf_counter()
    cpu_start = time.process_time()
    merged = 0
    for at in range(0, total, batch):
        with db.session_scope() as session:
            service.append_entries(session=session, entries=items[at : at + batch], now=NOW)
        merged += merge_when_due(db)
    elapsed = time.perf_counter() - start
    cpu = time.process_time() - cpu_start
    wal_bytes = wal.stat().st_size if count_wal and wal.exists() else None
    with db.session_scope() as session:
        size = service.tree_size(session=session)
        assert size == before + total
        root = service.root_hash(session=session, size=size)
    db.dispose()
    counted = (
        {}
        if wal_bytes is None
        else {"wal_pages_per_append_merges_included": round(wal_bytes / 4096 / total, 3)}
    )
    return {
        **counted,
        "log_size_before": before,
        "entries": total,
        "batch": batch,
        "synchronous": synchronous,
        "seconds": round(elapsed, 3),
        "appends_per_s": round(total / elapsed),
        # What one uncontended core sustains: the machine is shared, so wall time also
        # counts other processes' turns (fsync waits are excluded from this one).
        "cpu_seconds": round(cpu, 3),
        "appends_per_cpu_s": round(total / cpu),
        "commits_per_s": round(total / batch / elapsed, 1),
        # Recent fact keys merged into the big index inside the timed loop (their own commits).
        "fact_keys_merged": merged,
        "root": root.hex(),
    }


def merge_when_due(db: Database) -> int:
    """What the ledger's merge worker does (`runtime.merge_fact_keys`), here after every
    batch: one bounded merge of the recent fact keys, in its own transaction, once enough wait."""
    with db.session_scope() as session:
        return service.merge_if_due(session=session, now=NOW)


def _on_connect(db: Database) -> Callable[[Callable[[Any], None]], Callable[[Any], None]]:
    from sqlalchemy import event

    def register(fn: Callable[[Any], None]) -> Callable[[Any], None]:
        def listener(dbapi_conn: Any, _record: Any) -> None:
            fn(dbapi_conn)

        event.listen(db.engine, "connect", listener)
        return fn

    return register


def synthetic_leaf_hash(i: int) -> bytes:
    return hashlib.sha256(b"\x00bench-leaf-" + i.to_bytes(8, "big")).digest()


def envelope(i: int) -> Envelope:
    """A hash-only entry, as a module anchoring a document by its digest would make."""
    digest = hashlib.sha256(b"bench-doc-" + i.to_bytes(8, "big")).hexdigest()
    return Envelope("trace.event", "coop-0001", STAMP, digest)


def packed_levels(level: bytearray) -> Iterator[tuple[int, bytearray]]:
    """All perfect subtrees of a log with these leaf hashes, level by level; hashes packed
    32 bytes apiece (10 M leaves: 320 MB, not ~1 GB of bytes objects in a list)."""
    sha = hashlib.sha256
    lv = 0
    while level:
        yield lv, level
        count = len(level) // 32
        if count < 2:
            break
        view = memoryview(level)
        parent = bytearray()
        for j in range(0, (count // 2) * 64, 64):
            parent += sha(b"\x01" + view[j : j + 64]).digest()
        view.release()
        level = parent
        lv += 1


ENTRY_TYPE = "trace.event"
ORGANISATION = "coop-0001"
# envelope(i).leaf() is these three parts around the payload hash (checked in `_entry_rows`).
LEAF_HEAD = b'{"org":"' + ORGANISATION.encode() + b'","payload_sha256":"'
LEAF_TAIL = f'","time":"{STAMP}","type":"{ENTRY_TYPE}","v":1}}'.encode()
FACT_HEAD = f"{ENTRY_TYPE}\x00{ORGANISATION}\x00".encode()
BUILD_CHUNK = 200_000  # entries computed and inserted per executemany


def _entry_rows(start: int, stop: int, level0: bytearray) -> list[tuple[Any, ...]]:
    """Rows of entries start..stop-1, exactly as `append_entries` would store them (leaf,
    fact key), computed without the append path; their leaf hashes go onto `level0`."""
    sha = hashlib.sha256
    rows = []
    for i in range(start, stop):
        digest = sha(b"bench-doc-" + i.to_bytes(8, "big")).hexdigest().encode()
        leaf = LEAF_HEAD + digest + LEAF_TAIL
        key = int.from_bytes(sha(FACT_HEAD + digest).digest()[:8], "big", signed=True)
        level0 += sha(b"\x00" + leaf).digest()
        rows.append((i, ENTRY_TYPE, ORGANISATION, STAMP_SQLITE, digest.decode(), key, leaf))
    return rows


def _check_rows(level0: bytearray, rows: list[tuple[Any, ...]]) -> None:
    """The hand-built rows are the real ones: same leaf, fact key and leaf hash."""
    for seq, *_, key, leaf in rows[:3] + rows[-3:]:
        env = envelope(seq)
        assert leaf == env.leaf() and key == env.fact_key64(), seq
        assert bytes(level0[32 * seq : 32 * seq + 32]) == env.leaf_hash(), seq


def build_big_log(path: Path, n: int, *, with_entries: bool) -> dict[str, Any]:
    """An n-entry log bulk-loaded: the subtree table, and the entries themselves if asked.

    Entries are computed in chunks (leaf, fact key and leaf hash by hand, checked against the
    real envelope) and inserted with one executemany per chunk; their fact keys then fill the
    merged dedup level (`ledger_fact_index`) in one sorted INSERT ... SELECT, as the
    migration does: 10 M entries in minutes, where appending them would take hours. Leaf
    hashes are kept packed for the subtree levels."""
    fresh_db(path).dispose()
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA journal_mode=OFF")  # a throwaway fixture: no journal while loading
    conn.execute("PRAGMA synchronous=OFF")
    conn.execute("PRAGMA cache_size=-2000000")  # 2 GB of page cache: the B-tree stays in memory
    t0 = time.perf_counter()
    level0 = bytearray()
    entries_seconds = index_seconds = 0.0
    if with_entries:
        insert = (
            "INSERT INTO ledger_entries(seq, entry_type, organisation_id, submitted_at, "
            "payload_sha256, fact_key, leaf, body) VALUES (?, ?, ?, ?, ?, ?, ?, NULL)"
        )
        for start in range(0, n, BUILD_CHUNK):
            rows = _entry_rows(start, min(n, start + BUILD_CHUNK), level0)
            if start == 0:
                _check_rows(level0, rows)
            conn.executemany(insert, rows)
            if start // BUILD_CHUNK % 10 == 9:
                log(f"  {start + len(rows):,} entries")
        entries_seconds = time.perf_counter() - t0
        t1 = time.perf_counter()
        conn.execute(
            "INSERT INTO ledger_fact_index (fact_key, seq) "
            "SELECT fact_key, seq FROM ledger_entries ORDER BY fact_key, seq"
        )
        index_seconds = time.perf_counter() - t1
    else:
        for i in range(n):
            level0 += synthetic_leaf_hash(i)
    hashing = 0.0
    rows_written = 0
    gen = packed_levels(level0)
    del level0
    while True:
        h0 = time.perf_counter()
        try:
            lv, hashes = next(gen)
        except StopIteration:
            break
        hashing += time.perf_counter() - h0
        conn.executemany(
            "INSERT INTO ledger_nodes(key, hash) VALUES (?, ?)",
            (
                (node_key(lv, i), bytes(hashes[32 * i : 32 * i + 32]))
                for i in range(len(hashes) // 32)
            ),
        )
        rows_written += len(hashes) // 32
        del hashes
    conn.execute("UPDATE ledger_tree SET size = ?, merged_size = ? WHERE id = 1", (n, n))
    conn.commit()
    conn.close()
    total = time.perf_counter() - t0
    return {
        "entries": n,
        "entry_rows": n if with_entries else 0,
        "node_rows": rows_written,
        "build_seconds": round(total, 1),
        "entries_seconds": round(entries_seconds, 1),
        "fact_key_index_seconds": round(index_seconds, 1),
        "hashing_seconds": round(hashing, 1),
        "db_bytes": path.stat().st_size,
    }


def percentiles(samples: list[float]) -> dict[str, float]:
    """Wall-clock latency; on a shared 2-core box the tail includes being descheduled."""
    s = sorted(samples)
    return {
        "mean_ms": round(statistics.fmean(s) * 1e3, 4),
        "p50_ms": round(s[len(s) // 2] * 1e3, 4),
        "p99_ms": round(s[min(len(s) - 1, int(len(s) * 0.99))] * 1e3, 4),
        "max_ms": round(s[-1] * 1e3, 4),
    }


def proofs(
    path: Path, n: int, samples: int, leaf_hash_of: Callable[[int], bytes]
) -> dict[str, Any]:
    db = Database(f"sqlite:///{path}")
    rng = random.Random(n)
    gen: list[float] = []
    gen_cpu: list[float] = []
    ver: list[float] = []
    cgen: list[float] = []
    cver: list[float] = []
    lengths: list[int] = []
    with db.session_scope() as session:
        session.execute(text("PRAGMA cache_size=-200000"))
        root = service.root_hash(session=session, size=n)
        # Warm-up touches the upper levels of the B-tree, as a running server would have.
        for _ in range(50):
            service.inclusion_proof(session=session, seq=rng.randrange(n), size=n)
        for _ in range(samples):
            i = rng.randrange(n)
            t, c = time.perf_counter(), time.process_time()
            proof = service.inclusion_proof(session=session, seq=i, size=n)
            gen.append(time.perf_counter() - t)
            gen_cpu.append(time.process_time() - c)
            leaf = leaf_hash_of(i)
            t = time.perf_counter()
            merkle.verify_inclusion(i, n, leaf, proof, root)
            ver.append(time.perf_counter() - t)
            lengths.append(len(proof))
        for _ in range(max(samples // 4, 50)):
            m = rng.randrange(1, n)
            t = time.perf_counter()
            cproof = service.consistency_proof(session=session, first=m, second=n)
            cgen.append(time.perf_counter() - t)
            old_root = service.root_hash(session=session, size=m)
            t = time.perf_counter()
            merkle.verify_consistency(m, n, cproof, old_root, root)
            cver.append(time.perf_counter() - t)
    db.dispose()
    return {
        "entries": n,
        "samples": samples,
        "inclusion_proof_hashes_mean": round(statistics.fmean(lengths), 1),
        "inclusion_generate": percentiles(gen),
        "inclusion_generate_cpu": percentiles(gen_cpu),
        "inclusion_verify": percentiles(ver),
        "consistency_generate": percentiles(cgen),
        "consistency_verify": percentiles(cver),
        "root": root.hex(),
    }


def profile_batch(path: Path, *, batch: int, offset: int) -> dict[str, Any]:
    """One durable batch onto the log under cProfile, with the time of every SQL statement
    kind (the cursor's own time) and the commit: where an append onto a big log goes."""
    import cProfile
    import pstats

    from sqlalchemy import event

    db = Database(f"sqlite:///{path}")

    @_on_connect(db)
    def _sync(conn: Any) -> None:
        conn.execute("PRAGMA synchronous=FULL")
        conn.execute("PRAGMA wal_autocheckpoint=0")  # the WAL then holds this batch's pages

    db.engine.dispose()
    with db.engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    wal = Path(str(path) + "-wal")
    statements: dict[str, list[float]] = {}
    started: list[float] = []

    def before(*_: Any) -> None:
        started.append(time.perf_counter())

    def after(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        kind = " ".join(statement.split()[:3])[:40]
        cell = statements.setdefault(kind, [0, 0.0])
        cell[0] += 1
        cell[1] += time.perf_counter() - started.pop()

    event.listen(db.engine, "before_cursor_execute", before)
    event.listen(db.engine, "after_cursor_execute", after)
    items = [NewEntry("trace.event", "coop-0001", body(offset + i)) for i in range(batch)]
    profiler = cProfile.Profile()
    t0 = time.perf_counter()
    c0 = time.process_time()
    profiler.enable()
    with db.session_scope() as session:
        service.append_entries(session=session, entries=items, now=NOW)
        t_commit = time.perf_counter()
    profiler.disable()
    wall = time.perf_counter() - t0
    cpu = time.process_time() - c0
    commit = time.perf_counter() - t_commit
    wal_bytes = wal.stat().st_size if wal.exists() else 0
    db.dispose()
    stats = pstats.Stats(profiler)
    top = sorted(stats.stats.items(), key=lambda kv: kv[1][2], reverse=True)[:15]  # type: ignore[attr-defined]
    return {
        "entries": batch,
        "wall_seconds": round(wall, 3),
        "cpu_seconds": round(cpu, 3),
        "commit_seconds_incl_fsync": round(commit, 3),
        # Pages the batch wrote to the WAL (4 KiB each): on a big log the fact-key index
        # inserts land on random pages, about one page per append.
        "wal_bytes": wal_bytes,
        "wal_pages_per_append": round(wal_bytes / 4096 / batch, 2),
        "statements": {k: {"count": n, "seconds": round(t, 3)} for k, (n, t) in statements.items()},
        "top_tottime": [
            {
                "function": f"{Path(file).name}:{line}:{name}",
                "calls": cc,
                "tottime_s": round(tt, 3),
                "cumtime_s": round(ct, 3),
            }
            for (file, line, name), (cc, _nc, tt, ct, _callers) in top
        ],
    }


def appends_onto(scratch: Path, n: int, out: Path | None, *, repeats: int = 3) -> None:
    """Durable appends (FULL, batches of 5,000) onto an n-entry log against a fresh log, run
    by turns in the same process (fresh, big, fresh, big, ...) so that both see the same load
    on a shared machine; inclusion proofs at n; one batch profiled onto the big log."""
    path = scratch / f"onto-{n}.db"
    fresh = scratch / "fresh.db"
    load = {"start": os.getloadavg()}
    log(f"build {n:,}-entry log with entries")
    built = build_big_log(path, n, with_entries=True)
    log(f"  built in {built['build_seconds']} s ({built['db_bytes'] / 1e9:.2f} GB)")
    load["after_build"] = os.getloadavg()
    measured = proofs(path, n, samples=2000, leaf_hash_of=lambda i: envelope(i).leaf_hash())
    log(
        f"  inclusion p50 {measured['inclusion_generate']['p50_ms']} ms, "
        f"p99 {measured['inclusion_generate']['p99_ms']} ms"
    )
    onto_runs: list[dict[str, Any]] = []
    fresh_runs: list[dict[str, Any]] = []
    for rep in range(repeats):
        r = appends(fresh, total=50_000, batch=5000, synchronous="FULL")
        r["load_average_1min"] = os.getloadavg()[0]
        log(f"  FULL batch 5000 onto a fresh log: {r['appends_per_s']}/s")
        fresh_runs.append(r)
        r = appends(
            path,
            total=50_000,
            batch=5000,
            synchronous="FULL",
            existing=True,
            offset=10_000_000 * (rep + 1),
        )
        r["load_average_1min"] = os.getloadavg()[0]
        log(f"  FULL batch 5000 onto {r['log_size_before']:,}: {r['appends_per_s']}/s")
        onto_runs.append(r)
    log("  profile one batch onto the big log and one onto the fresh one")
    profiled = profile_batch(path, batch=5000, offset=90_000_000)
    profiled_fresh = profile_batch(fresh, batch=5000, offset=91_000_000)
    log("  WAL pages per append over 50,000 appends, merges included")
    wal_big = appends(
        path,
        total=50_000,
        batch=5000,
        synchronous="FULL",
        existing=True,
        offset=92_000_000,
        count_wal=True,
    )
    wal_fresh = appends(fresh, total=50_000, batch=5000, synchronous="FULL", count_wal=True)
    log(
        f"  {wal_big['wal_pages_per_append_merges_included']} onto the big log, "
        f"{wal_fresh['wal_pages_per_append_merges_included']} onto a fresh one"
    )
    load["end"] = os.getloadavg()

    def median(values: list[int]) -> int:
        return sorted(values)[len(values) // 2]

    result = {
        "benchmark": f"bench/ledger.py --onto {n}",
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "sqlite": sqlite3.sqlite_version,
            "shared": "2 cores shared with other engineers' jobs: see load_average",
        },
        "log_entries": n,
        "built": built,
        "proofs": measured,
        "onto_big_log": onto_runs,
        "onto_fresh_log": fresh_runs,
        "profile_one_batch_onto_big_log": profiled,
        "profile_one_batch_onto_fresh_log": profiled_fresh,
        "wal_counted_onto_big_log": wal_big,
        "wal_counted_onto_fresh_log": wal_fresh,
        "dedup": {
            "merge_rows": service.dedup_tuning().merge_rows,
            "sqlite_cache_mib": service.dedup_tuning().sqlite_cache_mib,
        },
        "load_average": load,
        "summary": {
            "log_entries": n,
            "durable_appends_per_s_onto_big_log": max(r["appends_per_s"] for r in onto_runs),
            "durable_appends_per_s_onto_big_log_median": median(
                [r["appends_per_s"] for r in onto_runs]
            ),
            "durable_appends_per_cpu_s_onto_big_log": max(
                r["appends_per_cpu_s"] for r in onto_runs
            ),
            "durable_appends_per_s_fresh_same_run": max(r["appends_per_s"] for r in fresh_runs),
            "durable_appends_per_cpu_s_fresh_same_run": max(
                r["appends_per_cpu_s"] for r in fresh_runs
            ),
            "target_appends_per_s": 20_000,
            "inclusion_p50_ms_at_largest": measured["inclusion_generate"]["p50_ms"],
            "inclusion_p99_ms_at_largest": measured["inclusion_generate"]["p99_ms"],
            "inclusion_p50_cpu_ms_at_largest": measured["inclusion_generate_cpu"]["p50_ms"],
            "target_proof_ms": 1.0,
            "build_seconds": built["build_seconds"],
            "wal_pages_per_append_onto_big_log": profiled["wal_pages_per_append"],
            "wal_pages_per_append_onto_fresh_log": profiled_fresh["wal_pages_per_append"],
            "wal_pages_per_append_merges_included_onto_big_log": wal_big[
                "wal_pages_per_append_merges_included"
            ],
            "wal_pages_per_append_merges_included_onto_fresh_log": wal_fresh[
                "wal_pages_per_append_merges_included"
            ],
        },
    }
    for p in (path, fresh):
        for suffix in ("", "-wal", "-shm"):
            Path(str(p) + suffix).unlink(missing_ok=True)
    if out is not None:
        out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result["summary"], indent=2))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes (smoke test)")
    parser.add_argument("--dir", type=Path, default=None, help="scratch directory")
    parser.add_argument(
        "--onto",
        type=int,
        default=None,
        help="only: durable appends and proofs onto a log of this many entries, against a "
        "fresh log in the same run, and a profile (writes --out)",
    )
    parser.add_argument("--out", type=Path, default=None, help="with --onto: the JSON to write")
    args = parser.parse_args()
    scratch = Path(args.dir or tempfile.mkdtemp(prefix="anxin-ledger-bench-"))
    scratch.mkdir(parents=True, exist_ok=True)
    if args.onto:
        appends_onto(scratch, args.onto, args.out)
        return
    big_sizes = [20_000, 100_000] if args.quick else [1_000_000, 10_000_000]
    append_total = 20_000 if args.quick else 50_000

    result: dict[str, Any] = {
        "benchmark": "anxin ledger",
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {
            "python": platform.python_version(),
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
            "sqlite": sqlite3.sqlite_version,
        },
        "quick": args.quick,
        "method": {
            "append_state_machine": [
                "lock the tree-head row (no-op UPDATE: a row lock on PostgreSQL, the write "
                "lock on SQLite)",
                "read size n; look up the batch's (payload hash, type, organisation) keys "
                "(repeats return their old seq)",
                "read the O(log n) right-edge subtree hashes and resume the compact range",
                "per new entry: canonicalise body (RFC 8785), SHA-256 it, build the envelope "
                "leaf, hash it, fold it into the range; collect the completed subtrees",
                "executemany the entries and subtree rows, update the head, commit (fsync)",
                "a checkpoint later signs the head: every N seconds or on demand, not per append",
            ],
            "workload": "one writer process; ~200-byte EPCIS-like JSON bodies, distinct "
            "payloads, batches of 1000 and 5000 entries per committed transaction (and 1 "
            "per commit for contrast); SQLite WAL on the local disk",
            "durability": "synchronous=FULL fsyncs the WAL at every commit (survives power "
            "loss); NORMAL (the app default) survives a process crash",
            "big_logs": "proof benchmarks bulk-load the log instead of appending one by "
            "one: the 1M log with real (hash-only) entries and their subtrees, the 10M log "
            "with subtrees only (proofs never read entries); proofs are served by the real "
            "service code with one indexed query of O(log n) keys. Appends are also timed "
            "onto the 1M log: their fact keys go to the small recent level, merged into the "
            "big fact-key index in sorted batches (the merges run inside the timed loop)",
            "comparison": "Trillian Tessera publishes about 2,900 writes/s on a local POSIX "
            "disk; it integrates asynchronously and writes tiles, so the shapes differ, but "
            "both numbers are durable appends into a verifiable log on one machine",
            "shared_machine": "2 cores shared with other engineers' test runs: wall-clock "
            "rates and latency tails depend on the load averages recorded here; the "
            "per-CPU-second rates do not",
        },
    }
    log("sha256 ceiling")
    result["load_average_before"] = os.getloadavg()
    result["sha256"] = sha256_rate()

    log("durable appends")
    runs = []
    for sync, batch in (("FULL", 1000), ("FULL", 5000), ("NORMAL", 1000)):
        # Best of three, like timeit: on a shared machine the fastest run is the one least
        # disturbed by other processes; every run is recorded.
        for rep in range(3):
            r = appends(scratch / "appends.db", total=append_total, batch=batch, synchronous=sync)
            r["repetition"] = rep + 1
            log(f"  {sync} batch {batch} (run {rep + 1}): {r['appends_per_s']}/s")
            runs.append(r)
    single = appends(scratch / "appends.db", total=2000, batch=1, synchronous="FULL")
    log(f"  FULL batch 1: {single['appends_per_s']}/s")
    runs.append(single)
    result["appends"] = runs

    result["big_logs"] = []
    for n in big_sizes:
        path = scratch / f"big-{n}.db"
        # The smaller log holds real entries too, so appends can be timed on a full index.
        with_entries = n == big_sizes[0]
        log(f"build {n:,}-entry log" + (" with entries" if with_entries else " (subtrees only)"))
        built = build_big_log(path, n, with_entries=with_entries)
        log(f"  built in {built['build_seconds']} s ({built['db_bytes'] / 1e9:.2f} GB)")
        leaf_of = (lambda i: envelope(i).leaf_hash()) if with_entries else synthetic_leaf_hash
        measured = proofs(path, n, samples=2000, leaf_hash_of=leaf_of)
        log(
            f"  inclusion p50 {measured['inclusion_generate']['p50_ms']} ms, "
            f"p99 {measured['inclusion_generate']['p99_ms']} ms"
        )
        if with_entries:
            for rep in range(3):
                r = appends(
                    path,
                    total=append_total,
                    batch=5000,
                    synchronous="FULL",
                    existing=True,
                    offset=10_000_000 * (rep + 1),
                )
                r["repetition"] = rep + 1
                log(f"  FULL batch 5000 onto {r['log_size_before']:,}: {r['appends_per_s']}/s")
                runs.append(r)
        result["big_logs"].append({**built, **measured})
        for suffix in ("", "-wal", "-shm"):
            Path(str(path) + suffix).unlink(missing_ok=True)

    full = [
        r
        for r in runs
        if r["synchronous"] == "FULL" and r["batch"] >= 1000 and r["log_size_before"] == 0
    ]
    at_scale = [r for r in runs if r["log_size_before"] > 0]
    best = max(r["appends_per_s"] for r in full)
    node_rate = result["sha256"]["node_65B_hashes_per_s"]
    result["summary"] = {
        "durable_appends_per_s_sqlite_full_fsync": best,
        "durable_appends_per_s_sqlite_full_fsync_median": sorted(r["appends_per_s"] for r in full)[
            len(full) // 2
        ],
        "target_appends_per_s": 20_000,
        "tessera_writes_per_s": TESSERA_WRITES_PER_S,
        "vs_tessera": round(best / TESSERA_WRITES_PER_S, 1),
        # Each append hashes the body, the leaf and about one interior node.
        "sha256_ceiling_appends_per_s": round(node_rate / 3),
        "durable_appends_per_cpu_s_sqlite_full_fsync": max(r["appends_per_cpu_s"] for r in full),
        "durable_appends_per_s_onto_big_log": max(
            (r["appends_per_s"] for r in at_scale), default=None
        ),
        "inclusion_p50_ms_at_largest": result["big_logs"][-1]["inclusion_generate"]["p50_ms"],
        "inclusion_p99_ms_at_largest": result["big_logs"][-1]["inclusion_generate"]["p99_ms"],
        "inclusion_p99_cpu_ms_at_largest": result["big_logs"][-1]["inclusion_generate_cpu"][
            "p99_ms"
        ],
        "inclusion_verify_p50_ms_at_largest": result["big_logs"][-1]["inclusion_verify"]["p50_ms"],
        "target_proof_ms": 1.0,
    }
    result["load_average_after"] = os.getloadavg()
    if not args.quick:
        RESULTS.parent.mkdir(parents=True, exist_ok=True)
        RESULTS.write_text(json.dumps(result, indent=2) + "\n")
        log(f"wrote {RESULTS}")
    print(json.dumps(result["summary"], indent=2))


if __name__ == "__main__":
    main()
