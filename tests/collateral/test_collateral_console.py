"""The collateral console without a browser: who sees the dashboard, the release form and
the officer's approval, the chart and both languages."""

from __future__ import annotations

from decimal import Decimal

from tests.conftest import DEMO_PASSWORDS
from tests.web.chart_options import chart_options, series_named

from anxin.collateral.models import PledgeRow, Valuation
from anxin.ui.charts import axis_time


def _console_login(client, username):
    client.cookies.clear()
    response = client.post(
        "/login", data={"username": username, "password": DEMO_PASSWORDS[username]}
    )
    assert response.status_code == 200


def test_operator_requests_and_the_bank_officer_approves_on_the_page(client, demo):
    pledge_id = demo.collateral.pledge_id
    page = f"/console/collateral/pledges/{pledge_id}"
    _console_login(client, "warehouse")
    home = client.get("/")
    assert 'href="/console/collateral"' in home.text
    r = client.post(
        f"{page}/releases",
        data={"quantity_t": "25.5", "note": "truck 苏F12345"},
        follow_redirects=False,
    )
    assert r.status_code == 303 and r.headers["location"] == page
    text = client.get(page).text
    assert 'data-status="requested"' in text and "25.500" in text
    assert 'class="approve"' not in text  # the operator may not approve
    bad = client.post(f"{page}/releases", data={"quantity_t": "lots"})
    assert bad.status_code == 422 and "not a quantity" in bad.text

    _console_login(client, "bank")
    text = client.get(page).text
    assert 'class="approve"' in text and 'id="value-chart"' in text
    release_id = text.split('data-release-id="')[1].split('"')[0]
    r = client.post(f"/console/collateral/releases/{release_id}/approve", follow_redirects=False)
    assert r.status_code == 303
    assert f'data-release-id="{release_id}" data-status="approved"' in client.get(page).text


def test_dashboard_lists_the_pledge_in_both_languages(client, demo):
    _console_login(client, "bank")
    zh = client.get("/console/collateral?lang=zh").text
    assert "质押监管" in zh and "SCF-2026-0001" in zh and "68.49%" in zh
    en = client.get("/console/collateral?lang=en").text
    assert "Collateral" in en and "Market value" in en
    part = client.get("/console/collateral/parts/overview")
    assert part.status_code == 200 and f'data-pledge-id="{demo.collateral.pledge_id}"' in part.text


def test_the_dashboard_is_not_for_families_and_other_pledges_are_404(client, demo):
    _console_login(client, "son")
    r = client.get("/console/collateral")
    assert r.status_code == 403 and "banks and warehouse operators" in r.text
    _console_login(client, "butler")
    assert client.get(f"/console/collateral/pledges/{demo.collateral.pledge_id}").status_code in (
        403,
        404,
    )


def test_the_pledge_chart_dates_the_value_against_the_loan_and_the_three_lines(
    client, demo, db, clock
):
    pledge_id = demo.collateral.pledge_id
    with db.session_scope() as session:
        pledge = session.get(PledgeRow, pledge_id)
        assert pledge is not None and pledge.liquidation_ltv is not None
        lines = (pledge.warning_ltv, pledge.margin_call_ltv, pledge.liquidation_ltv)
        first = session.query(Valuation).filter_by(pledge_id=pledge_id).order_by(Valuation.id)[0]
        at, market, outstanding = first.at, first.market_value, first.outstanding
    _console_login(client, "bank")
    option = chart_options(client.get(f"/console/collateral/pledges/{pledge_id}?lang=en").text)[
        "value-chart"
    ]
    assert option["xAxis"]["type"] == "time" and option["tooltip"]["trigger"] == "axis"
    value = series_named(option, "Market value")["data"]
    assert value[0] == [axis_time(at), float(market)]
    # the last valuation holds until now: the line reaches the page's clock
    assert value[-1][0] == axis_time(clock.now())
    assert series_named(option, "Outstanding")["data"][0] == [axis_time(at), float(outstanding)]
    for name, ltv in zip(
        ("Warning line", "Margin-call line", "Liquidation line"), lines, strict=True
    ):
        threshold = series_named(option, name)
        assert threshold["lineStyle"]["type"] == "dashed"
        assert threshold["data"][0] == [axis_time(at), float(Decimal(outstanding) / ltv)]
    # the lower the line's LTV, the higher the market value at which it is reached
    levels = [series_named(option, n)["data"][0][1] for n in ("Warning line", "Liquidation line")]
    assert levels[0] > levels[1] > float(outstanding)
