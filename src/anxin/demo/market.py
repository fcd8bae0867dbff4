"""The market demo (issue 21): a supermarket chain's buyer and the cooperative's listing of
lot JS2026, and — for `anxin demo` only (`history`) — three years of weekly trade with a
weekly rhythm (orders fall on weekdays), a yearly season (the new-rice autumn) and the Spring
Festival peak, then the forecasts over it.

The seed (every test's fixture) adds only the buyer and one listing; the history writes
hundreds of rows and the forecasts take tens of seconds, so they live in `demo.live`.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from sqlalchemy import select

from anxin.core.security import Role
from anxin.core.unit import UnitOfWork
from anxin.demo.accounts import ensure_organisation, ensure_user
from anxin.market import forecasting, service
from anxin.market.models import (
    Listing,
    ListingStatus,
    Order,
    OrderStatus,
    PaymentTerm,
)
from anxin.market.schemas import ListingCreate
from anxin.people import service as people
from anxin.people.models import OrganisationKind

BUYER_ORG = "鲜丰超市连锁 Xianfeng Supermarkets"
LOGINS: tuple[tuple[str, str, Role, str], ...] = (
    ("buyer", "采购 林晓 Lin Xiao (Xianfeng)", Role.BUYER, "demo-buyer-pass"),
)
REGIONS = ("east", "north")
HISTORY_WEEKS = 156


@dataclass
class MarketDemo:
    listing_id: str
    buyer_organisation_id: str


def seed_market(*, uow: UnitOfWork, now: datetime, lot_id: str) -> MarketDemo:
    """The buyer and one open listing of the demo lot; a second call changes nothing."""
    session = uow.session
    org = ensure_organisation(session, BUYER_ORG, OrganisationKind.BUSINESS, now)
    for username, name, role, password in LOGINS:
        ensure_user(session, org.id, username, name, role, password, now)
    listing = session.scalar(select(Listing).where(Listing.lot_id == lot_id))
    if listing is None:
        coop = people.principal_of(people.get_user_by_username(session=session, username="coop"))
        today = now.astimezone(service.CST).date()
        listing = service.create_listing(
            uow=uow,
            principal=coop,
            data=ListingCreate(
                lot_id=lot_id,
                grade="first",
                quantity_kg=Decimal("3000.0"),
                price_per_kg=Decimal("7.60"),
                region="east",
                delivery_from=today,
                delivery_to=today + timedelta(days=60),
            ),
        )
    return MarketDemo(listing_id=listing.id, buyer_organisation_id=org.id)


def weekly_demand(week: date, region: str, rng: random.Random) -> float:
    """Kilograms ordered in a week: a base with a slow trend, the autumn new-rice season, the
    Spring Festival weeks, and noise; the east buys more than the north."""
    base = 900.0 if region == "east" else 550.0
    t = (week - date(2023, 1, 2)).days / 7
    season = 1 + 0.25 * math.cos(2 * math.pi * (week.timetuple().tm_yday - 290) / 365.25)
    peak = 1.8 if forecasting.festival(week) else 1.0
    return max(0.0, base * (1 + 0.002 * t) * season * peak * rng.gauss(1.0, 0.08))


def history(
    uow: UnitOfWork, demo: MarketDemo, *, weeks: int = HISTORY_WEEKS, forecast: bool = True
) -> int:
    """Write `weeks` of settled trade before today (once) and forecast it; returns orders."""
    session = uow.session
    listing = session.get(Listing, demo.listing_id)
    assert listing is not None
    if session.scalar(select(Order.id).where(Order.contract_no.like("H%")).limit(1)):
        return 0
    buyer = people.get_user_by_username(session=session, username="buyer")
    coop = people.principal_of(people.get_user_by_username(session=session, username="coop"))
    rng = random.Random(21)  # noqa: S311 - a simulation, reproducible on purpose
    today = uow.now().astimezone(service.CST).date()
    first = forecasting.monday(today) - timedelta(weeks=weeks)
    orders = 0
    for w in range(weeks):
        week = first + timedelta(weeks=w)
        at = datetime.combine(week, time(9), tzinfo=service.CST)
        for region in REGIONS:
            kg = weekly_demand(week, region, rng)
            # Supply: what the cooperative listed for the region that week, a little over.
            lot = Listing(
                seller_organisation_id=listing.seller_organisation_id,
                created_by=listing.created_by,
                lot_id=listing.lot_id,
                crop=listing.crop,
                grade=listing.grade,
                quantity_kg=Decimal(f"{kg * rng.uniform(1.0, 1.15):.1f}"),
                available_kg=Decimal("0.0"),
                price_per_kg=listing.price_per_kg,
                region=region,
                delivery_from=week,
                delivery_to=week + timedelta(days=6),
                status=ListingStatus.CLOSED,
                created_at=at,
            )
            session.add(lot)
            session.flush()
            # The weekly rhythm: an order on a weekday, more of them early in the week.
            day = week + timedelta(days=rng.choice((0, 0, 1, 1, 2, 3, 4)))
            session.add(
                Order(
                    listing_id=lot.id,
                    seller_organisation_id=listing.seller_organisation_id,
                    buyer_organisation_id=demo.buyer_organisation_id,
                    buyer_user_id=buyer.id,
                    offered_by="buyer",
                    quantity_kg=Decimal(f"{kg:.1f}"),
                    price_per_kg=listing.price_per_kg,
                    payment_term=PaymentTerm.NET_30,
                    tolerances={},
                    delivery_location=None,
                    status=OrderStatus.SETTLED,
                    contract_no=f"H{day:%Y%m%d}-{region}",
                    created_at=at,
                    contracted_on=day,
                    settled_at=at + timedelta(days=35),
                )
            )
            orders += 1
    session.flush()
    if forecast:
        forecasting.run(uow=uow, principal=coop)
    return orders
