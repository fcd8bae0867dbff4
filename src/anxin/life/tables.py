"""Mortality tables: loading the published tables and building parametric ones.

A table is a vector of one-year death probabilities q_x for integer ages from 0 to its
last age, where q equals 1 so that every life has died by the end of the table.
Everything downstream works from the survival function l_x built here; fractional ages
are handled in :mod:`anxin.life.actuarial` by uniform distribution of deaths (UDD).

Sources
-------
* CL(2010-2013): 原中国保险监督管理委员会《中国保监会关于发布〈中国人身保险业经验生命表
  （2010－2013）〉的通知》, 2016-12-21. Six tables, ages 0-105: CL1/CL2 non-pension
  business table one (male/female), CL3/CL4 non-pension table two, CL5/CL6 pension
  business. Stored in ``data/cl2010_2013.csv``; see docs/life.md for how it was checked.
* SULT: Standard Ultimate Survival Model of Dickson, Hardy & Waters, *Actuarial Mathematics
  for Life Contingent Risks* (Appendix D; SOA "LTAM Standard Ultimate Life Table"):
  Makeham mu_x = A + B c^x with A = 0.00022, B = 2.7e-6, c = 1.124.
"""

from __future__ import annotations

import csv
import enum
import io
import math
from dataclasses import dataclass, field
from functools import cache
from importlib import resources

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]


class Sex(enum.StrEnum):
    MALE = "M"
    FEMALE = "F"


class CLBusiness(enum.StrEnum):
    """The three business lines of CL(2010-2013), each with a male and a female table."""

    NON_PENSION_1 = "non_pension_1"  # CL1/CL2, the basis anxin prices whole life on
    NON_PENSION_2 = "non_pension_2"  # CL3/CL4
    PENSION = "pension"  # CL5/CL6


_CL_CODES: dict[tuple[CLBusiness, Sex], str] = {
    (CLBusiness.NON_PENSION_1, Sex.MALE): "CL1",
    (CLBusiness.NON_PENSION_1, Sex.FEMALE): "CL2",
    (CLBusiness.NON_PENSION_2, Sex.MALE): "CL3",
    (CLBusiness.NON_PENSION_2, Sex.FEMALE): "CL4",
    (CLBusiness.PENSION, Sex.MALE): "CL5",
    (CLBusiness.PENSION, Sex.FEMALE): "CL6",
}

CL_TABLE_CODES: tuple[str, ...] = ("CL1", "CL2", "CL3", "CL4", "CL5", "CL6")


@dataclass(frozen=True, eq=False)
class MortalityTable:
    """One-year death probabilities ``q[x]`` for ages ``0..max_age``; ``q[max_age] == 1``."""

    name: str
    q: FloatArray
    source: str = ""
    # l[x] for x = 0..max_age+1 with l[0] = 1, cached because every valuation needs it
    _l: FloatArray = field(init=False, repr=False)

    def __post_init__(self) -> None:
        q = np.asarray(self.q, dtype=np.float64)
        if q.ndim != 1 or q.size < 2:
            raise ValueError("a mortality table needs at least two ages")
        if np.any(q < 0.0) or np.any(q > 1.0) or not np.all(np.isfinite(q)):
            raise ValueError(f"{self.name}: every q_x must lie in [0, 1]")
        if q[-1] != 1.0:
            raise ValueError(f"{self.name}: the last q_x must be 1 to close the table")
        q.setflags(write=False)
        object.__setattr__(self, "q", q)
        lx = np.empty(q.size + 1)
        lx[0] = 1.0
        np.cumprod(1.0 - q, out=lx[1:])
        lx.setflags(write=False)
        object.__setattr__(self, "_l", lx)

    @property
    def max_age(self) -> int:
        """Last age of the table (q = 1 there)."""
        return int(self.q.size - 1)

    @property
    def lx(self) -> FloatArray:
        """Survivors l_x for x = 0..max_age+1 from a radix of 1 at age 0."""
        return self._l

    def qx(self, ages: NDArray[np.int64] | int) -> FloatArray:
        """q_x for integer ages; ages past the end of the table die with certainty."""
        a = np.asarray(ages, dtype=np.int64)
        return np.where(a >= self.q.size, 1.0, self.q[np.clip(a, 0, self.max_age)])


def _read_cl_csv() -> dict[str, FloatArray]:
    text = resources.files("anxin.life").joinpath("data/cl2010_2013.csv").read_text("utf-8")
    rows = [line for line in text.splitlines() if line and not line.startswith("#")]
    reader = csv.DictReader(io.StringIO("\n".join(rows)))
    cols: dict[str, list[float]] = {code: [] for code in CL_TABLE_CODES}
    for expected_age, row in enumerate(reader):
        if int(row["age"]) != expected_age:
            raise ValueError("cl2010_2013.csv: ages must run 0, 1, 2, ... without gaps")
        for code in CL_TABLE_CODES:
            cols[code].append(float(row[code]))
    return {code: np.array(v, dtype=np.float64) for code, v in cols.items()}


@cache
def cl2010(code: str) -> MortalityTable:
    """One of CL1..CL6 of the China Life Insurance Mortality Table CL(2010-2013)."""
    code = code.upper()
    if code not in CL_TABLE_CODES:
        raise KeyError(f"unknown CL(2010-2013) table {code!r}; expected one of CL1..CL6")
    return MortalityTable(
        name=f"{code}(2010-2013)",
        q=_read_cl_csv()[code],
        source="CIRC notice of 2016-12-21, 中国人身保险业经验生命表（2010－2013）",
    )


def cl_table(sex: Sex | str, business: CLBusiness = CLBusiness.NON_PENSION_1) -> MortalityTable:
    """The CL(2010-2013) table for a sex and business line (whole life: non-pension one)."""
    return cl2010(_CL_CODES[(CLBusiness(business), Sex(sex))])


def makeham(
    name: str, a: float, b: float, c: float, max_age: int = 130, source: str = ""
) -> MortalityTable:
    """Integer-age table from Makeham's law mu_x = a + b c^x (closed with q = 1 at max_age).

    p_x = exp(-a - b c^x (c - 1) / ln c), the exact one-year survival under the law.
    """
    ages = np.arange(max_age + 1, dtype=np.float64)
    px = np.exp(-a - b * np.power(c, ages) * (c - 1.0) / math.log(c))
    q = 1.0 - px
    q[-1] = 1.0
    return MortalityTable(name=name, q=q, source=source)


SULT_A = 0.00022
SULT_B = 2.7e-6
SULT_C = 1.124


@cache
def sult() -> MortalityTable:
    """The Standard Ultimate Survival Model (validation only; not a pricing basis).

    Closed at 130: {}_{110}p_{20} is below 1e-20 there, so closing changes nothing printed.
    """
    return makeham(
        "SULT",
        SULT_A,
        SULT_B,
        SULT_C,
        max_age=130,
        source="Dickson, Hardy & Waters, AMLCR, Appendix D (Makeham A=0.00022, B=2.7e-6, c=1.124)",
    )


def table_by_name(name: str) -> MortalityTable:
    """Look a table up by the short code used in files and requests (CL1..CL6, SULT)."""
    if name.upper() == "SULT":
        return sult()
    return cl2010(name)
