"""Decoding and validating telemetry payloads, independent of the transport.

Three shapes are accepted: one reading (`{"message_id", "ts", "values"}`), a batch (a JSON
array of readings or `{"readings": [...]}`), and SenML (RFC 8428 JSON records). Each item is
judged on its own: a bad item is rejected with its index and reason, the rest go through.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from itertools import accumulate
from typing import Any

from anxin.core.errors import FieldProblem, InvalidInput
from anxin.iot.profiles import Metric, Profile

Value = float | str | bool

JSON_CONTENT_TYPE = "application/json"
SENML_CONTENT_TYPE = "application/senml+json"
CONTENT_TYPES = (JSON_CONTENT_TYPE, SENML_CONTENT_TYPE)
SENML_KEYS = frozenset(
    {"bn", "bt", "bu", "bv", "bver", "n", "u", "v", "vs", "vb", "vd", "s", "t", "ut"}
)
SENML_VALUE_KEYS = ("v", "vs", "vb", "vd")
# RFC 8428 §4.4: the version this implementation understands; a pack naming a higher one
# must be rejected.
SENML_VERSION = 10
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


@dataclass(frozen=True)
class Limits:
    """What a payload may be: nesting depth of its JSON, and how old or new its readings.

    A reading from further back than `max_age` (7 days unless the device type's profile says
    otherwise) is a device with a wrong clock (1970, 1900, 0001-01-01), not history to store.
    """

    max_depth: int = 32
    max_age: timedelta = timedelta(days=7)
    max_future: timedelta = timedelta(minutes=5)


DEFAULT_LIMITS = Limits()


def limits_for(profile: Profile, limits: Limits) -> Limits:
    """`limits` with the device type's own horizon, where its profile sets one."""
    if profile.max_age_s is None:
        return limits
    return replace(limits, max_age=timedelta(seconds=profile.max_age_s))


# A JSON string (escapes included) or any byte that is not a bracket: what the depth scan skips.
_JSON_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")
_DEPTH_STEP = [0] * 256
for _open in b"[{":
    _DEPTH_STEP[_open] = 1
for _close in b"]}":
    _DEPTH_STEP[_close] = -1


def json_depth(body: bytes) -> int:
    """The deepest bracket nesting of a JSON text, without recursion (so json.loads, which
    recurses per level, only ever sees bounded input). Strings are skipped first so brackets
    inside them do not count; every step is a C loop (regex, translate, accumulate)."""
    brackets = _JSON_STRING.sub(b"", body).translate(None, _NOT_BRACKETS)
    if not brackets:
        return 0
    return max(0, max(accumulate(map(_DEPTH_STEP.__getitem__, brackets))))


_NOT_MARKS = bytes(b for b in range(256) if b not in b'[]{}"')


def surely_within(body: bytes, limit: int) -> bool:
    """True only if `body` is nested at most `limit` deep: the hot path's cheap test (a few
    passes of bytes.replace), leaving `json_depth` to the payloads it cannot vouch for."""
    if body.count(b"[") + body.count(b"{") <= limit:
        return True
    if b"\\" in body:  # escaped backslashes and quotes are string content: drop them
        body = body.replace(b"\\\\", b"").replace(b'\\"', b"")
    # Quotes and brackets only; a string with no bracket in it is an adjacent pair of quotes.
    brackets = body.translate(None, _NOT_MARKS).replace(b'""', b"")
    if b'"' in brackets:  # some string holds a bracket: no quick answer
        return False
    # Each pass strips at least one level of innermost pairs (and at most two).
    for _ in range(limit // 2):
        if not brackets:
            return True
        brackets = brackets.replace(b"[]", b"").replace(b"{}", b"")
    return not brackets


class TooDeep(InvalidInput):
    """JSON nested deeper than the limit: refused before any recursive parsing."""


def decode_json(body: bytes, *, max_depth: int = DEFAULT_LIMITS.max_depth) -> Any:
    """The JSON document in `body`: strict UTF-8 (RFC 8259 §8.1), at most `max_depth` deep."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidInput.field(
            "body", f"not UTF-8 text: {exc.reason} at byte {exc.start}"
        ) from exc
    # After the UTF-8 check, so the scan sees the same quotes and brackets the parser will.
    depth = 0 if surely_within(body, max_depth) else json_depth(body)
    if depth > max_depth:
        reason = f"JSON nested {depth} deep, over the limit of {max_depth}"
        raise TooDeep(f"body: {reason}", fields=[FieldProblem("body", reason)])
    try:
        return json.loads(text)
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


def media_type(content_type: str) -> str:
    """`application/json; charset=utf-8` -> `application/json`."""
    return content_type.split(";")[0].strip().lower()


def parse_payload(
    body: bytes,
    *,
    content_type: str,
    metrics: dict[str, Metric],
    now: datetime,
    max_items: int,
    limits: Limits = DEFAULT_LIMITS,
) -> tuple[list[ParsedReading], list[Rejection]]:
    """Decode and validate a whole payload; malformed JSON or shape raises InvalidInput."""
    doc = decode_json(body, max_depth=limits.max_depth)
    senml = media_type(content_type) == SENML_CONTENT_TYPE
    return parse_document(
        doc, senml=senml, metrics=metrics, now=now, max_items=max_items, limits=limits
    )


def parse_document(
    doc: Any,
    *,
    senml: bool,
    metrics: dict[str, Metric],
    now: datetime,
    max_items: int,
    limits: Limits = DEFAULT_LIMITS,
) -> tuple[list[ParsedReading], list[Rejection]]:
    """Validate an already decoded payload (SenML when told so or when it looks like SenML)."""
    senml = senml or looks_like_senml(doc)
    items = raw_items(doc, senml=senml)
    if not items:
        raise InvalidInput.field("readings", "no readings in the payload")
    if len(items) > max_items:
        raise InvalidInput.field("readings", f"{len(items)} items exceed the limit of {max_items}")
    if senml:
        return _validate_senml(items, metrics=metrics, now=now, limits=limits)
    return _validate_readings(items, metrics=metrics, now=now, limits=limits)


def _validate_readings(
    items: list[Any], *, metrics: dict[str, Metric], now: datetime, limits: Limits
) -> tuple[list[ParsedReading], list[Rejection]]:
    good: list[ParsedReading] = []
    bad: list[Rejection] = []
    for index, item in enumerate(items):
        message_id = _peek_message_id(item)
        try:
            good.append(_parse_reading(index, item, metrics=metrics, now=now, limits=limits))
        except ItemError as exc:
            bad.append(Rejection(index, message_id, printable(str(exc))))
    return good, bad


def _peek_message_id(item: Any) -> str | None:
    """The item's message id as far as it can be shown and stored (for its rejection)."""
    if isinstance(item, dict) and isinstance(item.get("message_id"), str | int):
        return printable(str(item["message_id"]))[:MAX_MESSAGE_ID]
    return None


# Text a database can store and a screen can show: no C0/C1 control character in an id (a NUL
# truncates in C clients and PostgreSQL refuses it), none but tab and line breaks in free
# text, and no lone surrogate (JSON may escape one, "\ud800", but it is not Unicode text and
# cannot be encoded as UTF-8).
_BAD_IN_ID = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff]")
_BAD_IN_TEXT = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")


