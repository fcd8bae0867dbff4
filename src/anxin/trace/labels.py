"""Signed GS1 Digital Link codes for serialised packages, their QR symbols and label sheets.

A package's code is a GS1 Digital Link URI on our resolver (``{base}/01/{gtin}/10/{lot}/21/
{serial}``) with one extra query parameter, ``s``: the brand's Ed25519 signature over the
element string path, base64url. Anyone holding the brand's public key (``GET /api/v1/trace/
keys``) can check a code offline; a copied code still verifies, which is why scans also count
where and how often a serial is seen (``scanning``).

The brand's key is derived from the deployment secret with HKDF per organisation: nothing to
store or lose, and a new secret rotates every brand's key at once (old labels then fail, which
is what rotating after a leak must mean).
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from urllib.parse import urlsplit

import segno
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from fpdf import FPDF

SIGNATURE_PARAM = "s"
CONTEXT = b"anxin-trace-label-v1\n"  # domain separation: this key signs labels and nothing else
_PATH = re.compile(r"/01/(\d{14})/10/([!%-?A-Z_a-z\"]{1,20})/21/([!%-?A-Z_a-z\"]{1,20})$")
# The CJK font the label sheet prints Chinese with (scripts/system-deps.sh installs it).
CJK_FONT = Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc")


class LabelError(ValueError):
    """A code that is not one of ours: the reason says which part is wrong."""


@dataclass(frozen=True, slots=True)
class BrandKey:
    private: Ed25519PrivateKey

    @property
    def public_raw(self) -> bytes:
        return self.private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)

    @property
    def key_id(self) -> str:
        return hashlib.sha256(self.public_raw).hexdigest()[:16]


@lru_cache(maxsize=64)
def brand_key(secret: str, organisation_id: str) -> BrandKey:
    seed = HKDF(
        algorithm=hashes.SHA256(),
        length=32,
        salt=b"anxin-trace-brand",
        info=organisation_id.encode(),
    ).derive(secret.encode())
    return BrandKey(Ed25519PrivateKey.from_private_bytes(seed))


def element_path(gtin: str, lot: str, serial: str) -> str:
    return f"/01/{gtin}/10/{lot}/21/{serial}"


def b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def sign(key: BrandKey, gtin: str, lot: str, serial: str) -> str:
    return b64url(key.private.sign(CONTEXT + element_path(gtin, lot, serial).encode()))


def digital_link(base: str, key: BrandKey, gtin: str, lot: str, serial: str) -> str:
    path = element_path(gtin, lot, serial)
    return f"{base.rstrip('/')}{path}?{SIGNATURE_PARAM}={sign(key, gtin, lot, serial)}"


@dataclass(frozen=True, slots=True)
class ParsedLink:
    gtin: str
    lot: str
    serial: str
    signature: bytes


def parse(link: str) -> ParsedLink:
    """Split a code into its identifiers and signature; ``LabelError`` says what is wrong."""
    parts = urlsplit(link)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise LabelError("not an http(s) Digital Link URI")
    match = _PATH.search(parts.path)
    if match is None:
        raise LabelError("the path is not /01/{gtin}/10/{lot}/21/{serial}")
    params = dict(p.split("=", 1) for p in parts.query.split("&") if "=" in p)
    sig = params.get(SIGNATURE_PARAM)
    if not sig:
        raise LabelError(f"no signature (the '{SIGNATURE_PARAM}' parameter)")
    try:
        raw = _unb64(sig)
    except ValueError as exc:
        raise LabelError("the signature is not base64url") from exc
    if len(raw) != 64:
        raise LabelError("the signature is not 64 bytes (Ed25519)")
    return ParsedLink(match[1], match[2], match[3], raw)


def verify(public_raw: bytes, parsed: ParsedLink) -> bool:
    message = CONTEXT + element_path(parsed.gtin, parsed.lot, parsed.serial).encode()
    try:
        Ed25519PublicKey.from_public_bytes(public_raw).verify(parsed.signature, message)
    except InvalidSignature:
        return False
    return True


def qr_svg(link: str) -> str:
    # Error level M survives a scuffed bag; the URI is upper-cased nowhere (the signature is
    # case-sensitive base64url), so segno picks byte mode.
    return str(segno.make(link, error="m", micro=False).svg_inline(scale=4, border=4))


@dataclass(frozen=True, slots=True)
class Label:
    link: str
    serial: str


def label_sheet(
    *, title: str, subtitle: str, lot: str, labels: Sequence[Label], cjk_font: Path = CJK_FONT
) -> bytes:
    """An A4 sheet of 3 x 8 labels (70 x 37 mm, the common sticker stock): QR, name, lot, serial.

    The QR symbol is drawn as vector squares, so it prints sharp at any printer resolution.
    """
    pdf = FPDF(format="A4", unit="mm")
    pdf.set_auto_page_break(False)
    pdf.add_font("cjk", "", str(cjk_font), collection_font_number=0)
    cols, rows, w, h = 3, 8, 70.0, 37.0
    for i, label in enumerate(labels):
        if i % (cols * rows) == 0:
            pdf.add_page()
        slot = i % (cols * rows)
        x, y = (slot % cols) * w, 0.5 + (slot // cols) * h
        qr = segno.make(label.link, error="m", micro=False)
        size = 31.0
        module = size / (qr.symbol_size(border=0)[0])
        pdf.set_fill_color(0, 0, 0)
        for r, row in enumerate(qr.matrix):
            for c, dark in enumerate(row):
                if dark:
                    pdf.rect(x + 3 + c * module, y + 3 + r * module, module, module, style="F")
        pdf.set_font("cjk", size=8)
        pdf.set_xy(x + 36, y + 5)
        pdf.multi_cell(32, 4, title)
        pdf.set_xy(x + 36, y + 14)
        pdf.multi_cell(32, 4, subtitle)
        pdf.set_font("cjk", size=7)
        pdf.set_xy(x + 36, y + 24)
        pdf.cell(32, 4, f"LOT {lot}")
        pdf.set_xy(x + 36, y + 28)
        pdf.cell(32, 4, f"SN {label.serial}")
    return bytes(pdf.output())
