"""`anxin life value` and `anxin life illustrate`."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from anxin.life.commands import app

runner = CliRunner()


def test_value_a_portfolio_file(tmp_path: Path) -> None:
    book = tmp_path / "book.csv"
    book.write_text(
        "policy_id,sex,issue_age,pay_term,sum_assured,issue_date\n"
        "A1,M,30,10,100000.00,2024-09-01\n"
        "A2,F,45,1,50000.00,2022-05-01\n"
    )
    out = tmp_path / "values.csv"
    result = runner.invoke(
        app,
        ["value", "--portfolio", str(book), "--valuation-date", "2025-09-01", "--output", str(out)],
    )
    assert result.exit_code == 0, result.output
    assert "2" in result.stdout and "Valuation at 2025-09-01" in result.stdout
    lines = out.read_text().splitlines()
    assert lines[0] == "policy_id,reserve,cash_value" and len(lines) == 3


def test_bad_file_is_a_clear_error(tmp_path: Path) -> None:
    book = tmp_path / "book.csv"
    book.write_text(
        "policy_id,sex,issue_age,pay_term,sum_assured,issue_date\nA1,X,30,10,1,2024-09-01\n"
    )
    result = runner.invoke(
        app, ["value", "--portfolio", str(book), "--valuation-date", "2025-01-01"]
    )
    assert result.exit_code == 2
    assert "sex must be M or F" in result.output


def test_illustrate_prints_a_table() -> None:
    result = runner.invoke(
        app,
        [
            "illustrate",
            "--age",
            "30",
            "--sex",
            "F",
            "--term",
            "10",
            "--sum-assured",
            "100000",
            "--issue-date",
            "2025-01-01",
            "--years",
            "12",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "CL2(2010-2013)" in result.stdout


def test_mounted_under_the_main_cli() -> None:
    from anxin.cli import app as main_app

    result = runner.invoke(main_app, ["life", "--help"])
    assert result.exit_code == 0
    assert "value" in result.stdout and "illustrate" in result.stdout


def test_a_table_at_a_rate_prints_the_published_sult_values() -> None:
    result = runner.invoke(app, ["table", "SULT", "--rate", "0.05", "--from", "60", "--to", "60"])
    assert result.exit_code == 0, result.output
    for printed in ("14.9041", "0.29028", "0.10834"):  # ä60, A60, ²A60 (AMLCR Appendix D)
        assert printed in result.stdout


def test_an_unknown_table_is_one_readable_line_and_exit_two() -> None:
    result = runner.invoke(app, ["table", "CL9", "--rate", "0.05"])
    assert result.exit_code == 2
    assert "no table 'CL9'" in result.output


def test_the_guarantee_is_valued_for_each_pricing_rate() -> None:
    result = runner.invoke(app, ["guarantee", "--scenarios", "200", "--curve", "1:0.02,30:0.03"])
    assert result.exit_code == 0, result.output
    for rate in ("3.5%", "3.0%", "2.5%"):
        assert rate in result.stdout


def test_a_malformed_curve_is_refused_before_any_work() -> None:
    result = runner.invoke(app, ["guarantee", "--curve", "1:x"])
    assert result.exit_code == 2
    assert "years:rate" in result.output


def test_a_group_is_measured_under_ifrs17_and_its_roll_forward_written(tmp_path: Path) -> None:
    points = tmp_path / "points.csv"
    points.write_text(
        "issue_age,sex,pay_term,sum_assured,issue_date,count\n"
        "35,M,10,100000,2025-01-01,400\n45,F,5,100000,2025-01-01,300\n"
    )
    out = tmp_path / "roll.csv"
    result = runner.invoke(
        app, ["ifrs17", "--points", str(points), "--years", "3", "--output", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert "Initial recognition" in result.stdout and "CSM" in result.stdout
    rows = out.read_text().splitlines()
    assert len(rows) == 4 and "-0.00" not in out.read_text()


def test_a_bad_model_point_names_its_line(tmp_path: Path) -> None:
    points = tmp_path / "points.csv"
    points.write_text(
        "issue_age,sex,pay_term,sum_assured,issue_date,count\n35,X,10,1,2025-01-01,1\n"
    )
    result = runner.invoke(app, ["ifrs17", "--points", str(points)])
    assert result.exit_code == 2
    assert "line 2" in result.output


def test_level_term_points_from_a_file_are_valued_on_a_chosen_table(tmp_path: Path) -> None:
    import numpy as np

    from anxin.life.level_term import TermAssumptions, project
    from anxin.life.tables import table_by_name

    points = tmp_path / "points.csv"
    points.write_text(
        "point_id,age_at_entry,policy_term,sum_assured\nP1,30,20,500000\nP2,45,10,300000\n"
    )
    out = tmp_path / "pv.csv"
    result = runner.invoke(
        app,
        [
            "level-term",
            "--points",
            str(points),
            "--table",
            "CL2",
            "--rate",
            "0.03",
            "--output",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    basis = TermAssumptions(
        mort_table=np.asarray(table_by_name("CL2").q).reshape(-1, 1),
        min_age=0,
        disc_rate_ann=np.full(61, 0.03),
    )
    direct = project(np.array([30, 45]), np.array([20, 10]), np.array([500000.0, 300000.0]), basis)
    rows = out.read_text().splitlines()[1:]
    assert [r.split(",")[0] for r in rows] == ["P1", "P2"]
    for row, value in zip(rows, direct.pv_net_cf, strict=True):
        assert float(row.split(",")[2]) == round(float(value), 2)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("point_id,age_at_entry,policy_term,sum_assured\nP1,30,x,1\n", "line 2"),
        ("point_id,age_at_entry,policy_term,sum_assured\nP1,99,20,1\n", "past the table"),
        ("point_id,age\nP1,30\n", "missing columns"),
    ],
)
def test_bad_level_term_files_are_refused_with_a_reason(
    tmp_path: Path, body: str, message: str
) -> None:
    points = tmp_path / "points.csv"
    points.write_text(body)
    result = runner.invoke(app, ["level-term", "--points", str(points)])
    assert result.exit_code == 2
    assert message in result.output
