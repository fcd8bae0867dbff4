"""CL(2010-2013) as stored must equal the official notice; SULT must follow Makeham."""

from __future__ import annotations

import math

import numpy as np
import pytest

from anxin.life.tables import CLBusiness, MortalityTable, Sex, cl2010, cl_table, sult

# Rows read from the published table of the CIRC notice of 2016-12-21 (中国保监会关于发布
# 《中国人身保险业经验生命表（2010－2013）》的通知), columns CL1..CL6.
NOTICE_ROWS = {
    0: "0.000867 0.000620 0.000620 0.000455 0.000566 0.000453",
    1: "0.000615 0.000456 0.000465 0.000324 0.000386 0.000289",
    2: "0.000445 0.000337 0.000353 0.000236 0.000268 0.000184",
    51: "0.004633 0.002037 0.003150 0.001439 0.002340 0.001031",
    55: "0.006302 0.002853 0.004297 0.002027 0.003221 0.001450",
    59: "0.008403 0.003990 0.005807 0.002840 0.004323 0.002097",
    80: "0.082220 0.055385 0.061403 0.038718 0.044492 0.026770",
    85: "0.131817 0.097754 0.105786 0.069596 0.082223 0.051616",
    88: "0.171609 0.132638 0.137917 0.092504 0.111321 0.070942",
    100: "0.446544 0.345975 0.369561 0.230215 0.328401 0.200836",
    104: "0.568497 0.465447 0.487867 0.327687 0.440086 0.287859",
    105: "1.000000 1.000000 1.000000 1.000000 1.000000 1.000000",
}


@pytest.mark.parametrize("age", sorted(NOTICE_ROWS))
def test_cl_rows_match_the_notice(age: int) -> None:
    expected = [float(v) for v in NOTICE_ROWS[age].split()]
    got = [float(cl2010(code).q[age]) for code in ("CL1", "CL2", "CL3", "CL4", "CL5", "CL6")]
    assert got == expected


def test_cl_tables_are_complete_and_plausible() -> None:
    for code in ("CL1", "CL2", "CL3", "CL4", "CL5", "CL6"):
        table = cl2010(code)
        assert table.max_age == 105
        # mortality rises with age from the teens to the end of the table
        assert np.all(np.diff(table.q[12:]) > 0)
    # women live longer than men in every business line, and annuitants longest
    for age in (30, 60, 90):
        assert cl2010("CL2").q[age] < cl2010("CL1").q[age]
        assert cl2010("CL5").q[age] < cl2010("CL1").q[age]


def test_table_selection_by_sex_and_business() -> None:
    assert cl_table(Sex.MALE) is cl2010("CL1")
    assert cl_table("F") is cl2010("CL2")
    assert cl_table(Sex.FEMALE, CLBusiness.PENSION) is cl2010("CL6")
    with pytest.raises(KeyError):
        cl2010("CL7")


def test_sult_follows_makeham() -> None:
    table = sult()
    for x in (20, 50, 90):
        expected = math.exp(-0.00022 - 2.7e-6 * 1.124**x * 0.124 / math.log(1.124))
        assert 1 - table.q[x] == pytest.approx(expected, rel=1e-14)
    assert table.q[-1] == 1.0


def test_invalid_tables_are_refused() -> None:
    with pytest.raises(ValueError):
        MortalityTable("bad", np.array([0.1, 0.5]))
    with pytest.raises(ValueError):
        MortalityTable("bad", np.array([-0.1, 1.0]))
