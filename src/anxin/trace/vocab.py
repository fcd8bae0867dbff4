"""GS1 identifiers and CBV 2.0 vocabulary, pure.

Sources: GS1 Core Business Vocabulary 2.0 (2022) §7 (BizStep, Disp, BTT, SDT, ER lists and
their Web URIs ``https://ref.gs1.org/cbv/<Type>-<name>``); GS1 Tag Data Standard 2.0 §6 (EPC
pure-identity URNs) and GS1 Digital Link 1.2 (the ``https://id.gs1.org/<AI>/<value>`` form);
GS1 General Specifications §7.9 (the mod-10 check digit).
"""

from __future__ import annotations

import re

CBV = "https://ref.gs1.org/cbv/"
GS1_VOC = "https://gs1.org/voc/"
DL_HOST = "https://id.gs1.org"
# Our own namespace for the farm steps and their details (EPCIS 2.0 §9.1 user extensions).
ANXIN_NS = "https://voc.anxin.cn/trace/"

BIZ_STEPS = frozenset(
    [
        "accepting",
        "arriving",
        "assembling",
        "collecting",
        "commissioning",
        "consigning",
        "creating_class_instance",
        "cycle_counting",
        "decommissioning",
        "departing",
        "destroying",
        "disassembling",
        "dispensing",
        "encoding",
        "entering_exiting",
        "holding",
        "inspecting",
        "installing",
        "killing",
        "loading",
        "other",
        "packing",
        "picking",
        "receiving",
        "removing",
        "repackaging",
        "repairing",
        "replacing",
        "reserving",
        "retail_selling",
        "sampling",
        "sensor_reporting",
        "shipping",
        "staging_outbound",
        "stock_taking",
        "stocking",
        "storing",
        "transporting",
        "unloading",
        "unpacking",
        "void_shipping",
    ]
)
DISPOSITIONS = frozenset(
    [
        "active",
        "available",
        "completeness_inferred",
        "completeness_verified",
        "conformant",
        "container_closed",
        "container_open",
        "damaged",
        "destroyed",
        "dispensed",
        "disposed",
        "encoded",
        "expired",
        "in_progress",
        "in_transit",
        "inactive",
        "mismatch_instance",
        "mismatch_class",
        "mismatch_quantity",
        "needs_replacement",
        "no_pedigree_match",
        "non_conformant",
        "non_sellable_other",
        "partially_dispensed",
        "recalled",
        "reserved",
        "retail_sold",
        "returned",
        "sellable_accessible",
        "sellable_not_accessible",
        "stolen",
        "unavailable",
        "unknown",
    ]
)
BTT = frozenset(
    [
        "bol",
        "cert",
        "desadv",
        "inv",
        "pedigree",
        "po",
        "poc",
        "prodorder",
        "recadv",
        "rma",
        "testprd",
        "testres",
        "upevt",
    ]
)
SDT = frozenset(["owning_party", "possessing_party", "location"])
ERROR_REASONS = frozenset(["did_not_occur", "incorrect_data"])

# The farm steps, as bizStep values in our namespace (``anxin:transplanting`` or the full URI).
FARM_STEPS = (
    "transplanting",
    "fertilising",
    "irrigating",
    "spraying",
    "harvesting",
    "milling",
    "packing",
)
# Steps that apply an input (fertiliser, pesticide): they must say what and whether organic.
INPUT_STEPS = frozenset({"fertilising", "spraying"})

_VOCAB = {
    "bizStep": ("BizStep", BIZ_STEPS, "urn:epcglobal:cbv:bizstep:"),
    "disposition": ("Disp", DISPOSITIONS, "urn:epcglobal:cbv:disp:"),
    "btt": ("BTT", BTT, "urn:epcglobal:cbv:btt:"),
    "sdt": ("SDT", SDT, "urn:epcglobal:cbv:sdt:"),
    "reason": ("ER", ERROR_REASONS, "urn:epcglobal:cbv:er:"),
}

_URI_RE = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:\S+$")


def is_uri(value: object) -> bool:
    return isinstance(value, str) and bool(_URI_RE.match(value))


def check_digit(digits: str) -> str:
    """GS1 mod-10: weights 3,1,3,… from the right of the digits before the check digit."""
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(digits)))
    return str((10 - total % 10) % 10)


def valid_gtin(gtin: str) -> bool:
    return gtin.isdigit() and len(gtin) in (8, 12, 13, 14) and check_digit(gtin[:-1]) == gtin[-1]


def vocab_uri(kind: str, value: str) -> str | None:
    """The CBV Web URI of a short name, URN or Web URI of vocabulary ``kind``; None if the
    value is none of them (a custom URI is checked by the caller)."""
    prefix, names, urn = _VOCAB[kind]
    web = f"{CBV}{prefix}-"
    if value in names:
        return web + value
    for lead in (web, urn):
        if value.startswith(lead) and value[len(lead) :] in names:
            return web + value[len(lead) :]
    return None