def text_problem(text: str, *, free_text: bool = False) -> str | None:
    """Why `text` is not acceptable Unicode text, or None."""
    bad = (_BAD_IN_TEXT if free_text else _BAD_IN_ID).search(text)
    if bad is None:
        return None
    code = ord(bad.group())
    kind = "a lone surrogate" if 0xD800 <= code <= 0xDFFF else "a control character"
    return f"contains {kind} (U+{code:04X}) at position {bad.start()}"


def printable(text: str) -> str:
    """`text` with control characters and lone surrogates escaped, safe to store and show."""
    return _BAD_IN_ID.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def _parse_reading(
    index: int, item: Any, *, metrics: dict[str, Metric], now: datetime, limits: Limits
) -> ParsedReading:
    if not isinstance(item, dict):
        raise ItemError("a reading must be a JSON object")
    unknown = set(item) - {"message_id", "ts", "values"}
    if unknown:
        raise ItemError(f"unknown field(s): {', '.join(sorted(unknown))}")
    message_id = _message_id(item.get("message_id"))
    ts = parse_timestamp(item.get("ts"), now=now, limits=limits)
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
    problem = text_problem(text)
    if problem:
        raise ItemError(f"message_id: {problem}")
    return text


def parse_timestamp(raw: Any, *, now: datetime, limits: Limits = DEFAULT_LIMITS) -> datetime:
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
    if ts > now + limits.max_future:
        raise ItemError(f"ts: {ts.isoformat()} is more than {limits.max_future} in the future")
    if ts < now - limits.max_age:
        raise ItemError(
            f"ts: {ts.isoformat()} is more than {limits.max_age} old "
            "(the horizon for this device type; is the device's clock set?)"
        )
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
        problem = text_problem(value, free_text=True)
        if problem:
            raise ItemError(f"values.{key}: {problem}")
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
    records: list[Any], *, metrics: dict[str, Metric], now: datetime, limits: Limits
) -> tuple[list[ParsedReading], list[Rejection]]:
    good: list[ParsedReading] = []
    bad: list[Rejection] = []
    base: dict[str, Any] = {"bn": "", "bt": 0.0, "bv": 0.0, "bver": SENML_VERSION}
    for index, record in enumerate(records):
        try:
            good.append(
                _parse_senml_record(index, record, base, metrics=metrics, now=now, limits=limits)
            )
        except ItemError as exc:
            bad.append(Rejection(index, None, printable(str(exc))))
    return good, bad


def _parse_senml_record(
    index: int,
    record: Any,
    base: dict[str, Any],
    *,
    metrics: dict[str, Metric],
    now: datetime,
    limits: Limits,
) -> ParsedReading:
    if not isinstance(record, dict):
        raise ItemError("a SenML record must be a JSON object")
    unknown = {k for k in record if k not in SENML_KEYS and k != "mid"}
    # RFC 8428 §4.4: a field whose name ends in "_" must be understood, or the record rejected.
    must_understand = sorted(k for k in unknown if k.endswith("_"))
    if must_understand:
        raise ItemError(f"unsupported must-understand field(s): {', '.join(must_understand)}")
    if "bver" in record:
        version = record["bver"]
        if not isinstance(version, int) or isinstance(version, bool) or version < 1:
            raise ItemError("bver: must be a positive integer")
        base["bver"] = version  # a base field: it holds for the records that follow too
    # §4.4: a pack of a version above the one the recipient supports must be rejected.
    if base["bver"] > SENML_VERSION:
        raise ItemError(f"bver: version {base['bver']} is above the supported {SENML_VERSION}")
    values = [k for k in SENML_VALUE_KEYS if k in record]
    if len(values) > 1:
        # §4.2: a record has at most one of v, vs, vb and vd.
        raise ItemError(f"a record has one value field, not {', '.join(values)}")
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
    problem = text_problem(name)
    if problem:
        raise ItemError(f"n: the name (bn + n) {problem}")
    t = record.get("t", 0)
    if not _is_number(t):
        raise ItemError("t: must be a number")
    when = float(base["bt"]) + float(t)
    if abs(when) < SENML_RELATIVE_LIMIT:
        when = now.timestamp() + when
    ts = parse_timestamp(when, now=now, limits=limits)
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
