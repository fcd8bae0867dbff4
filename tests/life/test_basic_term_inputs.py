"""The openpyxl-free reader gives exactly what modelx reads (when openpyxl is present)."""

from __future__ import annotations

import warnings
from pathlib import Path

import pandas as pd


def test_reader_matches_pandas_and_openpyxl(tmp_path: Path) -> None:
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
        points, mort, disc = basic_term_inputs.load(model_dir)
        pd.testing.assert_frame_equal(points, proj.model_point_table, check_exact=True)
        pd.testing.assert_frame_equal(mort, proj.mort_table, check_exact=True)
        pd.testing.assert_series_equal(disc, proj.disc_rate_ann, check_exact=True)
    finally:
        model.close()