def farm_step(value: str) -> str | None:
    """The farm step named by a bizStep (``anxin:packing`` or its full URI), else None."""
    for lead in ("anxin:", ANXIN_NS):
        if value.startswith(lead) and value[len(lead) :] in FARM_STEPS:
            return value[len(lead) :]
    return None


# --- EPC URIs ---------------------------------------------------------------------------

_SGTIN = re.compile(r"^urn:epc:id:sgtin:(\d{6,12})\.(\d{1,7})\.(.{1,20})$")
_SSCC = re.compile(r"^urn:epc:id:sscc:(\d{6,12})\.(\d{5,11})$")
_SGLN = re.compile(r"^urn:epc:id:sgln:(\d{6,12})\.(\d{0,6})\.(.{1,20})$")
_PGLN = re.compile(r"^urn:epc:id:pgln:(\d{6,12})\.(\d{0,6})$")
_GRAI = re.compile(r"^urn:epc:id:grai:(\d{6,12})\.(\d{0,6})\.(.{1,16})$")
_GIAI = re.compile(r"^urn:epc:id:giai:(\d{6,12})\.(.{1,24})$")
_KNOWN_URN = re.compile(r"^urn:epc:(?:id|class|idpat):(sgtin|sscc|sgln|pgln|lgtin|grai|giai):")
_LGTIN = re.compile(r"^urn:epc:class:lgtin:(\d{6,12})\.(\d{1,7})\.(.{1,20})$")
_GTIN_CLASS = re.compile(r"^urn:epc:idpat:sgtin:(\d{6,12})\.(\d{1,7})\.\*$")
_DL = re.compile(r"^https?://[^/]+/(?:.*/)?(01|00|414|417|8003|8004|253|255|8010|8017|8018)/[^?#]+")
_DL_GTIN = re.compile(r"^https?://[^/]+/(?:.*/)?01/(\d{14})(?:/(10|21)/([^/?#]+))?")


def _gtin(company: str, item: str) -> str | None:
    if len(company) + len(item) != 13:
        return None
    body = item[0] + company + item[1:]
    return body + check_digit(body)


def _gln(company: str, location: str) -> str | None:
    if len(company) + len(location) != 12:
        return None
    body = company + location
    return body + check_digit(body)


def to_digital_link(uri: str) -> str | None:
    """The canonical GS1 Digital Link of an EPC pure-identity URN (or of a Digital Link on
    any host), as the CBV 2.0 event hash wants; None when the URN's digits do not fit."""
    if m := _SGTIN.match(uri):
        gtin = _gtin(m[1], m[2])
        return f"{DL_HOST}/01/{gtin}/21/{m[3]}" if gtin else None
    if m := _LGTIN.match(uri):
        gtin = _gtin(m[1], m[2])
        return f"{DL_HOST}/01/{gtin}/10/{m[3]}" if gtin else None
    if m := _GTIN_CLASS.match(uri):
        gtin = _gtin(m[1], m[2])
        return f"{DL_HOST}/01/{gtin}" if gtin else None
    if m := _SSCC.match(uri):
        if len(m[1]) + len(m[2]) != 17:
            return None
        body = m[2][0] + m[1] + m[2][1:]
        return f"{DL_HOST}/00/{body}{check_digit(body)}"
    if m := _SGLN.match(uri):
        gln = _gln(m[1], m[2])
        if gln is None:
            return None
        return f"{DL_HOST}/414/{gln}" + ("" if m[3] == "0" else f"/254/{m[3]}")
    if m := _GRAI.match(uri):
        if len(m[1]) + len(m[2]) != 12:
            return None
        body = "0" + m[1] + m[2]
        return f"{DL_HOST}/8003/{body}{check_digit(body)}{m[3]}"
    if m := _GIAI.match(uri):
        return f"{DL_HOST}/8004/{m[1]}{m[2]}"
    if m := _PGLN.match(uri):
        gln = _gln(m[1], m[2])
        return f"{DL_HOST}/417/{gln}" if gln else None
    if _DL.match(uri):
        path = uri.split("://", 1)[1].split("?", 1)[0].split("#", 1)[0]
        tail = path[path.index("/") :]
        for ai in ("/01/", "/00/", "/414/", "/417/", "/8003/", "/8004/", "/253/", "/255/"):
            if ai in tail:
                return DL_HOST + tail[tail.index(ai) :]
        return None
    return None


def is_epc(uri: object) -> bool:
    """An instance- or class-level identifier EPCIS accepts: a GS1 URN or Digital Link that
    parses, or any other absolute URI (EPCIS 2.0 §8.3.2 allows private identifiers)."""
    if not isinstance(uri, str) or not is_uri(uri):
        return False
    if _KNOWN_URN.match(uri) or _DL.match(uri):
        return to_digital_link(uri) is not None
    return True


def sgtin_parts(uri: str) -> tuple[str, str] | None:
    """(GTIN-14, serial) of an SGTIN in URN or Digital Link form."""
    dl = to_digital_link(uri)
    if dl is None:
        return None
    m = _DL_GTIN.match(dl)
    if m is None or m[2] != "21":
        return None
    return m[1], m[3]
