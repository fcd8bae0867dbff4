"""The CBV 2.0 event hash: the published reference example byte for byte, and properties."""

from __future__ import annotations

import copy
import random
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from anxin.trace import vocab
from anxin.trace.eventhash import event_hash, normal_time, pre_hash
from tests.trace import documents as d

# The "epcisDocWithSingleEvent" example of the GS1 EPCIS Event Hash ID reference implementation
# (github.com/RalphTro/epcis-event-hash-generator, tests/examples), which implements CBV 2.0 §8.9.
REFERENCE_CONTEXT = [
    "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld",
    {"gs1": "https://gs1.org/voc/"},
]
REFERENCE: dict[str, Any] = {
    "type": "ObjectEvent",
    "action": "OBSERVE",
    "bizStep": "shipping",
    "disposition": "in_transit",
    "epcList": ["urn:epc:id:sgtin:0614141.107346.2017", "urn:epc:id:sgtin:0614141.107346.2018"],
    "eventTime": "2022-02-16T20:33:31.116000-06:00",
    "eventTimeZoneOffset": "-06:00",
    "readPoint": {"id": "urn:epc:id:sgln:0614141.07346.1234"},
    "bizTransactionList": [
        {"type": "po", "bizTransaction": "http://transaction.acme.com/po/12345678"}
    ],
}
REFERENCE_PREHASH = (
    "eventType=ObjectEventeventTime=2022-02-17T02:33:31.116ZeventTimeZoneOffset=-06:00"
    "epcListepc=https://id.gs1.org/01/10614141073464/21/2017"
    "epc=https://id.gs1.org/01/10614141073464/21/2018action=OBSERVE"
    "bizStep=https://ref.gs1.org/cbv/BizStep-shipping"
    "disposition=https://ref.gs1.org/cbv/Disp-in_transit"
    "readPointid=https://id.gs1.org/414/0614141073467/254/1234"
    "bizTransactionListbizTransaction=http://transaction.acme.com/po/12345678"
    "type=https://ref.gs1.org/cbv/BTT-po"
)
REFERENCE_HASH = (
    "ni:///sha-256;3e0f2437f4cb5e8a1b832b769c0eed1bf3e1421f14061132e9800ded03f10182?ver=CBV2.0"
)


def test_published_reference_event() -> None:
    assert pre_hash(REFERENCE, context=REFERENCE_CONTEXT) == REFERENCE_PREHASH
    assert event_hash(REFERENCE, context=REFERENCE_CONTEXT) == REFERENCE_HASH


def test_the_same_event_in_other_spellings_has_the_same_hash() -> None:
    other = copy.deepcopy(REFERENCE)
    other["eventTime"] = "2022-02-17T02:33:31.1156Z"  # rounds to .116
    other["bizStep"] = "urn:epcglobal:cbv:bizstep:shipping"
    other["disposition"] = "https://ref.gs1.org/cbv/Disp-in_transit"
    other["epcList"] = [
        "https://id.gs1.org/01/10614141073464/21/2018",
        "https://example.com/shop/01/10614141073464/21/2017?x=1",
    ]
    other["eventID"] = "urn:uuid:7a3f"  # identity fields do not count
    other["recordTime"] = "2026-01-01T00:00:00Z"
    assert event_hash(other, context=REFERENCE_CONTEXT) == REFERENCE_HASH


def test_an_error_declaration_keeps_the_id_of_the_event_it_corrects() -> None:
    assert event_hash(d.CORRECTION, context=d.CONTEXT) == event_hash(
        d.FERTILISING, context=d.CONTEXT
    )


def test_extensions_are_namespaced_and_sorted() -> None:
    text = pre_hash(d.FERTILISING, context=d.CONTEXT)
    assert text.endswith(
        # members of an extension object are sorted; plain member names stay as written
        "{https://voc.anxin.cn/trace/}inputorganic=trueproduct=composted rapeseed cakequantity=300"
    )


def test_time_normalisation() -> None:
    assert normal_time("2026-05-10T08:00:00+08:00") == "2026-05-10T00:00:00.000Z"
    assert normal_time("2026-05-10T23:59:59.9996Z") == "2026-05-11T00:00:00.000Z"
    assert normal_time("2026-05-10T00:00:00.1234567-01:30") == "2026-05-10T01:30:00.123Z"


def _shuffled(value: Any, rng: random.Random) -> Any:
    if isinstance(value, dict):
        items = list(value.items())
        rng.shuffle(items)
        return {k: _shuffled(v, rng) for k, v in items}
    if isinstance(value, list):
        out = [_shuffled(v, rng) for v in value]
        rng.shuffle(out)
        return out
    return value


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(d.ALL), st.randoms(use_true_random=False))
def test_order_of_fields_and_list_members_does_not_change_the_hash(
    event: dict[str, Any], rng: random.Random
) -> None:
    assert event_hash(_shuffled(event, rng), context=d.CONTEXT) == event_hash(
        event, context=d.CONTEXT
    )


def _leaves(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[tuple[Any, ...], Any]]:
    if isinstance(value, dict):
        return [x for k, v in value.items() for x in _leaves(v, (*path, k))]
    if isinstance(value, list):
        return [x for i, v in enumerate(value) for x in _leaves(v, (*path, i))]
    return [(path, value)]


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(d.ALL), st.data())
def test_any_value_change_changes_the_hash(event: dict[str, Any], data: st.DataObject) -> None:
    leaves = [(p, v) for p, v in _leaves(event) if p[0] not in ("type", "eventTimeZoneOffset")]
    path, value = data.draw(st.sampled_from(leaves))
    changed = copy.deepcopy(event)
    target = changed
    for step in path[:-1]:
        target = target[step]
    if isinstance(value, bool):
        new: Any = not value
    elif isinstance(value, int | float):
        new = value + 1
    elif path[0] == "eventTime" or path[-1] in ("time", "declarationTime"):
        new = "2027-01-01T00:00:00Z"
    elif path[0] in ("bizStep",):
        new = "receiving"
    elif path[0] == "disposition":
        new = "damaged"
    elif path[0] == "action":
        new = "DELETE" if value != "DELETE" else "ADD"
    else:
        new = value + "9"
    if new == value:
        return
    target[path[-1]] = new
    assert event_hash(changed, context=d.CONTEXT) != event_hash(event, context=d.CONTEXT)


@settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(alphabet="0123456789", min_size=12, max_size=13))
def test_check_digit_makes_a_valid_gtin(body: str) -> None:
    assert vocab.valid_gtin(body + vocab.check_digit(body))
    wrong = str((int(vocab.check_digit(body)) + 1) % 10)
    assert not vocab.valid_gtin(body + wrong)
