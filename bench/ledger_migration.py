"""`ledger_0003` on a big SQLite log: the old fill (every row read into Python, one UPDATE per
row by executemany) against the set-based upgrade, by turns on copies of one database.

    .venv/bin/python bench/ledger_migration.py [--entries 500000] [--rounds 2]

The "old" side times only the fill (add the column, read, update); the "new" side times the
whole `ledger_0003` upgrade (fill, then SQLite's table rebuild for the constraint and index
changes), so the comparison is unfavourable to the new one. Writes
bench/results/ledger_migration.json.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import sqlite3
import tempfile
import time
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from anxin.core import migrate

RESULTS = Path(__file__).resolve().parent / "results" / "ledger_migration.json"


def key64(entry_type: str, organisation: str, payload_sha256: str) -> int:
    digest = hashlib.sha256(f"{entry_type}\x00{organisation}\x00{payload_sha256}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def base_log(path: Path, n: int) -> None:
    migrate.upgrade(f"sqlite:///{path}", "ledger_0002")
    conn = sqlite3.connect(path)
    conn.executemany(
        "INSERT INTO ledger_entries(seq, entry_type, organisation_id, submitted_at, "
        "payload_sha256, leaf) VALUES (?, ?, ?, ?, ?, ?)",
        (
            (i, "trace.event", "coop-0001", "2026-11-29 04:00:00.000000",
             hashlib.sha256(i.to_bytes(8, "big")).hexdigest(), b"{}")
            for i in range(n)
        ),
    )  # fmt: skip
    conn.commit()
    conn.close()


def old_fill(path: Path) -> tuple[float, float]:
    engine = sa.create_engine(f"sqlite:///{path}")
    with engine.begin() as conn:
        conn.exec_driver_sql("ALTER TABLE ledger_entries ADD COLUMN fact_key BIGINT")
        t0, c0 = time.perf_counter(), time.process_time()
        rows = conn.execute(
            sa.text("SELECT seq, entry_type, organisation_id, payload_sha256 FROM ledger_entries")
        ).all()
        update = sa.text("UPDATE ledger_entries SET fact_key = :k WHERE seq = :s")
        for start in range(0, len(rows), 5000):
            conn.execute(
                update, [{"k": key64(t, o, p), "s": s} for s, t, o, p in rows[start : start + 5000]]
            )
        wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    engine.dispose()
    return wall, cpu


def new_upgrade(path: Path) -> tuple[float, float]:
    t0, c0 = time.perf_counter(), time.process_time()
    migrate.upgrade(f"sqlite:///{path}", "ledger_0003")
    return time.perf_counter() - t0, time.process_time() - c0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--entries", type=int, default=500_000)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    scratch = Path(tempfile.mkdtemp(prefix="anxin-ledger-migration-"))
    base = scratch / "base.db"
    base_log(base, args.entries)
    out: dict[str, Any] = {
        "benchmark": "bench/ledger_migration.py",
        "entries": args.entries,
        "load_average_before": os.getloadavg(),
        "rounds": [],
    }
    for _ in range(args.rounds):
        shutil.copy(base, scratch / "old.db")
        old = old_fill(scratch / "old.db")
        shutil.copy(base, scratch / "new.db")
        new = new_upgrade(scratch / "new.db")
        out["rounds"].append(
            {
                "old_fill_seconds": round(old[0], 1),
                "old_fill_cpu_seconds": round(old[1], 1),
                "new_whole_upgrade_seconds": round(new[0], 1),
                "new_whole_upgrade_cpu_seconds": round(new[1], 1),
                "load_average_1min": os.getloadavg()[0],
            }
        )
        print(json.dumps(out["rounds"][-1]), flush=True)
    out["load_average_after"] = os.getloadavg()
    shutil.rmtree(scratch, ignore_errors=True)
    args.out.write_text(json.dumps(out, indent=2) + "\n")


if __name__ == "__main__":
    main()
