"""anxin's level-term model reproduces lifelib BasicTerm_M point by point."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np

from anxin.life.level_term import TermAssumptions, project


def test_pv_net_cf_matches_lifelib_for_every_model_point(tmp_path: Path) -> None:
    import lifelib
    import modelx as mx

    from tests.life import basic_term_inputs

    lifelib.create("basiclife", str(tmp_path / "basiclife"))
    model_dir = tmp_path / "basiclife" / "BasicTerm_M"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = mx.read_model(str(model_dir))
    try:
        proj = model.Projection
        if proj.model_point_table is None:
            # without openpyxl modelx cannot read the Excel inputs: supply them ourselves
            points, mort, disc = basic_term_inputs.load(model_dir)
            proj.model_point_table, proj.mort_table, proj.disc_rate_ann = points, mort, disc
        points = proj.model_point_table
        mort = proj.mort_table
        basis = TermAssumptions(
            mort_table=mort.to_numpy(dtype=np.float64),
            min_age=int(mort.index[0]),
            disc_rate_ann=proj.disc_rate_ann.to_numpy(dtype=np.float64),
        )
        ours = project(
            points["age_at_entry"].to_numpy(np.int64),
            points["policy_term"].to_numpy(np.int64),
            points["sum_assured"].to_numpy(np.float64),
            basis,
        )
        theirs = np.asarray(proj.pv_net_cf(), dtype=np.float64)
        assert ours.pv_net_cf.shape == theirs.shape == (10_000,)
        rel = np.abs(ours.pv_net_cf - theirs) / np.abs(theirs)
        assert rel.max() < 1e-9
        assert np.array_equal(ours.premium_pp, np.asarray(proj.premium_pp()))
    finally:
        model.close()
