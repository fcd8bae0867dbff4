"""What `anxin demo` adds to the seed so the console shows a lived-in week: the sleep mat's
last nights, the leased machines' last days, the counterfeit sighting, and three years of
the market's trade with its forecasts. Not part of
`seed_demo`, which is also every test's fixture and must leave the readings and the outbox
empty for the tests that count them."""

from __future__ import annotations

from anxin.core.unit import UnitOfWork
from anxin.demo import market
from anxin.demo.ltc import live_extras as ltc_live_extras
from anxin.demo.machines import history
from anxin.demo.seed import DemoInfo
from anxin.demo.sleep import backfill_demo_mat
from anxin.demo.trace import counterfeit_sighting


def bring_to_life(uow: UnitOfWork, info: DemoInfo) -> int:
    """Backfill the demo's recent past; returns the sleep-mat readings written."""
    nights = backfill_demo_mat(uow, list(info.device_tokens))
    if info.leasing is not None:
        history(uow, info.leasing.contract_id, uow.now())
    counterfeit_sighting(uow)
    if info.market is not None:
        market.history(uow, info.market)  # three years of trade, then the forecasts
    if info.ltc is not None:
        ltc_live_extras(uow, info.ltc)
    return nights
