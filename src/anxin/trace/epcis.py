"""EPCIS 2.0 JSON-LD documents and events: validation, pure.

Rules from GS1 EPCIS 2.0 (2022) §7 (the event types and which fields each has), §8 (data
types: instants with a zone, time-zone offsets, URIs, quantity elements, sensor elements,
certification information, error declarations), §9.1 (user extensions: any field in a
namespace the ``@context`` declares) and §12 (the JSON-LD binding), and from CBV 2.0 §7 (the
vocabularies). Every problem is reported with a JSON path (``$.epcisBody.eventList[3].action``)
and a reason, all at once, so a sender can fix a document in one round.

What is *not* checked here (said in docs/trace.md): full JSON-LD expansion of remote
contexts, master data (``epcisHeader.epcisMasterData``), and GS1 key syntax beyond the URN and
Digital Link forms of SGTIN, LGTIN, SSCC, SGLN and PGLN.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from anxin.trace import vocab

EVENT_TYPES = (
    "ObjectEvent",
    "AggregationEvent",
    "TransactionEvent",
    "TransformationEvent",
    "AssociationEvent",
)
ACTIONS = frozenset({"ADD", "OBSERVE", "DELETE"})
EPCIS_CONTEXTS = frozenset(
    {
        "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld",
        "https://ref.gs1.org/standards/epcis/epcis-context.jsonld",
        "https://gs1.github.io/EPCIS/epcis-context.jsonld",
    }
)
# Prefixes the standard context itself declares (EPCIS 2.0 epcis-context.jsonld).
STANDARD_PREFIXES = {
    "epcis": "https://ref.gs1.org/epcis/",
    "cbv": "https://ref.gs1.org/cbv/",
    "gs1": "https://gs1.org/voc/",
    "rdfs": "http://www.w3.org/2000/01/rdf-schema#",
    "owl": "http://www.w3.org/2002/07/owl#",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
    "dcterms": "http://purl.org/dc/terms/",
}
MAX_EVENTS = 200_000

_COMMON = frozenset(
    {
        "type",
        "eventTime",
        "eventTimeZoneOffset",
        "recordTime",
        "eventID",
        "errorDeclaration",
        "certificationInfo",
        "readPoint",
        "bizLocation",
        "bizStep",
        "disposition",
        "persistentDisposition",
        "bizTransactionList",
        "sourceList",
        "destinationList",
        "sensorElementList",
        "@context",
    }
)
FIELDS: dict[str, frozenset[str]] = {
    "ObjectEvent": _COMMON | {"action", "epcList", "quantityList", "ilmd"},
    "AggregationEvent": _COMMON | {"action", "parentID", "childEPCs", "childQuantityList"},
    "TransactionEvent": _COMMON | {"action", "parentID", "epcList", "quantityList"},
    "TransformationEvent": _COMMON
    | {
        "inputEPCList",
        "inputQuantityList",
        "outputEPCList",
        "outputQuantityList",
        "transformationID",
        "ilmd",
    },
    "AssociationEvent": _COMMON | {"action", "parentID", "childEPCs", "childQuantityList"},
}
_EPC_LISTS = ("epcList", "childEPCs", "inputEPCList", "outputEPCList")
_QTY_LISTS = ("quantityList", "childQuantityList", "inputQuantityList", "outputQuantityList")
_OFFSET_RE = re.compile(r"^[+-](\d{2}):(\d{2})$")
_INSTANT_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$")
_UOM_RE = re.compile(r"^[A-Z0-9]{2,3}$")  # UN/ECE Recommendation 20 common codes
_SENSOR_META = frozenset(
    {"time", "startTime", "endTime", "deviceID", "deviceMetadata", "rawData",
     "dataProcessingMethod", "bizRules"}
)  # fmt: skip
_SENSOR_REPORT = frozenset(
    {"type", "exception", "deviceID", "deviceMetadata", "rawData", "dataProcessingMethod",
     "time", "microorganism", "chemicalSubstance", "value", "component", "stringValue",
     "booleanValue", "hexBinaryValue", "uriValue", "minValue", "maxValue", "meanValue",
     "sDev", "percRank", "percValue", "uom", "coordinateReferenceSystem"}
)  # fmt: skip
_NUMERIC_REPORT = ("value", "minValue", "maxValue", "meanValue", "sDev", "percRank", "percValue")


@dataclass(frozen=True, slots=True)
class Problem:
    path: str
    reason: str


@dataclass(slots=True)
class _Checker:
    prefixes: Mapping[str, str]
    problems: list[Problem] = field(default_factory=list)

    def bad(self, path: str, reason: str) -> None:
        self.problems.append(Problem(path, reason))

    # --- scalars ------------------------------------------------------------------------

    def instant(self, path: str, value: Any) -> datetime | None:
        if not isinstance(value, str) or not _INSTANT_RE.match(value):
            self.bad(path, "not a date-time with a zone (e.g. 2026-05-01T08:00:00+08:00)")
            return None
        try:
            # Python takes at most six fractional digits; EPCIS allows more.
            text = re.sub(r"(\.\d{6})\d+", r"\1", value).replace("Z", "+00:00")
            return datetime.fromisoformat(text)
        except ValueError:
            self.bad(path, "not a valid date-time")
            return None

    def offset(self, path: str, value: Any) -> None:
        m = _OFFSET_RE.match(value) if isinstance(value, str) else None
        if m is None or int(m[1]) > 14 or int(m[2]) > 59 or (int(m[1]) == 14 and int(m[2])):
            self.bad(path, "not a time-zone offset between -14:00 and +14:00 (e.g. +08:00)")

    def uri(self, path: str, value: Any) -> bool:
        if not vocab.is_uri(value):
            self.bad(path, "not an absolute URI")
            return False
        return True

    def expand(self, value: str) -> str:
        """A CURIE with a declared prefix as its full URI; anything else unchanged."""
        prefix, sep, rest = value.partition(":")
        if sep and prefix in self.prefixes and not rest.startswith("//"):
            return self.prefixes[prefix] + rest
        return value

    def vocab_value(self, path: str, kind: str, value: Any) -> None:
        """A CBV value, or a URI outside the CBV namespace (a user vocabulary)."""
        if not isinstance(value, str):
            self.bad(path, "not a string")
            return
        if vocab.vocab_uri(kind, value) is not None:
            return
        full = self.expand(value)
        if full.startswith((vocab.CBV, "urn:epcglobal:cbv:")) or not vocab.is_uri(full):
            self.bad(path, f"not a CBV 2.0 {kind} value nor a URI of your own vocabulary")

    def epc(self, path: str, value: Any) -> None:
        if not vocab.is_epc(value):
            self.bad(path, "not an EPC URI or GS1 Digital Link that parses")

    # --- structures ---------------------------------------------------------------------

    def objects(self, path: str, value: Any) -> list[tuple[str, dict[str, Any]]]:
        """The members of a list of objects with their paths; anything else is reported."""
        if not isinstance(value, list):
            self.bad(path, "not a list")
            return []
        out = []
        for i, item in enumerate(value):
            if isinstance(item, dict):
                out.append((f"{path}[{i}]", item))
            else:
                self.bad(f"{path}[{i}]", "not an object")
        return out

    def epc_list(self, path: str, value: Any) -> None:
        if not isinstance(value, list):
            self.bad(path, "not a list")
            return
        for i, item in enumerate(value):
            self.epc(f"{path}[{i}]", item)
        if len(set(map(str, value))) != len(value):
            self.bad(path, "lists an EPC twice")

    def quantity_list(self, path: str, value: Any) -> None:
        for p, item in self.objects(path, value):
            if "epcClass" not in item:
                self.bad(f"{p}.epcClass", "required")
            else:
                self.epc(f"{p}.epcClass", item["epcClass"])
            qty = item.get("quantity")
            if qty is not None and (not _number(qty) or qty < 0):
                self.bad(f"{p}.quantity", "not a non-negative number")
            if "uom" in item:
                if qty is None:
                    self.bad(f"{p}.uom", "a unit needs a quantity")
                if not isinstance(item["uom"], str) or not _UOM_RE.match(item["uom"]):
                    self.bad(f"{p}.uom", "not a UN/ECE Rec. 20 unit code (e.g. KGM)")
            self.unknown_fields(p, item, {"epcClass", "quantity", "uom"})

    def location(self, path: str, value: Any) -> None:
        if not isinstance(value, dict):
            self.bad(path, "not an object with an id")
            return
        if "id" not in value:
            self.bad(f"{path}.id", "required")
        else:
            self.epc(f"{path}.id", value["id"])
        self.unknown_fields(path, value, {"id"})

    def typed_list(self, path: str, value: Any, key: str, kind: str, type_required: bool) -> None:
        for p, item in self.objects(path, value):
            if key not in item:
                self.bad(f"{p}.{key}", "required")
            else:
                self.uri(f"{p}.{key}", item[key])
            if "type" in item:
                self.vocab_value(f"{p}.type", kind, item["type"])
            elif type_required:
                self.bad(f"{p}.type", "required")
            self.unknown_fields(p, item, {key, "type"})

    def sensor_elements(self, path: str, value: Any) -> None:
        for p, element in self.objects(path, value):
            meta = element.get("sensorMetadata")
            if meta is not None:
                self.sensor_part(f"{p}.sensorMetadata", meta, _SENSOR_META)
            reports = element.get("sensorReport")
            if not isinstance(reports, list) or not reports:
                self.bad(f"{p}.sensorReport", "required: a non-empty list")
            else:
                for j, report in enumerate(reports):
                    self.sensor_part(f"{p}.sensorReport[{j}]", report, _SENSOR_REPORT)
            self.unknown_fields(p, element, {"sensorMetadata", "sensorReport", "type"})

    def sensor_part(self, path: str, value: Any, known: frozenset[str]) -> None:
        if not isinstance(value, dict):
            self.bad(path, "not an object")
            return
        for key in ("time", "startTime", "endTime"):
            if key in value:
                self.instant(f"{path}.{key}", value[key])
        for key in ("deviceID", "deviceMetadata", "rawData", "dataProcessingMethod",
                    "bizRules", "microorganism", "chemicalSubstance", "uriValue"):  # fmt: skip
            if key in value:
                self.uri(f"{path}.{key}", value[key])
        if "type" in value:
            full = self.expand(str(value["type"]))
            if not vocab.is_uri(full):
                self.bad(f"{path}.type", "not a gs1: sensor type or a URI")
        for key in _NUMERIC_REPORT:
            if key in value and not _number(value[key]):
                self.bad(f"{path}.{key}", "not a number")
        if "booleanValue" in value and not isinstance(value["booleanValue"], bool):
            self.bad(f"{path}.booleanValue", "not true or false")
        if "uom" in value and (
            not isinstance(value["uom"], str) or not _UOM_RE.match(value["uom"])
        ):
            self.bad(f"{path}.uom", "not a UN/ECE Rec. 20 unit code (e.g. CEL)")
        self.unknown_fields(path, value, known)

    def error_declaration(self, path: str, value: Any) -> None:
        if not isinstance(value, dict):
            self.bad(path, "not an object")
            return
        if "declarationTime" not in value:
            self.bad(f"{path}.declarationTime", "required")
        else:
            self.instant(f"{path}.declarationTime", value["declarationTime"])
        if "reason" in value:
            self.vocab_value(f"{path}.reason", "reason", value["reason"])
        ids = value.get("correctiveEventIDs")
        if ids is not None:
            if not isinstance(ids, list):
                self.bad(f"{path}.correctiveEventIDs", "not a list")
            else:
                for i, item in enumerate(ids):
                    self.uri(f"{path}.correctiveEventIDs[{i}]", item)
        self.unknown_fields(path, value, {"declarationTime", "reason", "correctiveEventIDs"})

    def unknown_fields(
        self, path: str, obj: Mapping[str, Any], known: frozenset[str] | set[str]
    ) -> None:
        """Fields outside the standard must be extensions in a declared namespace."""
        for key in obj:
            if key in known:
                continue
            prefix, sep, _ = key.partition(":")
            declared = sep and (prefix in self.prefixes or key.startswith(("http://", "https://")))
            if not declared:
                self.bad(f"{path}.{key}", "unknown field; extensions need a declared namespace")


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def context_prefixes(context: Any) -> dict[str, str]:
    """Prefixes a JSON-LD ``@context`` declares inline, with those of the EPCIS context."""
    out = dict(STANDARD_PREFIXES)
    items = context if isinstance(context, list) else [context]
    for item in items:
        if isinstance(item, dict):
            out.update({k: v for k, v in item.items() if isinstance(v, str) and vocab.is_uri(v)})
    return out


def _event(c: _Checker, path: str, event: Any) -> None:
    if not isinstance(event, dict):
        c.bad(path, "not an object")
        return
    kind = event.get("type")
    if kind not in EVENT_TYPES:
        c.bad(f"{path}.type", f"not one of {', '.join(EVENT_TYPES)}")
        return
    if isinstance(event.get("@context"), list | dict):
        c = _Checker({**c.prefixes, **context_prefixes(event["@context"])}, c.problems)
    for key in ("eventTime", "eventTimeZoneOffset"):
        if key not in event:
            c.bad(f"{path}.{key}", "required")
    if "eventTime" in event:
        c.instant(f"{path}.eventTime", event["eventTime"])
    if "eventTimeZoneOffset" in event:
        c.offset(f"{path}.eventTimeZoneOffset", event["eventTimeZoneOffset"])
    if "recordTime" in event:
        c.instant(f"{path}.recordTime", event["recordTime"])
    if "eventID" in event:
        c.uri(f"{path}.eventID", event["eventID"])
    if kind != "TransformationEvent":
        if "action" not in event:
            c.bad(f"{path}.action", "required")
        elif event["action"] not in ACTIONS:
            c.bad(f"{path}.action", "not ADD, OBSERVE or DELETE")
    for key in _EPC_LISTS:
        if key in event:
            c.epc_list(f"{path}.{key}", event[key])
    for key in _QTY_LISTS:
        if key in event:
            c.quantity_list(f"{path}.{key}", event[key])
    for key in ("parentID", "transformationID"):
        if key in event:
            c.epc(f"{path}.{key}", event[key])
    for key in ("readPoint", "bizLocation"):
        if key in event:
            c.location(f"{path}.{key}", event[key])
    if "bizStep" in event:
        c.vocab_value(f"{path}.bizStep", "bizStep", event["bizStep"])
    if "disposition" in event:
        c.vocab_value(f"{path}.disposition", "disposition", event["disposition"])
    if "persistentDisposition" in event:
        _persistent(c, f"{path}.persistentDisposition", event["persistentDisposition"])
    if "bizTransactionList" in event:
        c.typed_list(f"{path}.bizTransactionList", event["bizTransactionList"],
                     "bizTransaction", "btt", type_required=False)  # fmt: skip
    for key, item in (("sourceList", "source"), ("destinationList", "destination")):
        if key in event:
            c.typed_list(f"{path}.{key}", event[key], item, "sdt", type_required=True)
    if "sensorElementList" in event:
        c.sensor_elements(f"{path}.sensorElementList", event["sensorElementList"])
    if "certificationInfo" in event:
        cert = event["certificationInfo"]
        for i, item in enumerate(cert if isinstance(cert, list) else [cert]):
            c.uri(f"{path}.certificationInfo" + (f"[{i}]" if isinstance(cert, list) else ""), item)
    if "errorDeclaration" in event:
        c.error_declaration(f"{path}.errorDeclaration", event["errorDeclaration"])
    if "ilmd" in event and not isinstance(event["ilmd"], dict):
        c.bad(f"{path}.ilmd", "not an object")
    _per_type(c, path, kind, event)
    _farm_step(c, path, event)
    c.unknown_fields(path, event, FIELDS[kind])


def _persistent(c: _Checker, path: str, value: Any) -> None:
    if not isinstance(value, dict):
        c.bad(path, "not an object with set/unset lists")
        return
    for key in ("set", "unset"):
        items = value.get(key, [])
        if not isinstance(items, list):
            c.bad(f"{path}.{key}", "not a list")
            continue
        for i, item in enumerate(items):
            c.vocab_value(f"{path}.{key}[{i}]", "disposition", item)
    c.unknown_fields(path, value, {"set", "unset"})


def _per_type(c: _Checker, path: str, kind: str, event: Mapping[str, Any]) -> None:
    action = event.get("action")
    if kind == "AggregationEvent" and action in ("ADD", "DELETE") and "parentID" not in event:
        c.bad(f"{path}.parentID", "required when action is ADD or DELETE")
    if kind == "AssociationEvent" and "parentID" not in event:
        c.bad(f"{path}.parentID", "required")
    if kind == "TransactionEvent" and not event.get("bizTransactionList"):
        c.bad(f"{path}.bizTransactionList", "required: a non-empty list")
    if kind == "TransformationEvent" and "transformationID" not in event:
        has_in = event.get("inputEPCList") or event.get("inputQuantityList")
        has_out = event.get("outputEPCList") or event.get("outputQuantityList")
        if not has_in:
            c.bad(f"{path}.inputEPCList", "an input is required without a transformationID")
        if not has_out:
            c.bad(f"{path}.outputEPCList", "an output is required without a transformationID")
    if "ilmd" in event and kind == "ObjectEvent" and action != "ADD":
        c.bad(f"{path}.ilmd", "only an ObjectEvent with action ADD carries ILMD")


def _farm_step(c: _Checker, path: str, event: Mapping[str, Any]) -> None:
    """Our farm steps' details: fertilising and spraying say what and whether organic."""
    step = event.get("bizStep")
    name = vocab.farm_step(c.expand(step)) if isinstance(step, str) else None
    if name not in vocab.INPUT_STEPS:
        return
    inputs = [v for k, v in event.items() if c.expand(k) == vocab.ANXIN_NS + "input"]
    if not inputs:
        c.bad(f"{path}.anxin:input", f"required for {name}: product and organic flag")
        return
    item = inputs[0]
    if not isinstance(item, dict):
        c.bad(f"{path}.anxin:input", "not an object")
        return
    if not isinstance(item.get("product"), str) or not item["product"].strip():
        c.bad(f"{path}.anxin:input.product", "required: the product applied")
    if not isinstance(item.get("organic"), bool):
        c.bad(f"{path}.anxin:input.organic", "required: true or false")
    qty = item.get("quantity")
    if qty is not None and (not _number(qty) or qty <= 0):
        c.bad(f"{path}.anxin:input.quantity", "not a positive number")


