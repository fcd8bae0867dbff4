"""Parsing with limits (issue 12, item 2): bounded depth before any recursion, Unicode text
only, a horizon for old readings, SenML per RFC 8428, and the Content-Type on HTTP."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from anxin.core.errors import InvalidInput
from anxin.iot.ingest import (
    DEFAULT_LIMITS,
    Limits,
    TooDeep,
    decode_json,
    json_depth,
    limits_for,
    parse_document,
    parse_payload,
    surely_within,
)
from anxin.iot.profiles import PROFILES_BY_CODE, metrics_of
from tests.conftest import START, device_headers

MAT = metrics_of(PROFILES_BY_CODE["sleep_mat"])
SPEAKER = metrics_of(PROFILES_BY_CODE["smart_speaker"])


def nested(depth: int) -> bytes:
    return b"[" * depth + b"]" * depth


def depth_of(doc: Any) -> int:
    if isinstance(doc, list):
        return 1 + max((depth_of(d) for d in doc), default=0)
    if isinstance(doc, dict):
        return 1 + max((depth_of(d) for d in doc.values()), default=0)
    return 0


# Strings full of what could fool a scanner: brackets, quotes, backslashes, escapes.
tricky = st.text(alphabet=st.sampled_from('[]{}"\\/ab\n\u00e9\u4e2d'), max_size=8)
documents = st.recursive(
    st.none() | st.booleans() | st.integers() | tricky,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(tricky, inner, max_size=4),
    max_leaves=30,
)


@given(documents)
def test_the_depth_scan_agrees_with_the_parser(doc: Any) -> None:
    for text in (json.dumps(doc), json.dumps(doc, ensure_ascii=False, indent=1)):
        assert json_depth(text.encode()) == depth_of(doc)


@given(documents, st.integers(0, 12))
def test_the_quick_test_never_vouches_for_a_deeper_document(doc: Any, limit: int) -> None:
    for text in (json.dumps(doc), json.dumps(doc, ensure_ascii=False)):
        if surely_within(text.encode(), limit):
            assert depth_of(doc) <= limit


def test_the_quick_test_vouches_for_usual_payloads():
    """The hot path: shallow batches skip the exact scan; a bracket in a string or a depth
    near the limit sends a payload to it."""
    batch = [{"message_id": f'm"{i}', "values": {"a": [1, {"b": "x"}]}} for i in range(50)]
    assert surely_within(json.dumps({"readings": batch}).encode(), 32)
    batch[7]["values"]["a"] = ["x[y"]
    assert not surely_within(json.dumps({"readings": batch}).encode(), 32)

    def wide(depth: int) -> bytes:  # more than 32 brackets, `depth` deep
        return b"[" + b",".join([nested(depth - 1)] * 3) + b"]"

    assert surely_within(wide(16), 32) and not surely_within(wide(17), 32)


def test_depth_is_refused_before_json_loads_recurses():
    # 5,000 brackets in 10 KB: the message that used to kill the MQTT consumer.
    with pytest.raises(TooDeep) as refused:
        decode_json(nested(5000))
    assert refused.value.fields[0].field == "body"
    assert "nested 5000 deep, over the limit of 32" in refused.value.message
    assert decode_json(nested(32)) is not None
    with pytest.raises(TooDeep):
        decode_json(nested(33))
    # Brackets inside strings do not count; unbalanced ones never hide depth.
    assert decode_json(b'{"a": "' + b"[" * 100 + b'"}') == {"a": "[" * 100}
    assert json_depth(b'"unterminated ' + nested(40)) == 40


def test_invalid_utf8_is_a_reason_not_a_crash():
    with pytest.raises(InvalidInput) as refused:
        decode_json(b'{"message_id": "\xff\xfe"}')
    assert refused.value.message.startswith("body: not UTF-8 text: invalid start byte at byte")


def _readings(items: list[Any], metrics=MAT, limits: Limits = DEFAULT_LIMITS):
    return parse_document(
        items, senml=False, metrics=metrics, now=START, max_items=100, limits=limits
    )


def test_lone_surrogates_and_control_characters_are_rejected_per_item():
    good, bad = _readings(
        [
            {"message_id": "\ud800", "values": {"heart_rate": 60}},
            {"message_id": "nul\u0000id", "values": {"heart_rate": 60}},
            {"message_id": "esc\u009b", "values": {"heart_rate": 60}},
            {"message_id": "ok", "values": {"heart_rate": 60}},
            {"message_id": "key", "values": {"\udfff": 1}},
        ]
    )
    assert [r.message_id for r in good] == ["ok"]
    reasons = {r.index: r.reason for r in bad}
    assert reasons[0] == "message_id: contains a lone surrogate (U+D800) at position 0"
    assert reasons[1] == "message_id: contains a control character (U+0000) at position 3"
    assert reasons[2].startswith("message_id: contains a control character (U+009B)")
    # What is stored and shown is always encodable text.
    for rejection in bad:
        (rejection.reason + (rejection.message_id or "")).encode("utf-8")
    assert bad[0].message_id == "\\ud800" and bad[1].message_id == "nul\\u0000id"
    assert reasons[4] == "values.\\udfff: not a metric of this device type"


def test_free_text_values_allow_line_breaks_but_not_other_controls():
    good, bad = _readings(
        [
            {"message_id": "a", "values": {"utterance": "help\nme\tplease"}},
            {"message_id": "b", "values": {"utterance": "bell\u0007"}},
            {"message_id": "c", "values": {"utterance": "half \ud83d"}},
        ],
        metrics=SPEAKER,
    )
    assert [r.message_id for r in good] == ["a"]
    assert [r.reason for r in bad] == [
        "values.utterance: contains a control character (U+0007) at position 4",
        "values.utterance: contains a lone surrogate (U+D83D) at position 5",
    ]


@pytest.mark.parametrize(
    "ts",
    ["0001-01-01T00:00:00Z", "1900-01-01T00:00:00Z", "1970-01-01T00:00:00Z", 0, 1, -1],
)
def test_readings_older_than_the_horizon_are_rejected(ts: object):
    good, bad = _readings([{"message_id": "old", "ts": ts, "values": {"heart_rate": 60}}])
    assert good == []
    assert "is more than 7 days, 0:00:00 old" in bad[0].reason
    assert "the horizon for this device type" in bad[0].reason


def test_the_horizon_is_per_device_type_and_configurable():
    eight_days = (START - timedelta(days=8)).isoformat()
    six_days = (START - timedelta(days=6)).isoformat()
    good, bad = _readings(
        [
            {"message_id": "6d", "ts": six_days, "values": {"heart_rate": 60}},
            {"message_id": "8d", "ts": eight_days, "values": {"heart_rate": 60}},
        ]
    )
    assert [r.message_id for r in good] == ["6d"] and [r.message_id for r in bad] == ["8d"]
    # A soil probe buffers through outages: its profile allows 30 days.
    probe = limits_for(PROFILES_BY_CODE["soil_probe"], DEFAULT_LIMITS)
    assert probe.max_age == timedelta(days=30)
    soil = metrics_of(PROFILES_BY_CODE["soil_probe"])
    good, _ = _readings(
        [{"message_id": "8d", "ts": eight_days, "values": {"ph": 6.5}}], soil, probe
    )
    assert len(good) == 1
    # The operator's setting moves the default, and the future skew too.
    strict = Limits(max_age=timedelta(days=1), max_future=timedelta(seconds=0))
    later = (START + timedelta(seconds=1)).isoformat()
    good, bad = _readings(
        [
            {"message_id": "6d", "ts": six_days, "values": {"heart_rate": 60}},
            {"message_id": "+1s", "ts": later, "values": {"heart_rate": 60}},
        ],
        limits=strict,
    )
    assert good == [] and "in the future" in bad[1].reason


def _senml(records: list[Any]):
    return parse_payload(
        json.dumps(records).encode(),
        content_type="application/senml+json; charset=utf-8",
        metrics=MAT,
        now=START,
        max_items=100,
    )


def test_senml_versions_value_fields_and_must_understand_fields():
    good, bad = _senml(
        [
            {"bn": "urn:dev:mat:", "bver": 10, "n": "heart_rate", "v": 61},
            {"n": "heart_rate", "t": 1, "v": 62, "vs": "62"},
            {"n": "heart_rate", "t": 2, "v": 63, "vb": True},
            {"n": "heart_rate", "t": 3, "v": 64, "extra_": 1},
            {"n": "heart_rate", "t": 4, "v": 65, "extra": 1},  # not must-understand: ignored
        ]
    )
    assert [r.values for r in good] == [{"heart_rate": 61.0}, {"heart_rate": 65.0}]
    assert [(r.index, r.reason) for r in bad] == [
        (1, "a record has one value field, not v, vs"),
        (2, "a record has one value field, not v, vb"),
        (3, "unsupported must-understand field(s): extra_"),
    ]
    # A version above 10 is refused, and as a base field it holds for the records after it.
    good, bad = _senml(
        [
            {"bn": "urn:dev:mat:", "bver": 99, "n": "heart_rate", "v": 61},
            {"n": "respiration_rate", "v": 14},
        ]
    )
    assert good == []
    assert [r.reason for r in bad] == ["bver: version 99 is above the supported 10"] * 2
    _, bad = _senml([{"bver": "10", "n": "heart_rate", "v": 61}])
    assert bad[0].reason == "bver: must be a positive integer"


def test_senml_names_must_be_text():
    _, bad = _senml([{"bn": "urn:dev:\u0000:", "n": "heart_rate", "v": 61}])
    assert bad[0].reason.startswith("n: the name (bn + n) contains a control character (U+0000)")


# --- over HTTP -----------------------------------------------------------------------------


def _post(client, token: str, body: bytes, headers: dict[str, str] | None = None):
    return client.post("/api/v1/telemetry", content=body, headers=headers or device_headers(token))


def test_json_nested_1000_deep_over_http_is_422(client, demo_devices):
    _, token = demo_devices["sleep_mat"]
    response = _post(client, token, nested(1000))
    assert response.status_code == 422
    assert response.json()["fields"] == [
        {"field": "body", "reason": "JSON nested 1000 deep, over the limit of 32"}
    ]


def test_lone_surrogate_over_http_rejects_the_item_and_keeps_the_rest(client, demo_devices):
    _, token = demo_devices["sleep_mat"]
    body = (
        b'[{"message_id": "\\ud800", "values": {"heart_rate": 60}},'
        b' {"message_id": "ok", "values": {"heart_rate": 61}}]'
    )
    response = _post(client, token, body)
    assert response.status_code == 200, response.text
    assert response.json()["accepted"] == 1
    assert response.json()["rejections"] == [
        {
            "index": 0,
            "message_id": "\\ud800",
            "reason": "message_id: contains a lone surrogate (U+D800) at position 0",
        }
    ]


@pytest.mark.parametrize(
    "content_type", [None, "text/plain", "multipart/form-data; boundary=x", "application/xml"]
)
def test_telemetry_needs_a_json_content_type(client, demo_devices, content_type):
    _, token = demo_devices["sleep_mat"]
    headers = {"Authorization": f"Bearer {token}"}
    if content_type:
        headers["Content-Type"] = content_type
    body = json.dumps({"message_id": "m", "values": {"heart_rate": 60}}).encode()
    response = _post(client, token, body, headers)
    assert response.status_code == 415
    error = response.json()
    assert error["error"] == "unsupported_media_type"
    assert error["fields"][0]["field"] == "content-type"
    assert "application/json, application/senml+json" in error["message"]
    # Both accepted types, parameters allowed.
    headers["Content-Type"] = "Application/JSON; charset=utf-8"
    assert _post(client, token, body, headers).status_code == 200
