"""The long-term care insurance demo (issue 17): Nantong's scheme and its 71-year-old.

陈玉兰 Chen Yulan, 71, of Chongchuan district, applied two months ago; two assessors scored
her moderately disabled (Barthel 50, cognition and perception intact: grade 2), which brings
210 yuan a month, a caregiver twice a week (bathing, haircut, massage) and a nursing bed rented
from the district's depot with the fund paying 80 %. Her caregiver 周丽 Zhou Li of the Kangle
care station has visited every three or four days, the last time this morning. The fund has
three months of contributions; 顾建华 waits for his second assessor. Small on purpose: the
seed runs in every test. No plan is left open (a plan past its time would raise an alarm);
`anxin demo` adds one for later today (`live_extras`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import select

from anxin.core.security import Principal, Role
from anxin.core.unit import UnitOfWork
from anxin.demo.accounts import ensure_organisation, ensure_user
from anxin.ltc import (
    application_service,
    assessor_service,
    case_service,
    rental_service,
    service,
    settlement_service,
    visit_service,
)
from anxin.ltc.entitlements import Month
from anxin.ltc.models import (
    LtcApplication,
    LtcBeneficiary,
    LtcCaregiver,
    LtcInstitution,
    LtcInsured,
    LtcService,
    LtcVisit,
    LtcVisitPlan,
)
from anxin.ltc.register import id_check_digit
from anxin.ltc.schemas import (
    ApplicationCreate,
    AssessmentCreate,
    CaregiverCreate,
    ContributionCreate,
    DepotCreate,
    InstitutionCreate,
    Item,
    RentalCreate,
    RuleCreate,
)
from anxin.ltc.settlement import Source
from anxin.ltc.settlement_service import LOCAL
from anxin.people import service as people
from anxin.people.models import OrganisationKind, User

CITY_ORG = "南通市长期护理保险经办中心 Nantong LTC"
PROVIDER_ORG = "康乐护理服务有限公司 Kangle Care"
CITY = "nantong"
LOGINS: tuple[tuple[str, str, Role, str], ...] = (
    ("ltc-admin", "长护险经办 顾敏 Gu Min", Role.LTC_ADMIN, "demo-ltc-admin-pass"),
    ("assessor", "评估员 陆刚 Lu Gang", Role.LTC_ADMIN, "demo-assessor-pass"),
    ("ltc-supervisor", "医保局监管 施红 Shi Hong", Role.SUPERVISOR, "demo-ltc-supervisor-pass"),
    ("ltc-elder", "陈玉兰 Chen Yulan", Role.ELDER, "demo-ltc-elder-pass"),
    ("ltc-family", "女儿 黄丽 Huang Li", Role.FAMILY, "demo-ltc-family-pass"),
    ("caregiver", "护理员 周丽 Zhou Li", Role.PROVIDER, "demo-caregiver-pass"),
)
MENU = (
    ("bath", "助浴", "Bathing", "60.00"),
    ("haircut", "理发", "Haircut", "15.00"),
    ("massage", "按摩", "Massage", "35.50"),
    ("wound_care", "伤口护理", "Wound care", "80.00"),
)
# grade -> (monthly cash, visits per week, services): the city's rules, as data.
RULES = {
    1: ("150.00", 1, ["bath", "haircut"]),
    2: ("210.00", 2, ["bath", "haircut", "massage"]),
    3: ("450.00", 3, ["bath", "haircut", "massage", "wound_care"]),
    4: ("600.00", 3, ["bath", "haircut", "massage", "wound_care"]),
    5: ("750.00", 4, ["bath", "haircut", "massage", "wound_care"]),
}
HOME = (32.0302, 120.8745)  # 濠河路, 崇川区
BORN = date(1955, 6, 18)
# Barthel 50 (moderately dependent in daily living), cognition and perception intact: grade 2.
ADL = {"feeding": 10, "bathing": 0, "grooming": 0, "dressing": 5, "bowels": 10,
       "bladder": 10, "toilet": 5, "transfers": 5, "mobility": 5, "stairs": 0}  # fmt: skip
COGNITION = {"time_orientation": 4, "person_orientation": 4, "space_orientation": 4, "memory": 4}
PERCEPTION = {"vision": 4, "hearing": 4, "communication": 4}
# Visits: every three or four days back from this morning (twice a week), what was done.
VISIT_DAYS = (0, 3, 7, 10, 14, 17)
VISIT_SERVICES = (["bath", "massage"], ["haircut", "massage"])


@dataclass
class LtcDemo:
    organisation_id: str
    beneficiary_id: int
    institution_id: int
    caregiver_id: int
    application_id: int


def id_number(area: str, born: date, sequence: str) -> str:
    """A resident identity number with a valid GB 11643-1999 check digit."""
    first17 = f"{area}{born:%Y%m%d}{sequence}"
    return first17 + id_check_digit(first17)


def seed_ltc(*, uow: UnitOfWork) -> LtcDemo:
    """Create the scheme once; a second call finds it and changes nothing."""
    session, now = uow.session, uow.now()
    org = ensure_organisation(session, CITY_ORG, OrganisationKind.CITY, now)
    provider = ensure_organisation(session, PROVIDER_ORG, OrganisationKind.CARE_PROVIDER, now)
    users = {
        username: ensure_user(
            session, provider.id if role is Role.PROVIDER else org.id, username, name, role,
            password, now,
        )
        for username, name, role, password in LOGINS
    }  # fmt: skip
    her_id = id_number("320602", BORN, "042")
    insured = session.scalar(
        select(LtcInsured).where(LtcInsured.org_id == org.id, LtcInsured.id_number == her_id)
    )
    if insured is not None:
        return _found(uow, org.id, insured.id)
    admin = people.principal_of(users["ltc-admin"])
    for code, zh, en, price in MENU:
        session.add(LtcService(org_id=org.id, code=code, name_zh=zh, name_en=en,
                               price=Decimal(price)))  # fmt: skip
    for grade, (cash, per_week, services) in RULES.items():
        settlement_service.add_rule(
            session=session, principal=admin, now=now,
            data=RuleCreate(city=CITY, grade=grade, valid_from=date(2026, 1, 1),
                            monthly_cash=Decimal(cash), visits_per_week=per_week,
                            services=services, visit_copay_ratio=Decimal("0.10"),
                            rental_fund_ratio=Decimal("0.80")),
        )  # fmt: skip
    register = [
        (her_id, "陈玉兰", "F", BORN, "崇川区", "濠河路 18 号 3 单元 201", HOME),
        (id_number("320602", date(1950, 2, 3), "017"), "顾建华", "M", date(1950, 2, 3),
         "崇川区", "青年中路 66 号", (32.0121, 120.8610)),
        (id_number("320612", date(1962, 9, 21), "028"), "朱美芳", "F", date(1962, 9, 21),
         "通州区", "金沙镇建设路 9 号", (32.0842, 121.0730)),
    ]  # fmt: skip
    for number, name, sex, born, district, address, (lat, lon) in register:
        session.add(LtcInsured(org_id=org.id, id_number=number, name=name, sex=sex,
                               birth_date=born, district=district, address=address, lat=lat,
                               lon=lon, updated_at=now))  # fmt: skip
    session.flush()
    applied = now - timedelta(days=60)
    application = application_service.apply(
        session=session, principal=admin, now=applied,
        data=ApplicationCreate(id_number=her_id, city=CITY, self_assessment=ADL),
    )  # fmt: skip
    for username in ("ltc-admin", "assessor"):
        application_service.assess(
            session=session, principal=people.principal_of(users[username]),
            application_id=application.id, now=applied + timedelta(days=5),
            data=AssessmentCreate(visited_on=(applied + timedelta(days=5)).date(), adl=ADL,
                                  cognition=COGNITION, perception=PERCEPTION),
        )  # fmt: skip
    her = session.scalar(select(LtcBeneficiary).where(LtcBeneficiary.org_id == org.id))
    assert her is not None and her.grade == 2, "the demo's assessments give grade 2"
    station = visit_service.create_institution(
        session=session, principal=admin, now=now,
        data=InstitutionCreate(name="崇川区康乐护理站 Kangle care station",
                               provider_org_id=provider.id),
    )  # fmt: skip
    carer = visit_service.create_caregiver(
        session=session, principal=admin, institution_id=station.id, now=now,
        data=CaregiverCreate(code="NT-CG-0107", name="周丽", phone="+86 139 0513 0107",
                             qualification="care_worker", areas=["崇川区"],
                             user_id=users["caregiver"].id),
    )  # fmt: skip
    depot = rental_service.create_depot(
        session=session, principal=admin, now=now,
        data=DepotCreate(name="崇川区辅具租赁站 Chongchuan equipment depot", nursing_beds=20,
                         wheelchairs=30),
    )  # fmt: skip
    rental_service.deliver(
        session=session, principal=admin, now=now,
        data=RentalCreate(depot_id=depot.id, beneficiary_id=her.id, item=Item.NURSING_BED,
                          monthly_rent=Decimal("150.00"),
                          start=her.entitled_from + timedelta(days=3)),
    )  # fmt: skip
    _visits(uow, her, station, carer)
    for username, relation in (("ltc-elder", "self"), ("ltc-family", "family")):
        case_service.add_viewer(
            session=session, principal=admin, beneficiary_id=her.id,
            user_id=users[username].id, relation=relation, now=now,
        )  # fmt: skip
    _contributions(uow, admin_principal=admin)
    _waiting(uow, users, admin, register[1][0])
    return LtcDemo(org.id, her.id, station.id, carer.id, application.id)


def _visits(
    uow: UnitOfWork, her: LtcBeneficiary, station: LtcInstitution, carer: LtcCaregiver
) -> None:
    """Twice a week back from this morning: each visit planned, checked in and out at her
    door after an hour, and confirmed by her daughter."""
    session, now = uow.session, uow.now()
    last = now - timedelta(minutes=90)
    for n, days in enumerate(VISIT_DAYS):
        start = last - timedelta(days=days)
        if start.astimezone(LOCAL).date() < her.entitled_from:
            continue
        services = VISIT_SERVICES[n % 2]
        visit = LtcVisit(
            org_id=her.org_id, beneficiary_id=her.id, institution_id=station.id,
            caregiver=carer.code, caregiver_id=carer.id, check_in=start,
            check_out=start + timedelta(minutes=60), in_lat=HOME[0], in_lon=HOME[1],
            out_lat=HOME[0], out_lon=HOME[1], services=services, confirmed=True,
        )  # fmt: skip
        session.add(visit)
        session.flush()
        session.add(LtcVisitPlan(
            org_id=her.org_id, beneficiary_id=her.id, institution_id=station.id,
            caregiver_id=carer.id, planned_at=start, services=services, visit_id=visit.id,
            created_at=start - timedelta(days=7),
        ))  # fmt: skip
    session.flush()


def _waiting(uow: UnitOfWork, users: dict[str, User], admin: Principal, number: str) -> None:
    """顾建华 applied three days ago; the administrator has scored him (severe, Barthel 30)
    and he waits in the assessor's queue for the second score."""
    session, now = uow.session, uow.now()
    adl = {**ADL, "feeding": 5, "bowels": 5, "bladder": 5, "transfers": 0, "mobility": 0}
    application = application_service.apply(
        session=session, principal=admin, now=now - timedelta(days=3),
        data=ApplicationCreate(id_number=number, city=CITY, self_assessment=adl),
    )  # fmt: skip
    application_service.assess(
        session=session, principal=admin, application_id=application.id,
        now=now - timedelta(days=1),
        data=AssessmentCreate(visited_on=(now - timedelta(days=1)).date(), adl=adl,
                              cognition=COGNITION, perception=PERCEPTION),
    )  # fmt: skip
    assessor_service.assign(
        session=session, principal=admin, application_id=application.id,
        assessor_id=users["assessor"].id, now=now,
    )  # fmt: skip