def check_event(event: Any, *, context: Any = None, path: str = "$") -> list[Problem]:
    """Problems of one event (``POST /epcis/events``); its own ``@context`` counts."""
    c = _Checker(context_prefixes(context))
    _event(c, path, event)
    return c.problems


def check_document(doc: Any) -> list[Problem]:
    """Problems of an EPCIS document (``POST /epcis/capture``)."""
    if not isinstance(doc, dict):
        return [Problem("$", "not a JSON object")]
    c = _Checker(context_prefixes(doc.get("@context")))
    ctx = doc.get("@context")
    names = ctx if isinstance(ctx, list) else [ctx]
    if not any(isinstance(n, str) and n in EPCIS_CONTEXTS for n in names):
        c.bad("$.@context", "must name the EPCIS 2.0 context")
    if doc.get("type") != "EPCISDocument":
        c.bad("$.type", "must be EPCISDocument")
    version = doc.get("schemaVersion")
    if not isinstance(version, str) or not re.match(r"^2\.0(\.\d+)?$", version):
        c.bad("$.schemaVersion", 'must be "2.0"')
    if "creationDate" not in doc:
        c.bad("$.creationDate", "required")
    else:
        c.instant("$.creationDate", doc["creationDate"])
    body = doc.get("epcisBody")
    events = body.get("eventList") if isinstance(body, dict) else None
    if not isinstance(events, list):
        c.bad("$.epcisBody.eventList", "required: a list of events")
        events = []
    elif len(events) > MAX_EVENTS:
        c.bad("$.epcisBody.eventList", f"more than {MAX_EVENTS} events")
        events = []
    for i, event in enumerate(events):
        _event(c, f"$.epcisBody.eventList[{i}]", event)
    known = {"@context", "type", "schemaVersion", "creationDate", "epcisBody", "epcisHeader",
             "id", "sender", "receiver", "instanceIdentifier"}  # fmt: skip
    c.unknown_fields("$", doc, known)
    return c.problems


def events_of(doc: Mapping[str, Any]) -> Sequence[dict[str, Any]]:
    body = doc.get("epcisBody") or {}
    return list(body.get("eventList") or [])
