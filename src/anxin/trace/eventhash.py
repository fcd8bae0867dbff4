"""The CBV 2.0 EPCIS Event Hash ID, pure (GS1 CBV 2.0 §8.9).

An event's identity is a hash of its content rather than a number we hand out, so the farm,
the brand and the consumer compute the same id from the same event in XML or JSON, with its
fields and list members in any order. The algorithm:

1. a *pre-hash string*: ``eventType=…`` then each field present, in the standard's order
   (``_ORDER``), as ``name=value``; a list or object as its name followed by its members,
   members sorted lexically (UTF-8 code points); nothing for an absent field;
2. values normalised: instants to UTC with millisecond precision (``…T02:33:31.116Z``), EPC
   URNs to canonical GS1 Digital Link on ``id.gs1.org``, CBV short names and URNs to their
   Web URIs, CURIEs expanded, numbers without trailing zeros, strings trimmed;
3. user extensions last, each as ``{namespace}localName=value``, sorted;
4. ``eventID``, ``recordTime`` and ``errorDeclaration`` left out: an error declaration names
   the event it corrects by this same id (EPCIS 2.0 §7.4.1.2);
5. ``ni:///sha-256;<hex>?ver=CBV2.0`` (RFC 6920) of the UTF-8 bytes.

Checked against the published reference example in tests (hash and pre-hash byte for byte).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from anxin.trace import vocab
from anxin.trace.epcis import context_prefixes

VERSION = "CBV2.0"
_SKIP = frozenset({"type", "eventID", "recordTime", "errorDeclaration", "@context"})
_EPC_ITEM = {"epcList": "epc", "childEPCs": "epc", "inputEPCList": "epc", "outputEPCList": "epc"}
_QTY = ("quantityList", "childQuantityList", "inputQuantityList", "outputQuantityList")
_ORDER = (
    "eventTime",
    "eventTimeZoneOffset",
    "certificationInfo",
    "epcList",
    "parentID",
    "inputEPCList",
    "childEPCs",
    "quantityList",
    "childQuantityList",
    "inputQuantityList",
    "outputEPCList",
    "outputQuantityList",
    "action",
    "transformationID",
    "bizStep",
    "disposition",
    "persistentDisposition",
    "readPoint",
    "bizLocation",
    "bizTransactionList",
    "sourceList",
    "destinationList",
    "sensorElementList",
    "ilmd",
)
_META_ORDER = ("time", "startTime", "endTime", "deviceID", "deviceMetadata", "rawData",
               "dataProcessingMethod", "bizRules")  # fmt: skip
_REPORT_ORDER = ("type", "exception", "deviceID", "deviceMetadata", "rawData",
                 "dataProcessingMethod", "time", "microorganism", "chemicalSubstance", "value",
                 "component", "stringValue", "booleanValue", "hexBinaryValue", "uriValue",
                 "minValue", "maxValue", "meanValue", "sDev", "percRank", "percValue", "uom",
                 "coordinateReferenceSystem")  # fmt: skip
_INSTANT = re.compile(r"^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d+))?(Z|[+-]\d{2}:\d{2})$")
_TIME_KEYS = frozenset({"eventTime", "time", "startTime", "endTime"})
_URI_KEYS = frozenset({"deviceID", "deviceMetadata", "rawData", "dataProcessingMethod",
                       "bizRules", "microorganism", "chemicalSubstance", "uriValue"})  # fmt: skip


def normal_time(text: str) -> str:
    """UTC, milliseconds, ``Z``; digits past the third rounded half up (CBV 2.0 §8.9)."""
    m = _INSTANT.match(text)
    if m is None:
        raise ValueError(f"not an instant: {text!r}")
    base = datetime.fromisoformat(m[1] + m[3].replace("Z", "+00:00"))
    millis = Decimal("0." + (m[2] or "0")).quantize(Decimal("0.001"), ROUND_HALF_UP)
    moment = base.astimezone(UTC) + timedelta(milliseconds=int(millis * 1000))
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _number(value: Any) -> str:
    text = format(Decimal(str(value)).normalize(), "f")
    return text


_Order = tuple[tuple[str, Callable[[Any], str]], ...]


class _PreHash:
    def __init__(self, prefixes: Mapping[str, str]) -> None:
        self.prefixes = prefixes

    def expand(self, value: str) -> str:
        prefix, sep, rest = value.partition(":")
        if sep and prefix in self.prefixes and not rest.startswith("//"):
            return self.prefixes[prefix] + rest
        return value

    def uri(self, value: Any) -> str:
        text = str(value).strip()
        return vocab.to_digital_link(text) or self.expand(text)

    def vocab(self, kind: str) -> Callable[[Any], str]:
        def norm(value: Any) -> str:
            text = str(value).strip()
            return vocab.vocab_uri(kind, text) or self.expand(text)

        return norm

    def scalar(self, key: str, value: Any) -> str:
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, int | float):
            return _number(value)
        text = str(value).strip()
        if key in _TIME_KEYS:
            return normal_time(text)
        if key in _URI_KEYS:
            return self.uri(text)
        if key == "type":
            return self.expand(text)
        return text

    def pairs(
        self, obj: Mapping[str, Any], order: tuple[tuple[str, Callable[[Any], str]], ...]
    ) -> str:
        out = [f"{key}={norm(obj[key])}" for key, norm in order if key in obj]
        known = {k for k, _ in order}
        return "".join(out) + self.extensions({k: v for k, v in obj.items() if k not in known})

    def field(self, key: str, value: Any) -> str:
        if key in _EPC_ITEM:
            items = sorted(f"{_EPC_ITEM[key]}={self.uri(v)}" for v in value)
            return key + "".join(items)
        if key in _QTY:
            order: _Order = (("epcClass", self.uri), ("quantity", _number), ("uom", str))
            return key + "".join(sorted(self.pairs(q, order) for q in value))
        if key in ("parentID", "transformationID"):
            return f"{key}={self.uri(value)}"
        if key in ("readPoint", "bizLocation"):
            return key + self.pairs(value, (("id", self.uri),))
        if key in ("bizStep", "disposition"):
            return f"{key}={self.vocab(key)(value)}"
        if key == "certificationInfo":
            items = value if isinstance(value, list) else [value]
            return "".join(sorted(f"certificationInfo={self.expand(str(v))}" for v in items))
        if key == "persistentDisposition":
            norm = self.vocab("disposition")
            parts = [
                "".join(sorted(f"{part}={norm(v)}" for v in value.get(part, [])))
                for part in ("set", "unset")
            ]
            return key + "".join(parts)
        if key == "bizTransactionList":
            order = (("bizTransaction", self.uri), ("type", self.vocab("btt")))
            return key + "".join(sorted(self.pairs(t, order) for t in value))
        if key in ("sourceList", "destinationList"):
            item = key.removesuffix("List")
            order = ((item, self.uri), ("type", self.vocab("sdt")))
            return key + "".join(sorted(self.pairs(t, order) for t in value))
        if key == "sensorElementList":
            return key + "".join(sorted(self.sensor(e) for e in value))
        if key == "ilmd":
            return key + self.extensions(value)
        return f"{key}={self.scalar(key, value)}"

    def sensor(self, element: Mapping[str, Any]) -> str:
        out = "sensorElement"
        meta_order = tuple((k, self._by(k)) for k in _META_ORDER)
        report_order = tuple((k, self._by(k)) for k in _REPORT_ORDER)
        if "sensorMetadata" in element:
            out += "sensorMetadata" + self.pairs(element["sensorMetadata"], meta_order)
        reports = sorted("sensorReport" + self.pairs(r, report_order)
                         for r in element.get("sensorReport", []))  # fmt: skip
        rest = {k: v for k, v in element.items() if k not in ("sensorMetadata", "sensorReport")}
        return out + "".join(reports) + self.extensions(rest)

    def _by(self, key: str) -> Callable[[Any], str]:
        return lambda value: self.scalar(key, value)

    def ext_name(self, key: str) -> str:
        full = self.expand(key)
        if full == key and not key.startswith(("http://", "https://")):
            return key
        for sep in ("#", "/"):
            cut = full.rfind(sep)
            if cut > 0:
                return "{" + full[: cut + 1] + "}" + full[cut + 1 :]
        return full

    def extension(self, key: str, value: Any) -> str:
        name = self.ext_name(key)
        if isinstance(value, dict):
            return name + self.extensions(value)
        if isinstance(value, list):
            return "".join(sorted(self.extension(key, v) for v in value))
        return f"{name}={self.scalar('', value)}"

    def extensions(self, obj: Mapping[str, Any]) -> str:
        return "".join(sorted(self.extension(k, v) for k, v in obj.items() if k != "@context"))


def pre_hash(event: Mapping[str, Any], *, context: Any = None) -> str:
    """The canonical pre-hash string of a validated event."""
    prefixes = context_prefixes(context)
    if isinstance(event.get("@context"), list | dict):
        prefixes.update(context_prefixes(event["@context"]))
    p = _PreHash(prefixes)
    out = [f"eventType={event['type']}"]
    out += [p.field(key, event[key]) for key in _ORDER if key in event]
    rest = {k: v for k, v in event.items() if k not in _SKIP and k not in _ORDER}
    return "".join(out) + p.extensions(rest)


def event_hash(event: Mapping[str, Any], *, context: Any = None) -> str:
    digest = hashlib.sha256(pre_hash(event, context=context).encode("utf-8")).hexdigest()
    return f"ni:///sha-256;{digest}?ver={VERSION}"
