"""The consultation demo (issue 19): 张桂芳's son asks the family doctor about her dizziness;
the doctor has taken it, answered, recorded her penicillin allergy, prescribed and planned a
follow-up; her home blood-pressure log is attached as a PDF."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from sqlalchemy import select

from anxin.consult import service
from anxin.consult.models import Call, CallStatus, Consultation, Mode
from anxin.consult.schemas import (
    AllergyCreate,
    ConsultationCreate,
    EncounterUpdate,
    FollowUpCreate,
    Frequency,
    PrescriptionCreate,
    Route,
)
from anxin.core.clock import to_local
from anxin.core.security import Role
from anxin.core.unit import UnitOfWork
from anxin.demo.accounts import ensure_user
from anxin.people import service as people
from anxin.people.models import User

DOCTOR = ("doctor", "家庭医生 吴敏 Dr Wu Min", Role.DOCTOR, "demo-doctor-pass")
# A one-page PDF (what a scanned log would be), small enough to keep in the source.
BP_LOG = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
    b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 200 100]>>endobj\n"
    b"trailer<</Root 1 0 R>>\n%%EOF\n"
)


def seed_consult(*, uow: UnitOfWork, organisation_id: str, elder_id: str, now: datetime) -> str:
    """The doctor's login and the demo consultation (once); the consultation's id."""
    session = uow.session
    username, name, role, password = DOCTOR
    doctor = people.principal_of(
        ensure_user(session, organisation_id, username, name, role, password, now)
    )
    existing = session.scalar(
        select(Consultation.id).where(Consultation.elder_id == elder_id).limit(1)
    )
    if existing is not None:
        return existing
    son_user = session.scalar(select(User).where(User.username == "son"))
    assert son_user is not None
    son = people.principal_of(son_user)
    consultation = service.request_consultation(
        uow=uow,
        principal=son,
        data=ConsultationCreate(
            elder_id=elder_id,
            mode=Mode.TEXT,
            complaint="妈妈这两天早上头晕,血压150/95 Mum is dizzy in the mornings, BP 150/95",
        ),
    )
    service.add_attachment(uow=uow, principal=son, consultation_id=consultation.id,
                           filename="血压记录 BP log.pdf", data=BP_LOG)  # fmt: skip
    service.take(uow=uow, principal=doctor, consultation_id=consultation.id)
    service.post_message(uow=uow, principal=doctor, consultation_id=consultation.id,
                         body="早上服药前后各量一次血压好吗? Please take her BP before and "
                         "after the morning pill.")  # fmt: skip
    service.post_message(uow=uow, principal=son, consultation_id=consultation.id,
                         body="好的,今天开始记录。 OK, from today.")  # fmt: skip
    # The video call that followed, four minutes long (the call log on the consultation page).
    answered = now - timedelta(minutes=30)
    uow.session.add(Call(consultation_id=consultation.id, mode=Mode.VIDEO,
                         status=CallStatus.ENDED, caller_user_id=doctor.user_id,
                         answered_by_user_id=son.user_id, ended_by_user_id=doctor.user_id,
                         created_at=answered - timedelta(seconds=12), started_at=answered,
                         ended_at=answered + timedelta(minutes=4), duration_s=240))  # fmt: skip
    allergy = AllergyCreate(substance="青霉素 penicillin", reaction="皮疹 rash")
    service.add_allergy(uow=uow, principal=doctor, elder_id=elder_id, data=allergy)
    service.update_encounter(
        uow=uow,
        principal=doctor,
        consultation_id=consultation.id,
        data=EncounterUpdate(
            note="晨起头晕,家庭血压偏高。Morning dizziness, home BP raised.",
            interpretation="血压记录提示晨峰高血压。The log shows a morning surge.",
            guidance="氨氯地平照常早上服用,睡前加阿托伐他汀。Keep amlodipine in the morning; "
            "atorvastatin at bedtime.",
        ),
    )
    service.prescribe(
        uow=uow,
        principal=doctor,
        consultation_id=consultation.id,
        data=PrescriptionCreate(
            drug="阿托伐他汀 atorvastatin", strength="20 mg", dose="1 片 tablet",
            route=Route.ORAL, frequency=Frequency.QN, duration_days=30, quantity=30,
            times=[time(21, 0)],
        ),
    )  # fmt: skip
    service.add_follow_up(
        uow=uow,
        principal=doctor,
        consultation_id=consultation.id,
        data=FollowUpCreate(
            due_on=to_local(now).date() + timedelta(days=14),
            plan="两周后复查血压记录 Review the BP log in two weeks",
        ),
    )
    return consultation.id
