"""A serving process settles its heap once: garbage collected, the living frozen."""

from __future__ import annotations

import gc
import weakref

from fastapi.testclient import TestClient

from anxin.app import create_app
from anxin.core import heap
from tests.conftest import make_settings


class Node:
    def __init__(self) -> None:
        self.me = self  # a reference cycle: only the collector can free it


def test_settle_collects_garbage_and_freezes_what_lives():
    garbage = Node()
    gone = weakref.ref(garbage)
    del garbage
    alive = Node()
    try:
        frozen = heap.settle()
        assert gone() is None  # collected, not frozen with the rest
        assert frozen == gc.get_freeze_count() > 0
        assert not any(obj is alive for obj in gc.get_objects())  # no longer scanned
    finally:
        gc.unfreeze()
    assert any(obj is alive for obj in gc.get_objects())


def test_a_serving_app_settles_its_heap_at_startup_and_tests_do_not(database_url, monkeypatch):
    calls: list[int] = []
    monkeypatch.setattr(heap, "settle", lambda: calls.append(1) or 0)
    serving = make_settings(database_url, workers=False)
    served = create_app(serving.model_copy(update={"environment": "development"}))
    with TestClient(served):
        pass
    assert calls == [1]
    with TestClient(create_app(make_settings(database_url))):
        pass
    assert calls == [1]
