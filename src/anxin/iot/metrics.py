"""Prometheus metrics for telemetry ingestion.

The metrics live in prometheus-client's default registry, so ``/metrics`` on the web app
(`core.metrics`) and the ``--metrics-port`` endpoint of the ingestion consumers expose the
same names. Label values are small closed sets (transport, outcome, reason code) so
cardinality stays bounded; the device and the full reason go to the logs and the
``telemetry_rejections`` table, not to labels.
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

READINGS = Counter(
    "anxin_telemetry_readings",
    "Telemetry readings by outcome (accepted, duplicate).",
    ["transport", "outcome"],
)
REJECTED = Counter(
    "anxin_telemetry_rejected",
    "Rejected telemetry (whole messages or single readings) by reason code.",
    ["transport", "reason"],
)
MESSAGES = Counter("anxin_telemetry_messages", "Transport messages received.", ["transport"])
BATCH_MESSAGES = Histogram(
    "anxin_ingest_batch_messages",
    "Messages per ingestion unit of work.",
    ["transport"],
    buckets=(1, 10, 50, 100, 250, 500, 1000, 2500, 5000, 10000),
)
BATCH_READINGS = Histogram(
    "anxin_ingest_batch_readings",
    "Readings stored per ingestion unit of work.",
    ["transport"],
    buckets=(1, 10, 100, 1000, 5000, 10000, 25000, 50000, 100000),
)
BATCH_SECONDS = Histogram(
    "anxin_ingest_batch_seconds",
    "Time to decode, store and commit one ingestion unit of work.",
    ["transport"],
    buckets=(0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
LAG = Gauge(
    "anxin_ingest_lag_seconds",
    "Age, at commit, of the oldest message of the last batch (broker time where the transport "
    "gives one, else time of receipt by the consumer).",
    ["transport"],
)
QUEUE_DEPTH = Gauge(
    "anxin_ingest_queue_depth", "Messages received and waiting in the consumer.", ["transport"]
)
PENDING = Gauge(
    "anxin_ingest_pending_messages",
    "Messages waiting in the broker for this consumer group (JetStream num_pending).",
    ["transport"],
)
RETRIES = Counter(
    "anxin_ingest_retries", "Batches retried after a transient database error.", ["transport"]
)
DEAD_LETTERS = Counter(
    "anxin_dead_letters",
    "Messages that could not be processed, acknowledged into the dead-letter store.",
    ["transport", "reason"],
)
DEAD_LETTERS_REPLAYED = Counter(
    "anxin_dead_letters_replayed", "Dead letters replayed successfully.", ["transport"]
)
# Stable reason codes for the `reason` label.
TOO_LARGE = "too_large"
MALFORMED = "malformed"
UNAUTHENTICATED = "unauthenticated"
UNKNOWN_DEVICE = "unknown_device"
RATE_LIMITED = "rate_limited"
INVALID_READING = "invalid_reading"
TOO_DEEP = "too_deep"
# Dead letters only: a handler (a rule, a bus subscriber) raised, or the message broke the
# consumer's own code; neither is the device's fault, both are kept for replay after a fix.
HANDLER_FAILED = "handler_failed"
INTERNAL_ERROR = "internal_error"
