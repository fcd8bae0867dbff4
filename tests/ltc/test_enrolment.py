"""`anxin ltc import`: good rows kept, bad rows reported, re-import idempotent; contributions
and the fund by month through the API, with tenancy and roles."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from typer.testing import CliRunner

from anxin.cli import app as cli
from anxin.core.config import get_settings
from anxin.core.context import AppContext
from anxin.ltc.models import LtcImport, LtcInsured
from anxin.ltc.register import id_check_digit
from tests.ltc.conftest import CITY

HEADER = "id_number,name,sex,birth_date,district,address,lat,lon\n"


def person(seq: int, name: str = "王秀兰") -> str:
    first17 = f"32060219550312{seq:03d}"
    home = "32.0146,120.8642"
    return f"{first17}{id_check_digit(first17)},{name},F,1955-03-12,崇川区,青年路 {seq} 号,{home}\n"


@pytest.fixture
def cli_env(monkeypatch: pytest.MonkeyPatch, database_url: str) -> None:
    monkeypatch.setenv("ANXIN_DATABASE_URL", database_url)
    monkeypatch.setenv("ANXIN_SECRET_KEY", "cli-test-secret-key-long-enough-123456")
    get_settings.cache_clear()


def test_import_keeps_good_rows_reports_bad_ones_and_is_idempotent(
    cli_env: None, city: str, context: AppContext, tmp_path: Path
) -> None:
    register = tmp_path / "register.csv"
    register.write_text(
        "\ufeff" + HEADER + person(1) + person(2) + "320602195503120030,坏,F,1955-03-12,a,b,,\n"
        + person(3), encoding="utf-8",
    )  # fmt: skip
    runner = CliRunner()
    first = runner.invoke(cli, ["ltc", "import", str(register), "--org", CITY, "--chunk", "2"])
    assert first.exit_code == 0, first.output
    assert "3 rows imported, 1 bad rows skipped" in first.stdout
    assert "line 4: id_number: check digit does not match" in first.stderr
    # The city corrects a name and sends the whole file again: updated, not duplicated.
    register.write_text(HEADER + person(1) + person(2, "王秀英") + person(3), encoding="utf-8")
    again = runner.invoke(cli, ["ltc", "import", str(register), "--org", CITY])
    assert again.exit_code == 0, again.output
    with context.unit() as uow:
        names = uow.session.scalars(select(LtcInsured.name).order_by(LtcInsured.id_number)).all()
        imports = uow.session.scalars(select(LtcImport.rows_bad)).all()
    assert names == ["王秀兰", "王秀英", "王秀兰"]
    assert sorted(imports) == [0, 1]


def test_a_reimport_rewrites_only_the_rows_the_register_changed(
    cli_env: None, city: str, context: AppContext, tmp_path: Path
) -> None:
    register = tmp_path / "register.csv"
    runner = CliRunner()

    def stamps() -> dict[str, datetime]:
        with context.unit() as uow:
            rows = uow.session.execute(select(LtcInsured.id_number, LtcInsured.updated_at))
            return {number: at for number, at in rows}

    same, renamed = person(1), person(2, "王秀英")
    register.write_text(HEADER + same + renamed, encoding="utf-8")
    assert runner.invoke(cli, ["ltc", "import", str(register), "--org", CITY]).exit_code == 0
    before = stamps()
    register.write_text(HEADER + same + person(2, "王秀珍"), encoding="utf-8")
    assert runner.invoke(cli, ["ltc", "import", str(register), "--org", CITY]).exit_code == 0
    after = stamps()
    unchanged, changed = same.split(",")[0], renamed.split(",")[0]
    assert after[unchanged] == before[unchanged]
    assert after[changed] > before[changed]


def test_a_file_without_the_columns_is_refused(cli_env: None, city: str, tmp_path: Path) -> None:
    register = tmp_path / "register.csv"
    register.write_text("name,sex\n王,F\n", encoding="utf-8")
    result = CliRunner().invoke(cli, ["ltc", "import", str(register), "--org", CITY])
    assert result.exit_code == 2 and "the header lacks id_number" in result.stderr


def test_contributions_by_source_and_the_fund_by_month(
    client: TestClient, headers: Callable[[str], dict[str, str]]
) -> None:
    admin = headers("ltc-admin")
    for month, source, amount, ref in [
        ("2026-10", "employer", "1000000.00", "emp-2026-10"),
        ("2026-10", "medical_insurance", "250000.50", "mi-2026-10"),
        ("2026-11", "government", "300000.00", "gov-2026-11"),
    ]:
        response = client.post(
            "/api/v1/ltc/contributions", headers=admin,
            json={"month": month, "source": source, "amount": amount, "reference": ref},
        )  # fmt: skip
        assert response.status_code == 201, response.text
    again = client.post(
        "/api/v1/ltc/contributions", headers=admin,
        json={"month": "2026-11", "source": "individual", "amount": "1", "reference": ref},
    )  # fmt: skip
    assert again.status_code == 409
    fund = client.get("/api/v1/ltc/fund", headers=headers("ltc-supervisor"))
    assert fund.json() == [
        {"month": "2026-10", "paid_in": "1250000.50", "paid_out": "0.00", "balance": "1250000.50"},
        {"month": "2026-11", "paid_in": "300000.00", "paid_out": "0.00", "balance": "1550000.50"},
    ]
    assert client.get("/api/v1/ltc/fund", headers=headers("other-admin")).json() == []
    assert Decimal(fund.json()[-1]["balance"]) == Decimal("1550000.50")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"month": "2026-13", "source": "employer", "amount": "1.00", "reference": "r"}, "month"),
        ({"month": "2026-11", "source": "lottery", "amount": "1.00", "reference": "r"}, "source"),
        ({"month": "2026-11", "source": "employer", "amount": "1.001", "reference": "r"}, "amount"),
        ({"month": "2026-11", "source": "employer", "amount": "-5", "reference": "r"}, "amount"),
    ],
)
def test_bad_contributions_name_the_field(
    client: TestClient, headers: Callable[[str], dict[str, str]], body: dict[str, str], field: str
) -> None:
    response = client.post("/api/v1/ltc/contributions", headers=headers("ltc-admin"), json=body)
    assert response.status_code == 422
    assert any(f["field"].endswith(field) for f in response.json()["fields"])


def test_only_the_administrator_posts_contributions(
    client: TestClient, headers: Callable[[str], dict[str, str]]
) -> None:
    body = {"month": "2026-11", "source": "employer", "amount": "1.00", "reference": "x"}
    response = client.post(
        "/api/v1/ltc/contributions", headers=headers("ltc-supervisor"), json=body
    )
    assert response.status_code == 403
