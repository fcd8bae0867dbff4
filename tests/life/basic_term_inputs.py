"""Read BasicTerm_M's Excel inputs without openpyxl, for environments that lack it.

lifelib keeps the model's tables in .xlsx files written by openpyxl: one sheet, a header
row of inline strings, then numbers. modelx reads them through pandas and openpyxl; where
openpyxl is missing the references load as None, and this reader fills them in. Numbers are
parsed the way openpyxl does: an integer where the text is one, otherwise a float.
"""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET

import pandas as pd

NS = {"m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main"}


def _value(cell: ET.Element) -> Any:
    kind = cell.get("t")
    if kind == "inlineStr":
        return "".join(t.text or "" for t in cell.iterfind(".//m:t", NS))
    v = cell.find("m:v", NS)
    if v is None or v.text is None:
        return None
    text = v.text
    if kind in ("s", "str"):
        raise ValueError("shared strings are not expected in these files")
    return int(text) if text.lstrip("-").isdigit() else float(text)


def read_sheet(path: Path) -> list[list[Any]]:
    with zipfile.ZipFile(path) as book:
        root = ET.fromstring(book.read("xl/worksheets/sheet1.xml"))  # noqa: S314 - lifelib's own file
    return [[_value(c) for c in row.iterfind("m:c", NS)] for row in root.iterfind(".//m:row", NS)]


def frame(path: Path) -> pd.DataFrame:
    rows = read_sheet(path)
    header, body = rows[0], rows[1:]
    df = pd.DataFrame(body, columns=header)
    return df.set_index(header[0])


def load(model_dir: Path) -> tuple[pd.DataFrame, pd.DataFrame, pd.Series]:
    points = frame(model_dir / "model_point_table.xlsx")
    mort = frame(model_dir / "mort_table.xlsx")
    disc = frame(model_dir / "disc_rate_ann.xlsx").iloc[:, 0]
    return points, mort, disc
