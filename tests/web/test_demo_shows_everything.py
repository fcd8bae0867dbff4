"""A fresh demo shows full pages: seven nights on the sleep mat, a week of the pledge's
valuations, crane days after the opening balances, and the simulator finds the server."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from anxin.cli import server_url
from anxin.collateral.models import Movement, Valuation
from anxin.demo.sleep import backfill_demo_mat
from tests.conftest import DEMO_PASSWORDS, make_settings
from tests.web.chart_options import chart_options, series_named


def test_last_nights_sleep_report_is_full_after_the_backfill(client, demo, context):
    with context.unit(actor="test:demo") as uow:
        assert backfill_demo_mat(uow, list(demo.device_tokens)) > 7 * 8 * 60
    with context.unit(actor="test:demo") as uow:  # the same nights again store nothing
        assert backfill_demo_mat(uow, list(demo.device_tokens)) == 0
    client.post("/login", data={"username": "son", "password": DEMO_PASSWORDS["son"]})
    card = client.get(f"/console/elders/{demo.elder_id}").text
    hours = int(card.split('data-field="time_in_bed">')[1].split("h")[0])
    assert 7 <= hours <= 10
    heart = series_named(chart_options(card)["sleep-chart"], "心率")
    assert sum(1 for _, bpm in heart["data"] if bpm is not None) > 80
    week_ago = client.get(f"/console/elders/{demo.elder_id}?night=2026-11-22").text
    assert 'id="sleep-chart"' in week_ago


def test_the_pledge_has_a_week_of_valuations_before_any_crane_movement(client, demo, db):
    pledge_id = demo.collateral.pledge_id
    with db.session_scope() as session:
        times = list(
            session.scalars(
                select(Valuation.at).where(Valuation.pledge_id == pledge_id).order_by(Valuation.id)
            )
        )
        first_movement = session.scalar(select(func.min(Movement.occurred_at)))
    assert len(times) >= 8 and times[-1] - times[0] >= timedelta(days=6)
    # the opening balances are the first movements, stamped with the warehouse's opening
    assert first_movement is not None and first_movement <= times[0]
    client.post("/login", data={"username": "bank", "password": DEMO_PASSWORDS["bank"]})
    chart = chart_options(client.get(f"/console/collateral/pledges/{pledge_id}").text)
    assert len(series_named(chart["value-chart"], "市值")["data"]) >= 8


def test_the_simulator_posts_where_the_server_listens(database_url):
    assert server_url(make_settings(database_url, port=8123)) == "http://127.0.0.1:8123"
    wildcard = make_settings(database_url, host="0.0.0.0", port=9000)  # noqa: S104
    assert server_url(wildcard) == ("http://127.0.0.1:9000")
    assert server_url(make_settings(database_url, host="10.0.0.5")).startswith("http://10.0.0.5:")
