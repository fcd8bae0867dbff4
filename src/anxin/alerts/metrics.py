"""Prometheus metrics of the alarm engine (served by ``/metrics``, see `core.metrics`)."""

from __future__ import annotations

from prometheus_client import Counter

ALARMS_RAISED = Counter(
    "anxin_alarms_raised", "Alarms raised, by severity and alarm type.", ["severity", "type"]
)
