"""EPCIS 2.0 documents written from the standard's text (EPCIS 2.0 §7, CBV 2.0 §7), one of
each event type with sensor elements, certification information, an error declaration and
custom-namespace extensions, plus the Jinshan rice farm steps."""

from __future__ import annotations

import copy
from typing import Any

CONTEXT: list[Any] = [
    "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld",
    {"anxin": "https://voc.anxin.cn/trace/", "example": "https://ns.example.com/epcis/"},
]
FARM = "urn:epc:id:sgln:6901234.00001.0"  # the cooperative's farm GLN
PLOT = "urn:epc:id:sgln:6901234.00001.12"  # plot 12
RICE = "urn:epc:class:lgtin:6901234.012345.JS2026A"
BAGS = [f"urn:epc:id:sgtin:6901234.012345.{n}" for n in range(1001, 1004)]

OBJECT: dict[str, Any] = {
    "type": "ObjectEvent",
    "eventTime": "2026-05-10T08:00:00.000+08:00",
    "eventTimeZoneOffset": "+08:00",
    "action": "ADD",
    "bizStep": "anxin:transplanting",
    "disposition": "active",
    "quantityList": [{"epcClass": RICE, "quantity": 12.5, "uom": "KGM"}],
    "readPoint": {"id": PLOT},
    "bizLocation": {"id": FARM},
    "ilmd": {"anxin:variety": "Songzao 618", "anxin:seedlingAgeDays": 28},
    "certificationInfo": "https://certs.example.org/organic/CN-ORG-2026-0042",
}
FERTILISING: dict[str, Any] = {
    "type": "ObjectEvent",
    "eventTime": "2026-06-02T07:30:00+08:00",
    "eventTimeZoneOffset": "+08:00",
    "action": "OBSERVE",
    "bizStep": "anxin:fertilising",
    "quantityList": [{"epcClass": RICE}],
    "readPoint": {"id": PLOT},
    "bizLocation": {"id": FARM},
    "anxin:input": {"product": "composted rapeseed cake", "organic": True, "quantity": 300},
}
SENSOR: dict[str, Any] = {
    "type": "ObjectEvent",
    "eventTime": "2026-07-01T06:00:00Z",
    "eventTimeZoneOffset": "+08:00",
    "action": "OBSERVE",
    "bizStep": "sensor_reporting",
    "quantityList": [{"epcClass": RICE}],
    "readPoint": {"id": PLOT},
    "sensorElementList": [
        {
            "sensorMetadata": {
                "time": "2026-07-01T06:00:00Z",
                "deviceID": "urn:epc:id:giai:6901234.SOIL7",
            },
            "sensorReport": [
                {"type": "gs1:Temperature", "value": 24.5, "uom": "CEL"},
                {"type": "gs1:RelativeHumidity", "value": 81, "uom": "P1"},
            ],
        }
    ],
}
AGGREGATION: dict[str, Any] = {
    "type": "AggregationEvent",
    "eventTime": "2026-10-20T15:00:00+08:00",
    "eventTimeZoneOffset": "+08:00",
    "action": "ADD",
    "parentID": "urn:epc:id:sscc:6901234.0000000001",
    "childEPCs": BAGS,
    "bizStep": "anxin:packing",
    "disposition": "in_progress",
    "bizLocation": {"id": FARM},
}
TRANSACTION: dict[str, Any] = {
    "type": "TransactionEvent",
    "eventTime": "2026-10-21T09:00:00+08:00",
    "eventTimeZoneOffset": "+08:00",
    "action": "ADD",
    "epcList": BAGS[:2],
    "bizStep": "shipping",
    "disposition": "in_transit",
    "bizTransactionList": [
        {"type": "po", "bizTransaction": "urn:epcglobal:cbv:bt:6901234000011:PO77"}
    ],
    "sourceList": [{"type": "owning_party", "source": "urn:epc:id:pgln:6901234.00001"}],
    "destinationList": [{"type": "location", "destination": "urn:epc:id:sgln:4012345.00012.0"}],
}
TRANSFORMATION: dict[str, Any] = {
    "type": "TransformationEvent",
    "eventTime": "2026-10-15T10:00:00+08:00",
    "eventTimeZoneOffset": "+08:00",
    "inputQuantityList": [
        {"epcClass": "urn:epc:class:lgtin:6901234.012340.PADDY26", "quantity": 9000, "uom": "KGM"}
    ],
    "outputQuantityList": [{"epcClass": RICE, "quantity": 6300, "uom": "KGM"}],
    "bizStep": "anxin:milling",
    "bizLocation": {"id": FARM},
    "ilmd": {"anxin:millingYield": 0.7},
}
ASSOCIATION: dict[str, Any] = {
    "type": "AssociationEvent",
    "eventTime": "2026-10-20T16:00:00+08:00",
    "eventTimeZoneOffset": "+08:00",
    "action": "ADD",
    "parentID": "urn:epc:id:grai:6901234.00002.77",
    "childEPCs": ["urn:epc:id:giai:6901234.LOGGER9"],
    "bizStep": "assembling",
    "example:note": "temperature logger attached to the pallet",
}
CORRECTION: dict[str, Any] = {
    **copy.deepcopy(FERTILISING),
    "errorDeclaration": {
        "declarationTime": "2026-06-03T09:00:00+08:00",
        "reason": "incorrect_data",
        "correctiveEventIDs": ["urn:uuid:404d95fc-9457-4a51-bd6a-0bba133845a8"],
    },
}

ALL = [OBJECT, FERTILISING, SENSOR, AGGREGATION, TRANSACTION, TRANSFORMATION, ASSOCIATION]


def document(*events: dict[str, Any]) -> dict[str, Any]:
    return {
        "@context": copy.deepcopy(CONTEXT),
        "type": "EPCISDocument",
        "schemaVersion": "2.0",
        "creationDate": "2026-10-22T08:00:00Z",
        "epcisBody": {"eventList": [copy.deepcopy(e) for e in (events or ALL)]},
    }
