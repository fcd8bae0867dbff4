"""Demo data, seeded in one place. Later modules add their part to `seed_demo`."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from anxin.core.security import Principal, Role
from anxin.core.unit import UnitOfWork
from anxin.demo.accounts import ensure_user
from anxin.demo.ltc import LOGINS as LTC_LOGINS
from anxin.demo.ltc import seed_ltc
from anxin.demo.market import LOGINS as MARKET_LOGINS
from anxin.demo.market import seed_market
from anxin.demo.tokens import read_tokens, write_tokens
from anxin.demo.trace import LOGINS as TRACE_LOGINS
from anxin.demo.trace import seed_trace
from anxin.homecare import service as homecare
from anxin.homecare.models import Elder, Household
from anxin.homecare.schemas import (
    ElderCreate,
    EmergencyContact,
    FamilyLink,
    HouseholdCreate,
    Medication,
)
from anxin.iot import service as iot
from anxin.iot.schemas import DeviceCreate
from anxin.people import service as people
from anxin.people.models import Organisation, OrganisationKind, User

CARE_ORG = "安心居家养老服务中心 Anxin Home Care"
# Demo-only credentials, printed by `anxin demo`; production mode refuses to seed them.
DEMO_USERS: tuple[tuple[str, str, Role, str], ...] = (
    ("admin", "系统管理员 Admin", Role.ADMIN, "demo-admin-pass"),
    ("butler", "管家 陈静 Chen Jing", Role.BUTLER, "demo-butler-pass"),
    ("teamlead", "管家组长 刘洋 Liu Yang", Role.BUTLER, "demo-teamlead-pass"),
    ("son", "儿子 李伟 Li Wei", Role.FAMILY, "demo-son-pass"),
    ("daughter", "女儿 李娜 Li Na", Role.FAMILY, "demo-daughter-pass"),
    ("elder", "张桂芳 Zhang Guifang", Role.ELDER, "demo-elder-pass"),
    ("neighbour-family", "赵家 Zhao family", Role.FAMILY, "demo-zhao-pass"),
    ("doctor", "家庭医生 吴敏 Dr Wu Min", Role.DOCTOR, "demo-doctor-pass"),
    ("bank", "信贷员 王敏 Wang Min (SCF)", Role.SCF_OFFICER, "demo-bank-pass"),
    ("warehouse", "仓管 孙磊 Sun Lei", Role.WAREHOUSE_OPERATOR, "demo-warehouse-pass"),
    ("bank-risk", "风控 周强 Zhou Qiang", Role.RISK_OFFICER, "demo-bank-risk-pass"),
    ("lender", "客户经理 李芳 Li Fang (loans)", Role.LOAN_OFFICER, "demo-lender-pass"),
    ("lending-qc", "质检 黄磊 Huang Lei (QC)", Role.RISK_OFFICER, "demo-lending-qc-pass"),
    ("worker", "护理员 王秀英 Wang Xiuying", Role.PROVIDER, "demo-worker-pass"),
    ("lessor", "租赁经理 吴涛 Wu Tao (leasing)", Role.LESSOR, "demo-lessor-pass"),
    ("machinery", "恒力机械 财务 钱敏 Qian Min", Role.LESSEE, "demo-machinery-pass"),
    ("trader", "借款人 陈建国 Chen Jianguo", Role.BORROWER, "demo-trader-pass"),
    *TRACE_LOGINS,  # the Jinshan rice cooperative (issue 20)
    *MARKET_LOGINS,  # the supermarket chain's buyer (issue 21)
    *LTC_LOGINS,  # Nantong's long-term care insurance (issue 17)
)
# Logins of other organisations (the bank, the warehouse operator): seeded by their domain.
OTHER_ORG_USERS = frozenset(
    {
        *("bank", "warehouse", "bank-risk", "lender", "lending-qc"),
        *("lessor", "machinery", "trader"),
        *(u for u, *_ in TRACE_LOGINS),
        *(u for u, *_ in MARKET_LOGINS),
        *(u for u, *_ in LTC_LOGINS),
    }
)


@dataclass
class DemoInfo:
    organisation_id: str
    elder_id: str
    household_id: str
    logins: list[tuple[str, str, str]]
    device_tokens: dict[str, str] = field(default_factory=dict)
    collateral: Any = None  # anxin.collateral.demo.CollateralDemo
    loan_application_id: str | None = None  # the clothing trader's, at the review step
    services: Any = None  # anxin.demo.services.ServicesDemo
    leasing: Any = None  # anxin.demo.machines.LeasingDemo
    consultation_id: str | None = None  # 张桂芳's, taken by the demo doctor (issue 19)
    trace: Any = None  # anxin.demo.trace.TraceDemo
    market: Any = None  # anxin.demo.market.MarketDemo
    ltc: Any = None  # anxin.demo.ltc.LtcDemo


def seed_demo(*, uow: UnitOfWork, token_file: Path | None = None) -> DemoInfo:
    """Create the demo organisation once; a second call finds it and changes nothing."""
    session, now = uow.session, uow.now()
    org = session.scalar(select(Organisation).where(Organisation.name == CARE_ORG))
    created = org is None
    if org is None:
        org = people.create_organisation(
            session=session, name=CARE_ORG, kind=OrganisationKind.CARE_PROVIDER, now=now
        )
        _seed_people(session, org.id, now)
    users = {
        u.username: u for u in session.scalars(select(User).where(User.organisation_id == org.id))
    }
    admin = people.principal_of(users["admin"])
    if created:
        _seed_households(session, admin, users, now, token_file)
    _seed_care(uow, org.id, users, now)
    collateral = _seed_collateral(uow, now, token_file)
    loan_application_id = _seed_lending(uow, now)
    services = _seed_services(uow, org)
    leasing = _seed_leasing(uow, now, token_file)
    consultation_id = _seed_consult(uow, org.id, now)
    trace = seed_trace(uow=uow, now=now)
    market = seed_market(uow=uow, now=now, lot_id=trace.lot_id)
    ltc = seed_ltc(uow=uow)
    elder = session.scalar(select(Elder).where(Elder.user_id == users["elder"].id))
    assert elder is not None
    tokens = read_tokens(token_file)
    return DemoInfo(
        organisation_id=org.id,
        elder_id=elder.id,
        household_id=elder.household_id,
        logins=[(u, r.value, p) for u, _, r, p in DEMO_USERS],
        device_tokens=tokens,
        collateral=collateral,
        loan_application_id=loan_application_id,
        services=services,
        leasing=leasing,
        consultation_id=consultation_id,
        trace=trace,
        market=market,
        ltc=ltc,
    )


def _seed_people(session: Session, org_id: str, now: datetime) -> None:
    used: set[int] = set()
    for username, name, role, password in DEMO_USERS:
        if username in OTHER_ORG_USERS:
            continue
        # Distinct numbers: two people sharing one (the team lead and the daughter did) made
        # the outbox's one-message-per-address rule drop whichever came second.
        suffix = 1000 + len(username)
        while suffix in used:
            suffix += 10
        used.add(suffix)
        phone = f"+86 138 0000 {suffix}"
        ensure_user(session, org_id, username, name, role, password, now, phone=phone)


def _seed_households(
    session: Session,
    admin: Principal,
    users: dict[str, User],
    now: datetime,
    token_file: Path | None,
) -> None:
    home = homecare.create_household(
        session=session,
        principal=admin,
        data=HouseholdCreate(
            name="张家 Zhang household", address="南通市崇川区 Chongchuan, Nantong"
        ),
        now=now,
    )
    elder = homecare.create_elder(
        session=session,
        principal=admin,
        data=ElderCreate(
            household_id=home.id,
            full_name="张桂芳 Zhang Guifang",
            birth_date=date(now.year - 58, 3, 14),
            sex="F",
            phone="+86 139 0000 0058",
            butler_user_id=users["butler"].id,
            conditions=["高血压 hypertension"],
            medications=[
                Medication(name="氨氯地平 amlodipine", dose="5 mg", schedule="每日一次 once daily")
            ],
            emergency_contacts=[
                EmergencyContact(name="李伟 Li Wei", phone="+86 138 0000 1003", relation="son")
            ],
        ),
        now=now,
    )
    elder.user_id = users["elder"].id
    for username, relation in (("son", "son"), ("daughter", "daughter")):
        homecare.link_family_member(
            session=session,
            principal=admin,
            elder_id=elder.id,
            data=FamilyLink(user_id=users[username].id, relation=relation, consent=True),
            now=now,
        )
    tokens: dict[str, str] = {}
    for device_type, name in (
        ("mmwave_radar", "卫生间跌倒雷达 Bathroom fall radar"),
        ("sleep_mat", "卧室睡眠垫 Bedroom sleep mat"),
        ("door_sensor", "入户门磁 Front door sensor"),
    ):
        device, token = iot.register_device(
            session=session,
            organisation_id=admin.organisation_id,
            data=DeviceCreate(
                device_type=device_type, name=name, owner_kind="household", owner_id=home.id
            ),
            now=now,
        )
        tokens[device.id] = token
    _seed_neighbour(session, admin, users, now)
    if token_file is not None:
        write_tokens(token_file, session, tokens)


def _seed_neighbour(
    session: Session, admin: Principal, users: dict[str, User], now: datetime
) -> None:
    """A second household, so the demo shows that one family cannot see another."""
    home = homecare.create_household(
        session=session,
        principal=admin,
        data=HouseholdCreate(name="赵家 Zhao household", address="南通市港闸区 Gangzha, Nantong"),
        now=now,
    )
    elder = homecare.create_elder(
        session=session,
        principal=admin,
        data=ElderCreate(
            household_id=home.id,
            full_name="赵建国 Zhao Jianguo",
            birth_date=date(now.year - 81, 9, 2),
            sex="M",
            butler_user_id=users["butler"].id,
            conditions=["糖尿病 diabetes"],
        ),
        now=now,
    )
    homecare.link_family_member(
        session=session,
        principal=admin,
        elder_id=elder.id,
        data=FamilyLink(user_id=users["neighbour-family"].id, relation="daughter", consent=True),
        now=now,
    )


def _seed_care(uow: UnitOfWork, org_id: str, users: dict[str, User], now: datetime) -> None:
    session = uow.session
    """The butler team and its lead, the device rules and the escalation policies (idempotent)."""
    from anxin.alerts.service import sync_policies
    from anxin.homecare import teams
    from anxin.homecare.schemas import CareTeamCreate
    from anxin.iot.rules.service import install_default_rules

    admin = people.principal_of(users["admin"])
    if not teams.list_teams(session=session, principal=admin):
        teams.create_team(
            session=session,
            principal=admin,
            data=CareTeamCreate(
                name="管家一组 Butler team 1",
                lead_user_id=users["teamlead"].id,
                member_user_ids=[users["butler"].id],
            ),
            now=now,
        )
    install_default_rules(uow=uow, organisation_id=org_id, now=now)
    sync_policies(session=session, now=now)
    session.flush()


def _seed_collateral(uow: UnitOfWork, now: datetime, token_file: Path | None) -> Any:
    """The steel trader's 30-million-yuan loan against rebar (issue 7); crane device tokens
    go next to the household ones, in demo-crane-tokens.json."""
    from anxin.demo.steel import seed_collateral

    info = seed_collateral(uow=uow, now=now)
    if token_file is not None and info.crane_tokens:
        path = token_file.with_name("demo-crane-tokens.json")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(info.crane_tokens, indent=2))
        path.chmod(0o600)
    return info


def _seed_lending(uow: UnitOfWork, now: datetime) -> str:
    """The clothing trader's 300,000-yuan application, waiting at review (issue 15)."""
    from anxin.demo.lending import seed_lending

    return seed_lending(uow=uow, now=now)


