"""The lessor's quote form: rent from the rate and the rate from a target rent, stepped rent,
VAT, the ECharts chart and both rates, zh/en; every bad input named beside its field (422,
never a 500); a contract written from the quote, its machines summing to the quote's cost."""

from __future__ import annotations

import json
import re
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

import pytest

from tests.leasing.test_leasing_api import LESSEE_USCC, _users
from tests.leasing.test_leasing_pages import _console_login

TERMS = {
    "cost": "3000000.00", "down_payment": "300000.00", "periods": "36",
    "frequency_months": "1", "pricing": "rate", "annual_rate": "6.5", "timing": "advance",
    "method": "equal_rent", "residual": "100.00", "handling_fee": "30000.00",
    "kind": "direct", "vat": "on", "start": "2026-12-01",
}  # fmt: skip


def _quote(client: Any, **changes: str) -> Any:
    return client.get(f"/leasing/quote?{urlencode({**TERMS, **changes})}")


def _found(pattern: str, html: str) -> str:
    match = re.search(pattern, html)
    assert match, pattern
    return match[1]


def _chart(html: str) -> dict[str, Any]:
    found = re.search(r'id="quote-chart"[^>]*data-chart="([^"]+)"', html)
    assert found, "no chart on the page"
    return dict(json.loads(found[1].replace("&#34;", '"').replace("&quot;", '"')))


def test_the_quote_form_prices_both_ways(client: Any, context: Any) -> None:
    _users(context)
    _console_login(client, "lessor")
    blank = client.get("/leasing/quote?lang=en")
    assert blank.status_code == 200 and 'id="quote-form"' in blank.text
    assert 'id="quote"' not in blank.text  # nothing priced before the form is sent

    by_rate = _quote(client, lang="en")
    assert by_rate.status_code == 200, by_rate.text
    rent = _found(r'id="quote-rent">([\d,.]+)<', by_rate.text).replace(",", "")
    assert 'id="rate-implicit">6.5000%<' in by_rate.text
    annualised = _found(r'id="rate-annualised">([\d.]+)%<', by_rate.text)
    assert Decimal(annualised) > Decimal("6.5")  # the handling fee raises the real cost
    # 36 rents in advance and the buy-out price a period after the last
    assert by_rate.text.count("<tr data-number=") == 37
    option = _chart(by_rate.text)
    assert [s["type"] for s in option["series"]] == ["bar", "bar", "bar", "line"]
    assert len(option["series"][0]["data"]) == 37
    assert "/static/vendor/echarts/echarts.min.js" in by_rate.text

    # the same rent as a target gives the rate back
    by_rent = _quote(client, pricing="rent", rent=rent, annual_rate="")
    assert 'id="rate-implicit">6.5000%<' in by_rent.text
    zh = _quote(client, method="stepped", profile="1, 1, 1.5", lang="zh")
    assert zh.status_code == 200 and "租赁内含利率" in zh.text and "年化利率" in zh.text


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"cost": "abc"}, "cost"),
        ({"cost": "-5"}, "cost"),
        ({"periods": "0"}, "periods"),
        ({"periods": "x"}, "periods"),
        ({"annual_rate": "NaN"}, "annual_rate"),
        ({"annual_rate": "ten"}, "annual_rate"),
        ({"annual_rate": "250"}, "annual_rate"),
        ({"down_payment": "3000000.00"}, "down_payment"),
        ({"residual": "2900000"}, "residual"),
        ({"method": "stepped", "profile": ""}, "profile"),
        ({"method": "seasonal", "profile": "0, 0"}, "profile"),
        ({"method": "stepped", "profile": "1, x"}, "profile"),
        ({"pricing": "rent", "rent": "10.00"}, "rent"),
        ({"pricing": "rent", "rent": "", "annual_rate": ""}, "annual_rate"),
        ({"timing": "sideways"}, "timing"),
        ({"start": "2026-02-30"}, "start"),
        ({"frequency_months": "5"}, "frequency_months"),
    ],
)
def test_bad_input_is_named_on_the_page(
    client: Any, context: Any, changes: dict[str, str], field: str
) -> None:
    _users(context)
    _console_login(client, "lessor")
    answer = _quote(client, **changes)
    assert answer.status_code == 422, answer.text[:400]
    assert f'data-field="{field}"' in answer.text and 'id="problems"' in answer.text
    assert 'id="quote-form"' in answer.text  # the form is still there to correct


