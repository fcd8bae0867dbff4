"""Micro-benchmark: narrow (one row per value) vs per-message JSON rows, same data, same run.

Writes N messages of K values into scratch tables with the storage path each shape would use
(COPY on PostgreSQL, executemany on SQLite) and prints µs per message and per value. Old and
new run in one process, alternating, so a shared machine's load affects both alike.

    python bench/reading_shapes.py --messages 5000 --values 1 25 [--postgres URL]
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import time
from datetime import UTC, datetime, timedelta
from typing import Any


def _messages(n: int, k: int) -> list[tuple[str, datetime, str, dict[str, float]]]:
    t0 = datetime(2026, 12, 7, tzinfo=UTC)
    return [
        (
            f"dev-{i % 200:04d}",
            t0 + timedelta(milliseconds=i),
            f"m-{i}",
            {f"k{j:02d}": float(j) for j in range(k)},
        )
        for i in range(n)
    ]


def sqlite_run(msgs: list[Any]) -> dict[str, float]:
    out = {}
    for shape in ("narrow", "json"):
        con = sqlite3.connect(":memory:")
        con.execute("CREATE TABLE devices (id TEXT PRIMARY KEY)")
        con.executemany("INSERT INTO devices VALUES (?)", [(f"dev-{i:04d}",) for i in range(200)])
        con.execute("PRAGMA foreign_keys = ON")
        if shape == "narrow":
            con.execute(
                "CREATE TABLE r (id INTEGER PRIMARY KEY, device_id TEXT REFERENCES devices(id), "
                "ts TEXT, key TEXT, num REAL, text TEXT, message_id TEXT)"
            )
            con.execute("CREATE INDEX ix ON r (device_id, ts, id)")
            rows = [
                (d, ts.isoformat(), k, v, None, m)
                for d, ts, m, data in msgs
                for k, v in data.items()
            ]
            sql = "INSERT INTO r (device_id, ts, key, num, text, message_id) VALUES (?,?,?,?,?,?)"
        else:
            con.execute(
                "CREATE TABLE r (id INTEGER PRIMARY KEY, device_id TEXT, ts TEXT, "
                "message_id TEXT, data TEXT)"
            )
            con.execute("CREATE INDEX ix ON r (device_id, ts, id)")
            rows = None
            sql = "INSERT INTO r (device_id, ts, message_id, data) VALUES (?,?,?,?)"
        start = time.perf_counter()
        if rows is None:  # encoding is part of the cost
            rows = [(d, ts.isoformat(), m, json.dumps(data)) for d, ts, m, data in msgs]
        con.executemany(sql, rows)
        con.commit()
        out[shape] = time.perf_counter() - start
        con.close()
    return out


def postgres_run(url: str, msgs: list[Any]) -> dict[str, float]:
    import psycopg

    out = {}
    with psycopg.connect(url) as con:
        con.execute("DROP SCHEMA IF EXISTS bench_shapes CASCADE")
        con.execute("CREATE SCHEMA bench_shapes")
        con.execute("SET search_path = bench_shapes")
        con.execute("CREATE TABLE devices (id varchar(36) PRIMARY KEY)")
        with con.cursor() as cur:
            cur.executemany(
                "INSERT INTO devices VALUES (%s)", [(f"dev-{i:04d}",) for i in range(200)]
            )
        con.execute(
            "CREATE TABLE narrow (id bigserial, device_id varchar(36) REFERENCES devices(id), "
            "ts timestamptz, key varchar(40), num float8, text text, message_id varchar(128), "
            "PRIMARY KEY (id, ts))"
        )
        con.execute("CREATE INDEX ON narrow (device_id, ts, id)")
        con.execute(
            "CREATE TABLE wide (id bigserial, device_id varchar(36), ts timestamptz, "
            "message_id varchar(128), data jsonb, PRIMARY KEY (id, ts))"
        )
        con.execute("CREATE INDEX ON wide (device_id, ts, id)")
        con.commit()
        for shape in ("narrow", "json"):
            start = time.perf_counter()
            with con.cursor() as cur:
                if shape == "narrow":
                    cols = "device_id, ts, key, num, text, message_id"
                    with cur.copy(f"COPY narrow ({cols}) FROM STDIN") as copy:
                        for d, ts, m, data in msgs:
                            for k, v in data.items():
                                copy.write_row((d, ts, k, v, None, m))
                else:
                    with cur.copy("COPY wide (device_id, ts, message_id, data) FROM STDIN") as copy:
                        for d, ts, m, data in msgs:
                            copy.write_row((d, ts, m, json.dumps(data)))
            con.commit()
            out[shape] = time.perf_counter() - start
        con.execute("DROP SCHEMA bench_shapes CASCADE")
        con.commit()
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=5000)
    parser.add_argument("--values", type=int, nargs="+", default=[1, 25])
    parser.add_argument("--postgres", default=None)
    args = parser.parse_args()
    for k in args.values:
        msgs = _messages(args.messages, k)
        runs = {"sqlite": sqlite_run(msgs)}
        if args.postgres:
            runs["postgresql"] = postgres_run(args.postgres, msgs)
        for db, times in runs.items():
            for shape, seconds in times.items():
                per_msg = seconds / args.messages * 1e6
                print(
                    f"{db:10} {k:2d} values/msg {shape:6}: {per_msg:8.1f} µs/message "
                    f"{per_msg / k:7.2f} µs/value"
                )


if __name__ == "__main__":
    main()
