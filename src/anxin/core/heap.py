"""Keep the garbage collector's full passes out of the hot path of long-running processes.

A server or consumer holds ~200,000 objects from its imports and wiring (measured: 183,000
after `create_app`, 203,000 with 10,000 devices cached) that never become garbage. CPython's
full (generation 2) collection scans them all, 75-95 ms on this machine, and it comes due at
an arbitrary allocation: in an ingest consumer, inside a unit of work holding SQLite's write
gate, where it stalled fall alarms behind it (docs/performance.md, "Alarm latency").
`gc.freeze()` (Python 3.7+) moves what is alive into a permanent generation that later
collections skip; collecting first means no garbage is frozen with it.
"""

from __future__ import annotations

import gc
import logging
import time

log = logging.getLogger(__name__)


def settle() -> int:
    """Collect, then freeze everything alive; returns how many objects were frozen."""
    started = time.perf_counter()
    gc.collect()
    gc.freeze()
    frozen = gc.get_freeze_count()
    log.info(
        "heap settled",
        extra={"frozen_objects": frozen, "ms": round((time.perf_counter() - started) * 1000, 1)},
    )
    return frozen
