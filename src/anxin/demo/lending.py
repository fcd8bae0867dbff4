"""The small-business loan demo (issue 15): a Shanghai clothing trader applies for 300,000 yuan
and the application waits at the review step, so a newcomer can score it and take it on."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import select

from anxin.core.security import Role
from anxin.core.unit import UnitOfWork
from anxin.demo.accounts import ensure_organisation, ensure_user
from anxin.demo.steel import BANK_ORG
from anxin.lending import service
from anxin.lending.models import Application, Borrower, Business
from anxin.lending.schemas import ApplicationCreate
from anxin.people import service as people
from anxin.people.models import OrganisationKind

TRADER_CODE = "91310106MA1JX0801G"  # GB 32100 check character G
OWNER_ID = "310106197803150810"  # GB 11643 check digit 0; born 1978-03-15
AMOUNT = Decimal("300000.00")
# (username, display name, role, password): the bank's lending staff. The QC reviewer who
# approves dual recordings is a second risk officer (no separate role).
LOGINS: tuple[tuple[str, str, Role, str], ...] = (
    ("lender", "客户经理 李芳 Li Fang (loans)", Role.LOAN_OFFICER, "demo-lender-pass"),
    ("lending-qc", "质检 黄磊 Huang Lei (QC)", Role.RISK_OFFICER, "demo-lending-qc-pass"),
)
# The trader himself, a login of his own business (not of the bank): he reads and
# acknowledges the key facts, follows his loan and complains on his phone.
TRADER_ORG = "上海锦绣服饰商行 Jinxiu Clothing (Shanghai)"
TRADER_LOGIN = ("trader", "借款人 陈建国 Chen Jianguo", Role.BORROWER, "demo-trader-pass")


def seed_lending(*, uow: UnitOfWork, now: datetime) -> str:
    """Create the lending staff and the trader's application under review (once); its id."""
    session = uow.session
    bank = ensure_organisation(session, BANK_ORG, OrganisationKind.BANK, now)
    users = {
        username: ensure_user(session, bank.id, username, name, role, password, now)
        for username, name, role, password in LOGINS
    }
    existing = session.scalar(
        select(Application.id)
        .join(Business, Business.id == Application.business_id)
        .where(Business.organisation_id == bank.id, Business.credit_code == TRADER_CODE)
    )
    if existing is not None:
        return existing
    officer = people.principal_of(users["lender"])
    application = service.create_application(
        uow=uow,
        principal=officer,
        data=ApplicationCreate.model_validate(
            {
                "business": {
                    "name": "上海锦绣服饰商行 Jinxiu Clothing (Shanghai)",
                    "credit_code": TRADER_CODE,
                    "industry": "服装批发 clothing wholesale",
                    "years_trading": 9,
                    "monthly_turnover": "180000.00",
                },
                "owner": {
                    "name": "陈建国 Chen Jianguo",
                    "resident_id": OWNER_ID,
                    "phone": "13800138000",
                },
                "amount": str(AMOUNT),
                "term_months": 12,
                "purpose": "working_capital",
                "purpose_detail": "春季备货 spring stock",
                "profile": {
                    "account_status": "healthy",
                    "credit_history": "repaying_duly",
                    "savings": "50k_100k",
                    "property": "vehicle_or_other",
                    "other_loans": "none",
                    "housing": "rent",
                    "guarantor": "none",
                },
            }
        ),
    )
    service.submit(uow=uow, principal=officer, application_id=application.id)
    trader_org = ensure_organisation(session, TRADER_ORG, OrganisationKind.BUSINESS, now)
    username, name, role, password = TRADER_LOGIN
    trader = ensure_user(session, trader_org.id, username, name, role, password, now)
    borrower = session.get_one(Borrower, application.borrower_id)
    borrower.user_id = trader.id
    session.flush()
    return application.id
