"""Decoding and validating telemetry payloads, independent of the transport.

Three shapes are accepted: one reading (`{"message_id", "ts", "values"}`), a batch (a JSON
array of readings or `{"readings": [...]}`), and SenML (RFC 8428 JSON records). Each item is
judged on its own: a bad item is rejected with its index and reason, the rest go through.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from anxin.core.errors import InvalidInput
from anxin.iot.profiles import Metric

Value = float | str | bool

SENML_CONTENT_TYPE = "application/senml+json"
SENML_KEYS = frozenset(
    {"bn", "bt", "bu", "bv", "bver", "n", "u", "v", "vs", "vb", "vd", "s", "t", "ut"}
)
# RFC 8428 §4.5.3: a time below 2**28 is relative to "now".
SENML_RELATIVE_LIMIT = 2**28
# Numbers above this are taken as Unix milliseconds rather than seconds (year 5138).
EPOCH_MS_THRESHOLD = 1e11
MAX_MESSAGE_ID = 128
MAX_TEXT = 500


@dataclass(frozen=True)
class ParsedReading:
    index: int
    message_id: str
    ts: datetime
    values: dict[str, Value]


@dataclass(frozen=True)
class Rejection:
    index: int | None
    message_id: str | None
    reason: str


class ItemError(ValueError):
    """One item is bad; the batch goes on."""


def decode_json(body: bytes) -> Any:
    try:
        return json.loads(body)
    except UnicodeDecodeError as exc:
        raise InvalidInput.field("body", f"not UTF-8 text: {exc.reason}") from exc
    except json.JSONDecodeError as exc:
        raise InvalidInput.field(
            "body", f"malformed JSON at line {exc.lineno} column {exc.colno}: {exc.msg}"
        ) from exc


def looks_like_senml(doc: Any) -> bool:
    if not isinstance(doc, list) or not doc or not isinstance(doc[0], dict):
        return False
    first = doc[0]
    return bool(first) and set(first) <= SENML_KEYS | {"mid"} and "values" not in first


def raw_items(doc: Any, *, senml: bool) -> list[Any]:
    """The list of items in a decoded payload, or InvalidInput if its shape is wrong."""
    if senml:
        if not isinstance(doc, list):
            raise InvalidInput.field("body", "SenML must be a JSON array of records")
        return doc
    if isinstance(doc, list):
        return doc
    if isinstance(doc, dict) and "readings" in doc:
        readings = doc["readings"]
        if not isinstance(readings, list):
            raise InvalidInput.field("readings", "must be an array of readings")
        return readings
    if isinstance(doc, dict):
        return [doc]
    raise InvalidInput.field("body", "expected a reading object, an array, or {'readings': [...]}")


def parse_payload(
    body: bytes, *, content_type: str, metrics: dict[str, Metric], now: datetime, max_items: int
) -> tuple[list[ParsedReading], list[Rejection]]:
    """Decode and validate a whole payload; malformed JSON or shape raises InvalidInput."""
    doc = decode_json(body)
    senml = content_type.split(";")[0].strip().lower() == SENML_CONTENT_TYPE
    return parse_document(doc, senml=senml, metrics=metrics, now=now, max_items=max_items)


def parse_document(
    doc: Any, *, senml: bool, metrics: dict[str, Metric], now: datetime, max_items: int
) -> tuple[list[ParsedReading], list[Rejection]]:
    """Validate an already decoded payload (SenML when told so or when it looks like SenML)."""
    senml = senml or looks_like_senml(doc)
    items = raw_items(doc, senml=senml)
    if not items:
        raise InvalidInput.field("readings", "no readings in the payload")
    if len(items) > max_items:
        raise InvalidInput.field("readings", f"{len(items)} items exceed the limit of {max_items}")
    if senml:
        return _validate_senml(items, metrics=metrics, now=now)
    return _validate_readings(items, metrics=metrics, now=now)


def _validate_readings(
    items: list[Any], *, metrics: dict[str, Metric], now: datetime
) -> tuple[list[ParsedReading], list[Rejection]]:
    good: list[ParsedReading] = []
    bad: list[Rejection] = []
    for index, item in enumerate(items):
        message_id = _peek_message_id(item)
        try:
            good.append(_parse_reading(index, item, metrics=metrics, now=now))
        except ItemError as exc:
            bad.append(Rejection(index, message_id, str(exc)))
    return good, bad


def _peek_message_id(item: Any) -> str | None:
    if isinstance(item, dict) and isinstance(item.get("message_id"), str | int):
        return str(item["message_id"])[:MAX_MESSAGE_ID]
    return None


def _parse_reading(
    index: int, item: Any, *, metrics: dict[str, Metric], now: datetime
) -> ParsedReading:
    if not isinstance(item, dict):
        raise ItemError("a reading must be a JSON object")
    unknown = set(item) - {"message_id", "ts", "values"}
    if unknown:
        raise ItemError(f"unknown field(s): {', '.join(sorted(unknown))}")
    message_id = _message_id(item.get("message_id"))
    ts = parse_timestamp(item.get("ts"), now=now)
    values = item.get("values")
    if not isinstance(values, dict) or not values:
        raise ItemError("values: must be a non-empty object of metric: value")
    checked = {key: check_value(key, value, metrics) for key, value in values.items()}
    return ParsedReading(index, message_id, ts, checked)


def _message_id(raw: Any) -> str:
    if isinstance(raw, bool) or not isinstance(raw, str | int):
        raise ItemError("message_id: required, a string or integer chosen by the device")
    text = str(raw)
    if not 1 <= len(text) <= MAX_MESSAGE_ID:
        raise ItemError(f"message_id: must be 1 to {MAX_MESSAGE_ID} characters")
    return text


def parse_timestamp(
    raw: Any, *, now: datetime, max_future: timedelta = timedelta(minutes=5)
) -> datetime:
    if raw is None:
        return now
    if isinstance(raw, bool):
        raise ItemError("ts: must be an ISO-8601 time with zone or Unix seconds")
    if isinstance(raw, int | float):
        if not math.isfinite(raw):
            raise ItemError("ts: not a finite number")
        seconds = raw / 1000 if raw > EPOCH_MS_THRESHOLD else raw
        try:
            ts = datetime.fromtimestamp(seconds, tz=UTC)
        except (OverflowError, OSError, ValueError) as exc:
            raise ItemError("ts: out of range") from exc
    elif isinstance(raw, str):
        try:
            ts = datetime.fromisoformat(raw.replace("Z", "+00:00"))
        except ValueError as exc:
            raise ItemError(f"ts: not an ISO-8601 time: {raw[:40]!r}") from exc
        if ts.tzinfo is None:
            raise ItemError("ts: needs a time zone (e.g. 'Z' or '+08:00')")
        ts = ts.astimezone(UTC)
    else:
        raise ItemError("ts: must be an ISO-8601 time with zone or Unix seconds")
    if ts > now + max_future:
        raise ItemError(f"ts: {ts.isoformat()} is more than {max_future} in the future")
    return ts


def check_value(key: str, value: Any, metrics: dict[str, Metric]) -> Value:
    metric = metrics.get(key)
    if metric is None:
        raise ItemError(f"values.{key}: not a metric of this device type")
    if metric.kind == "bool":
        if not isinstance(value, bool):
            raise ItemError(f"values.{key}: must be true or false")
        return value
    if metric.kind == "string":
        if not isinstance(value, str) or len(value) > MAX_TEXT:
            raise ItemError(f"values.{key}: must be text of at most {MAX_TEXT} characters")
        if metric.choices and value not in metric.choices:
            raise ItemError(f"values.{key}: {value!r} is not one of {', '.join(metric.choices)}")
        return value
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ItemError(f"values.{key}: must be a finite number")
    if metric.minimum is not None and value < metric.minimum:
        raise ItemError(f"values.{key}: {value} is below the minimum {metric.minimum}")
    if metric.maximum is not None and value > metric.maximum:
        raise ItemError(f"values.{key}: {value} is above the maximum {metric.maximum}")
    return float(value)


def _validate_senml(
    records: list[Any], *, metrics: dict[str, Metric], now: datetime
) -> tuple[list[ParsedReading], list[Rejection]]:
    good: list[ParsedReading] = []
    bad: list[Rejection] = []
    base: dict[str, Any] = {"bn": "", "bt": 0.0, "bv": 0.0}
    for index, record in enumerate(records):
        try:
            good.append(_parse_senml_record(index, record, base, metrics=metrics, now=now))
        except ItemError as exc:
            bad.append(Rejection(index, None, str(exc)))
    return good, bad


def _parse_senml_record(
    index: int, record: Any, base: dict[str, Any], *, metrics: dict[str, Metric], now: datetime
) -> ParsedReading:
    if not isinstance(record, dict):
        raise ItemError("a SenML record must be a JSON object")
    unknown = {k for k in record if k not in SENML_KEYS and k != "mid"}
    must_understand = sorted(k for k in unknown if k.endswith("_"))
    if must_understand:
        raise ItemError(f"unsupported must-understand field(s): {', '.join(must_understand)}")
    # Base fields carry forward to later records (RFC 8428 §4.1).
    if isinstance(record.get("bn"), str):
        base["bn"] = record["bn"]
    for field_name in ("bt", "bv"):
        if field_name in record:
            if not _is_number(record[field_name]):
                raise ItemError(f"{field_name}: must be a number")
            base[field_name] = float(record[field_name])
    name = str(base["bn"]) + str(record.get("n", ""))
    key = str(record.get("n") or name.rsplit(":", 1)[-1].rsplit("/", 1)[-1])
    if not key:
        raise ItemError("n: a record needs a name (n or bn)")
    t = record.get("t", 0)
    if not _is_number(t):
        raise ItemError("t: must be a number")
    when = float(base["bt"]) + float(t)
    if abs(when) < SENML_RELATIVE_LIMIT:
        when = now.timestamp() + when
    ts = parse_timestamp(when, now=now)
    if "vd" in record:
        raise ItemError(f"{key}: data values (vd) are not accepted")
    value = _senml_value(record, base, key)
    checked = check_value(key, value, metrics)
    message_id = _message_id(record["mid"]) if "mid" in record else f"senml:{name}@{when:.6f}"
    return ParsedReading(index, message_id[:MAX_MESSAGE_ID], ts, {key: checked})


def _senml_value(record: dict[str, Any], base: dict[str, Any], key: str) -> Any:
    if "v" in record:
        if not _is_number(record["v"]):
            raise ItemError(f"{key}: v must be a number")
        return float(base["bv"]) + float(record["v"])
    if "vb" in record:
        return record["vb"]
    if "vs" in record:
        return record["vs"]
    raise ItemError(f"{key}: a record needs a value (v, vb or vs)")


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)