@pytest.mark.parametrize(
    ("changes", "field", "label", "zh", "en"),
    [
        ({"down_payment": "3000000.00"}, "down_payment", "首付款", "须小于设备价款",
         "Must be less than the cost"),
        ({"residual": "2900000"}, "residual", "留购价", "须小于融资额",
         "Must be less than the amount financed"),
        ({"method": "seasonal", "profile": "0, 0"}, "profile", "", "权重不能全为 0",
         "The weights must not all be zero"),
        ({"pricing": "rent", "rent": "10.00"}, "rent", "", "没有利率能使这些租金还清融资额",
         "No rate makes these rents repay the amount financed"),
        ({"cost": "-5"}, "cost", "设备价款", "须大于 0", "Must be greater than 0"),
    ],
)  # fmt: skip
def test_what_is_wrong_is_said_in_the_readers_language(
    client: Any, context: Any, changes: dict[str, str], field: str, label: str, zh: str, en: str
) -> None:
    """The reason beside the field and in the summary above the form: Chinese words for a
    Chinese reader (none of the API's English), English for an English one."""
    _users(context)
    _console_login(client, "lessor")
    chinese = _quote(client, **changes, lang="zh")
    assert chinese.status_code == 422
    beside = _found(rf'<span class="field-error"[^>]*data-field="{field}">([^<]*)<', chinese.text)
    assert beside == zh
    summary = _found(rf'<li data-field="{field}">([^<]*)</li>', chinese.text)
    assert summary.endswith(zh) and label in summary
    assert en not in chinese.text and en.lower() not in chinese.text
    english = _quote(client, **changes, lang="en")
    assert _found(rf'<li data-field="{field}">([^<]*)</li>', english.text).endswith(en)


def test_a_contract_from_the_quote(client: Any, context: Any) -> None:
    _users(context)
    _console_login(client, "lessor")
    contract = {
        **TERMS, "reference": "Q-2026-7", "lessee_name": "常州精工机械有限公司",
        "lessee_credit_code": LESSEE_USCC, "vendor_name": "苏州数控设备厂",
        "site_name": "Changzhou plant 2", "site_lat": "31.81", "site_lon": "119.97",
        "deposit": "150000", "buyout_fee_rate": "1", "penalty_rate": "18",
        "useful_life_months": "120", "lessee_username": "factory",
        "asset_asset_type": ["cnc_lathe", "press_brake", ""],
        "asset_description": ["", "", ""],
        "asset_cost": ["1800000.00", "1000000.00", ""],
        "asset_location": ["plant 2", "plant 2", ""],
    }  # fmt: skip
    short = client.post("/leasing/quote/contract", data=contract)
    assert short.status_code == 422 and 'data-field="assets"' in short.text
    nobody = client.post("/leasing/quote/contract", data={**contract, "lessee_username": "x"})
    assert nobody.status_code == 422 and 'data-field="lessee_username"' in nobody.text
    assert "设备价款合计 2800000.00 元，与报价的 3000000.00 元不符" in short.text  # zh by default
    in_english = client.post("/leasing/quote/contract?lang=en", data=contract)
    assert "costs sum to 2800000.00, the quote is for 3000000.00" in in_english.text
    client.get("/leasing/quote?lang=zh")
    bad_code = client.post(
        "/leasing/quote/contract",
        data={**contract, "lessee_credit_code": "91310000MA1FL1234X",
              "asset_cost": ["1800000.00", "1200000.00", ""]},
    )  # fmt: skip
    assert bad_code.status_code == 422 and 'data-field="lessee_credit_code"' in bad_code.text
    made = client.post(
        "/leasing/quote/contract",
        data={**contract, "asset_cost": ["1800000.00", "1200000.00", ""]},
        follow_redirects=False,
    )
    assert made.status_code == 303, made.text[:600]
    page = client.get(made.headers["location"] + "?lang=en")
    assert "Q-2026-7" in page.text and 'id="useful-life">120<' in page.text
    assert "6.5000%" in page.text and page.text.count("<tr data-number=") == 37
    again = client.post("/leasing/quote/contract", data={**contract,
                        "asset_cost": ["1800000.00", "1200000.00", ""]})  # fmt: skip
    assert again.status_code == 422 and 'data-field="reference"' in again.text
    _console_login(client, "factory")  # the lessee named on the form reads its statement
    assert "Q-2026-7" in client.get("/leasing/statement").text


def test_only_the_lessors_staff_quote(client: Any, context: Any) -> None:
    _users(context)
    for who in ("factory",):
        _console_login(client, who)
        assert _quote(client).status_code == 404
        assert client.post("/leasing/quote/contract", data=TERMS).status_code == 404
    client.cookies.clear()
    assert client.get("/leasing/quote", follow_redirects=False).status_code == 303
