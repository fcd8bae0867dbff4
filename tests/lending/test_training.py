"""`anxin lending train-scorecard` reproduces the packaged artefact exactly: a decision's model
version names one set of points, whoever retrains."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from anxin.cli import app
from anxin.lending import scorecard


def test_retraining_reproduces_the_packaged_artefact(tmp_path):
    out = tmp_path / "card.json"
    result = CliRunner().invoke(app, ["lending", "train-scorecard", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "5-fold AUC" in result.output and "KS" in result.output and "Gini" in result.output
    assert json.loads(out.read_text()) == json.loads(scorecard.ARTEFACT.read_text())