def _seed_services(uow: UnitOfWork, org: Organisation) -> Any:
    """The home-services provider, its workers and bookings in every state (issue 18)."""
    from anxin.demo.services import seed_services

    return seed_services(uow=uow, organisation=org)


def _seed_leasing(uow: UnitOfWork, now: datetime, token_file: Path | None) -> Any:
    """The Jiangsu machinery maker's ~3,000,000-yuan lease and its two tracked machines
    (issue 16); tracker tokens in demo-machine-tokens.json."""
    from anxin.demo.machines import seed_leasing

    path = token_file.with_name("demo-machine-tokens.json") if token_file else None
    return seed_leasing(uow=uow, now=now, token_file=path)


def _seed_consult(uow: UnitOfWork, org_id: str, now: datetime) -> str:
    """张桂芳's consultation with the family doctor (issue 19)."""
    from anxin.demo.consult import seed_consult

    elder = uow.session.scalar(
        select(Elder).join(Household).where(Household.organisation_id == org_id,
                                            Elder.full_name.like("张桂芳%"))
    )  # fmt: skip
    assert elder is not None
    return seed_consult(uow=uow, organisation_id=org_id, elder_id=elder.id, now=now)


def demo_household(session: Session) -> Household | None:
    return session.scalar(select(Household).where(Household.name == "张家 Zhang household"))
