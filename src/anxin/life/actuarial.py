"""Life-contingency values from a mortality table, vectorised with numpy.

No commutation columns: D_x = v^x l_x overflows or loses precision at high ages and
interest rates, so values are either summed directly over a (ages x durations) grid or
obtained by backward recursion over attained age (one pass gives every age at once).

Conventions (Dickson, Hardy & Waters, AMLCR, chapters 2-4):
* ``i`` is the effective annual interest rate, v = 1/(1+i); any i > -1 is accepted.
* Assurances pay 1 at the end of the year of death (``m`` > 1: end of the 1/m-th of a year,
  by UDD, A^(m) = i / i^(m) A).
* Annuities are paid in advance; ``m`` payments a year of 1/m each. Survival to fractional
  ages uses UDD between integer ages: l_{y+s} = l_y (1 - s q_y), 0 <= s < 1.
* ``moment=2`` gives the second moment (e.g. 2A_x), i.e. the same value at v^2.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from anxin.life.tables import MortalityTable

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]


def _v(i: float, moment: int = 1) -> float:
    if i <= -1.0:
        raise ValueError("interest rate must exceed -100%")
    if moment not in (1, 2):
        raise ValueError("moment must be 1 or 2")
    return float((1.0 + i) ** -moment)


def l_at(table: MortalityTable, ages: ArrayLike) -> FloatArray:
    """l at real ages, linear between integer ages (UDD); 0 past the end of the table."""
    a = np.asarray(ages, dtype=np.float64)
    if np.any(a < 0):
        raise ValueError("ages must be non-negative")
    y = np.floor(a).astype(np.int64)
    s = a - y
    inside = y <= table.max_age
    yc = np.minimum(y, table.max_age)
    value = table.lx[yc] * (1.0 - s * table.q[yc])
    return np.where(inside, value, 0.0)


def survival(table: MortalityTable, x: ArrayLike, t: ArrayLike) -> FloatArray:
    """{}_t p_x for real x >= 0 and t >= 0 (UDD at fractional ages)."""
    xa = np.asarray(x, dtype=np.float64)
    ta = np.asarray(t, dtype=np.float64)
    if np.any(ta < 0):
        raise ValueError("durations must be non-negative")
    lx = l_at(table, xa)
    if np.any(lx <= 0.0):
        raise ValueError("age beyond the end of the table")
    return l_at(table, xa + ta) / lx


def _terms(table: MortalityTable, x: IntArray, n: ArrayLike | None) -> IntArray:
    whole = table.max_age + 1 - x
    if n is None:
        return whole
    na = np.broadcast_to(np.asarray(n, dtype=np.int64), x.shape)
    if np.any(na < 0):
        raise ValueError("terms must be non-negative")
    return np.minimum(na, whole)


def _ages(table: MortalityTable, x: ArrayLike) -> IntArray:
    xa = np.asarray(x)
    if not np.all(np.equal(np.mod(xa, 1), 0)):
        raise ValueError("integer ages expected; use survival() for fractional ages")
    xi = xa.astype(np.int64)
    if np.any(xi < 0) or np.any(xi > table.max_age):
        raise ValueError(f"ages must lie in 0..{table.max_age}")
    return xi


def annuity_due(
    table: MortalityTable,
    x: ArrayLike,
    i: float,
    n: ArrayLike | None = None,
    m: int = 1,
    moment: int = 1,
) -> FloatArray:
    """ä^{(m)}_{x:n} (whole life when ``n`` is None), summed exactly with UDD survival."""
    if m < 1:
        raise ValueError("m must be a positive integer")
    v = _v(i, moment)
    xi = _ages(table, x)
    terms = _terms(table, xi, n)
    width = int(terms.max(initial=0)) * m
    if width == 0:
        return np.zeros(xi.shape)
    k = np.arange(width, dtype=np.float64) / m
    grid = xi[..., None] + k
    tpx = l_at(table, grid) / table.lx[xi][..., None]
    paid = k < terms[..., None]
    result: FloatArray = (np.where(paid, tpx * v**k, 0.0)).sum(axis=-1) / m
    return result


def assurance(
    table: MortalityTable,
    x: ArrayLike,
    i: float,
    n: ArrayLike | None = None,
    m: int = 1,
    moment: int = 1,
) -> FloatArray:
    """A_x (or term A^1_{x:n}) paying 1 at the end of the year of death.

    With ``m`` > 1 the benefit is paid at the end of the 1/m-th year of death, by UDD:
    A^(m) = i / i^(m) A, with the interest of the requested moment.
    """
    v = _v(i, moment)
    xi = _ages(table, x)
    terms = _terms(table, xi, n)
    width = int(terms.max(initial=0))
    if width == 0:
        return np.zeros(xi.shape)
    k = np.arange(width)
    ages = np.minimum(xi[..., None] + k, table.max_age + 1)
    deaths = (
        table.lx[np.minimum(ages, table.max_age)]
        - table.lx[np.minimum(ages + 1, table.max_age + 1)]
    )
    deaths = np.where(ages <= table.max_age, deaths, 0.0)
    covered = k < terms[..., None]
    disc = v ** (k + 1.0)
    value: FloatArray = np.where(covered, deaths * disc, 0.0).sum(axis=-1) / table.lx[xi]
    if m > 1:
        j = 1.0 / v - 1.0
        value = value * j / (m * ((1.0 + j) ** (1.0 / m) - 1.0))
    return value


def pure_endowment(
    table: MortalityTable, x: ArrayLike, i: float, n: ArrayLike, moment: int = 1
) -> FloatArray:
    """{}_nE_x = v^n {}_np_x."""
    v = _v(i, moment)
    xi = _ages(table, x)
    na = np.broadcast_to(np.asarray(n, dtype=np.int64), xi.shape)
    if np.any(na < 0):
        raise ValueError("terms must be non-negative")
    lxn = table.lx[np.minimum(xi + na, table.max_age + 1)]
    result: FloatArray = v**na * lxn / table.lx[xi]
    return result


def endowment_assurance(
    table: MortalityTable, x: ArrayLike, i: float, n: ArrayLike, moment: int = 1
) -> FloatArray:
    """A_{x:n} = A^1_{x:n} + {}_nE_x."""
    return assurance(table, x, i, n, moment=moment) + pure_endowment(table, x, i, n, moment)


def assurance_continuous_udd(table: MortalityTable, x: ArrayLike, i: float) -> FloatArray:
    """Ā_x under UDD: (i / δ) A_x."""
    return assurance(table, x, i) * i / np.log1p(i) if i != 0 else assurance(table, x, i)


# Recursions over attained age: one pass gives the value at every age of the table.


def annuity_due_all_ages(table: MortalityTable, i: float) -> FloatArray:
    """ä_y for y = 0..max_age+1 (0 at max_age+1) by ä_y = 1 + v p_y ä_{y+1}."""
    v = _v(i)
    out = np.zeros(table.max_age + 2)
    p = 1.0 - table.q
    for y in range(table.max_age, -1, -1):
        out[y] = 1.0 + v * p[y] * out[y + 1]
    return out


def increasing_assurance_all_ages(table: MortalityTable, i: float, g: float) -> FloatArray:
    """b_y = PV at age y of a whole-life benefit of (1+g)^k paid at the end of year k+1.

    b_y = v q_y + v p_y (1+g) b_{y+1}: a geometrically increasing whole-life assurance,
    the benefit of the increasing whole-life product per unit of first-year sum assured.
    g = 0 gives A_y; g = i gives 1/(1+i) at every age whatever the table.
    """
    v = _v(i)
    out = np.zeros(table.max_age + 2)
    p = 1.0 - table.q
    grow = 1.0 + g
    for y in range(table.max_age, -1, -1):
        out[y] = v * table.q[y] + v * p[y] * grow * out[y + 1]
    return out


def temporary_annuity_from_whole(
    table: MortalityTable,
    a_whole: FloatArray,
    y: IntArray,
    n: IntArray,
    i: float,
) -> FloatArray:
    """ä_{y:n} = ä_y - v^n {}_np_y ä_{y+n}, gathered for arrays of ages and terms."""
    v = _v(i)
    top = table.max_age + 1
    yc = np.minimum(y, top)
    nn = np.maximum(n, 0)
    yn = np.minimum(yc + nn, top)
    ly = table.lx[yc]
    safe = np.where(ly > 0.0, ly, 1.0)
    value = a_whole[yc] - v ** nn.astype(np.float64) * table.lx[yn] / safe * a_whole[yn]
    result: FloatArray = np.where((n > 0) & (ly > 0.0), value, 0.0)
    return result
