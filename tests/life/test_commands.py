"""`anxin life value` and `anxin life illustrate`."""

from __future__ import annotations

from pathlib import Path

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