def _contributions(uow: UnitOfWork, *, admin_principal: Principal) -> None:
    """Three months of money in, by source (a small city district's share)."""
    today = application_service.today(uow.now())
    month = Month(today.year, today.month)
    amounts = {Source.EMPLOYER: "42000.00", Source.INDIVIDUAL: "21000.00",
               Source.MEDICAL_INSURANCE: "30000.00", Source.GOVERNMENT: "12000.00"}  # fmt: skip
    for back in (2, 1, 0):
        first = month.first
        for _ in range(back):
            first = (first - timedelta(days=1)).replace(day=1)
        label = f"{first:%Y-%m}"
        for source, amount in amounts.items():
            service.contribute(
                session=uow.session, principal=admin_principal, now=uow.now(),
                data=ContributionCreate(month=label, source=source, amount=Decimal(amount),
                                        reference=f"demo:{label}:{source.value}"),
            )  # fmt: skip


def _found(uow: UnitOfWork, org_id: str, insured_id: int) -> LtcDemo:
    session = uow.session
    her = session.scalar(select(LtcBeneficiary).where(LtcBeneficiary.insured_id == insured_id))
    station = session.scalar(select(LtcInstitution).where(LtcInstitution.org_id == org_id))
    carer = session.scalar(select(LtcCaregiver).where(LtcCaregiver.org_id == org_id))
    application = session.scalar(
        select(LtcApplication)
        .where(LtcApplication.insured_id == insured_id)
        .order_by(LtcApplication.id)
        .limit(1)
    )
    assert her and station and carer and application
    return LtcDemo(org_id, her.id, station.id, carer.id, application.id)


def live_extras(uow: UnitOfWork, demo: LtcDemo) -> None:
    """For `anxin demo` only: her next visit planned for later today, so the caregiver's page
    has a visit to check in (in a test it would turn into a missed-visit alarm)."""
    session, now = uow.session, uow.now()
    open_plan = session.scalar(
        select(LtcVisitPlan.id).where(
            LtcVisitPlan.beneficiary_id == demo.beneficiary_id, LtcVisitPlan.visit_id.is_(None)
        )
    )
    if open_plan is None:
        session.add(LtcVisitPlan(
            org_id=demo.organisation_id, beneficiary_id=demo.beneficiary_id,
            institution_id=demo.institution_id, caregiver_id=demo.caregiver_id,
            planned_at=now + timedelta(hours=2), services=["bath", "haircut"],
            created_at=now,
        ))  # fmt: skip
        session.flush()
