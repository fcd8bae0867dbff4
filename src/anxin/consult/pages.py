"""The consultation pages: the doctor's queue, the requester's list and form, and one
consultation with the elder's card beside its thread. The thread refreshes through the live
hub (`live.js` refetches `data-live-src` when the stream pings this consultation). Calls
services only."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError

from anxin.consult import calls, orders, service
from anxin.consult.models import ConsultationStatus
from anxin.consult.schemas import (
    ConsultationCreate,
    EncounterUpdate,
    FollowUpCreate,
    Frequency,
    PrescriptionCreate,
    Route,
)
from anxin.core.clock import SHANGHAI
from anxin.core.domain import NavLink
from anxin.core.errors import InvalidInput
from anxin.core.security import Principal, Role
from anxin.core.unit import UnitOfWork
from anxin.people.deps import UnitDep
from anxin.ui.console import console_principal, form_errors, page, render

if TYPE_CHECKING:
    from anxin.homecare.models import Elder

TEMPLATES = Path(__file__).parent / "templates"

router = APIRouter(tags=["console"], include_in_schema=False)

NAV = [
    NavLink("/consult", "consult_queue", frozenset({Role.DOCTOR})),
    NavLink("/consult", "consult_doctor", frozenset({Role.ELDER, Role.FAMILY, Role.BUTLER})),
]

LABELS: dict[str, tuple[str, str]] = {
    "consult_queue": ("问诊队列", "Consultation queue"),
    "consult_doctor": ("问医生", "Ask a doctor"),
    "consult_title": ("在线问诊", "Online consultation"),
    "consult_new": ("发起问诊", "Ask a doctor"),
    "consult_elder": ("长者", "Elder"),
    "consult_mode": ("方式", "How"),
    "consult_mode_text": ("图文", "Text"),
    "consult_mode_voice": ("语音", "Voice"),
    "consult_mode_video": ("视频", "Video"),
    "consult_complaint": ("主诉", "Complaint"),
    "consult_file": ("附件(照片或化验单 PDF)", "Attachment (photo or lab report PDF)"),
    "consult_submit": ("提交", "Send"),
    "consult_none": ("暂无问诊", "No consultations"),
    "consult_status": ("状态", "Status"),
    "consult_status_waiting": ("候诊", "Waiting"),
    "consult_status_active": ("接诊中", "With a doctor"),
    "consult_status_closed": ("已结束", "Closed"),
    "consult_asked": ("提问时间", "Asked"),
    "consult_priority": ("优先级", "Priority"),
    "consult_reason_active_alarm": ("家中有未解除告警", "Active alarm at home"),
    "consult_reason_abnormal_vitals": ("体征异常", "Abnormal vitals"),
    "consult_open": ("打开", "Open"),
    "consult_take": ("接诊", "Take"),
    "consult_close": ("结束问诊", "Close"),
    "consult_thread": ("对话", "Conversation"),
    "consult_message": ("消息", "Message"),
    "consult_send": ("发送", "Send"),
    "consult_no_messages": ("还没有消息", "No messages yet"),
    "consult_attachments": ("附件", "Attachments"),
    "consult_card": ("长者档案", "Elder's card"),
    "consult_allergies": ("过敏史", "Allergies"),
    "consult_none_recorded": ("无记录", "None recorded"),
    "consult_vitals": ("最新体征", "Latest vitals"),
    "consult_abnormal": ("异常", "abnormal"),
    "consult_last_night": ("昨晚睡眠", "Last night's sleep"),
    "consult_in_bed_h": ("在床(小时)", "In bed (hours)"),
    "consult_recent_alarms": ("近7天告警", "Alarms, last 7 days"),
    "consult_prescriptions": ("处方", "Prescriptions"),
    "consult_active_rx": ("在用处方", "Active prescriptions"),
    "consult_record": ("诊疗记录", "Clinical record"),
    "consult_note": ("病历记录", "Encounter note"),
    "consult_interpretation": ("报告解读", "Report interpretation"),
    "consult_guidance": ("用药指导", "Medication guidance"),
    "consult_save": ("保存", "Save"),
    "consult_drug": ("药品", "Drug"),
    "consult_strength": ("规格", "Strength"),
    "consult_dose": ("每次用量", "Dose"),
    "consult_route": ("途径", "Route"),
    "consult_frequency": ("频次", "Frequency"),
    "consult_duration": ("天数", "Days"),
    "consult_quantity": ("数量", "Quantity"),
    "consult_times": ("提醒时间", "Reminder times"),
    "consult_override": ("坚持开具的理由(仅在提示过敏或重复时)",
                         "Reason to prescribe anyway (only after an allergy or duplicate warning)"),
    "consult_prescribe": ("开具处方", "Prescribe"),
    "consult_stop": ("停用", "Stop"),
    "consult_rx_active": ("在用", "Active"),
    "consult_rx_stopped": ("已停用", "Stopped"),
    "consult_follow_up": ("随访计划", "Follow-up plan"),
    "consult_due_on": ("随访日期", "Due on"),
    "consult_plan": ("计划", "Plan"),
    "consult_add": ("添加", "Add"),
    "consult_doctor_name": ("医生", "Doctor"),
    "consult_fhir": ("下载 FHIR 档案", "Download FHIR record"),
    "consult_today_doses": ("今日用药", "Today's medicines"),
    "consult_confirm_dose": ("已服用", "Taken"),
    "consult_dose_due": ("待服", "Due"),
    "consult_dose_taken": ("已服", "Taken"),
    "consult_dose_missed": ("漏服", "Missed"),
    "consult_dose_cancelled": ("已取消", "Cancelled"),
    "consult_adherence": ("服药依从性", "Adherence"),
    "consult_dose_now": ("现在服用", "Take it now"),
    "consult_order": ("购药", "Medicines"),
    "consult_order_when": ("送达时间", "Deliver at"),
    "consult_order_submit": ("送药上门", "Order delivery"),
    "consult_order_status_requested": ("已下单", "Ordered"),
    "consult_order_status_assigned": ("已安排配送员", "Courier assigned"),
    "consult_order_status_in_progress": ("配送中", "On the way"),
    "consult_order_status_done": ("已送达", "Delivered"),
    "consult_order_status_cancelled": ("已取消", "Cancelled"),
    "consult_call": ("语音 / 视频通话", "Voice / video call"),
    "consult_call_video": ("视频通话", "Video call"),
    "consult_call_voice": ("语音通话", "Voice call"),
    "consult_call_answer": ("接听", "Answer"),
    "consult_call_hangup": ("挂断", "Hang up"),
    "consult_call_idle": ("未在通话", "Not in a call"),
    "consult_call_ringing": ("正在呼叫…", "Calling…"),
    "consult_call_incoming": ("医生来电", "The doctor is calling"),
    "consult_call_connecting": ("正在接通…", "Connecting…"),
    "consult_call_connected": ("通话中", "In the call"),
    "consult_call_ended": ("通话已结束", "Call ended"),
    "consult_call_elsewhere": ("家里其他人已接听", "Answered by someone else at home"),
    "consult_call_failed": ("无法通话(请检查摄像头和麦克风)",
                            "The call failed (check the camera and microphone)"),
    "consult_calls": ("通话记录", "Calls"),
    "consult_call_rang": ("呼叫时间", "Rang"),
    "consult_call_started": ("接通时间", "Answered"),
    "consult_call_ended_at": ("挂断时间", "Ended"),
    "consult_call_duration": ("时长", "Duration"),
    "consult_call_status_ringing": ("响铃中", "Ringing"),
    "consult_call_status_active": ("通话中", "In progress"),
    "consult_call_status_ended": ("已结束", "Ended"),
    "consult_call_status_missed": ("未接通", "Missed"),
    **{f"consult_route_{r.value}": zh_en for r, zh_en in (
        (Route.ORAL, ("口服", "Oral")), (Route.SUBLINGUAL, ("舌下", "Sublingual")),
        (Route.TOPICAL, ("外用", "Topical")), (Route.INHALED, ("吸入", "Inhaled")),
        (Route.SUBCUTANEOUS, ("皮下注射", "Subcutaneous")),
        (Route.INTRAMUSCULAR, ("肌肉注射", "Intramuscular")),
        (Route.INTRAVENOUS, ("静脉", "Intravenous")), (Route.RECTAL, ("直肠", "Rectal")),
        (Route.EYE, ("滴眼", "Eye")), (Route.NASAL, ("鼻用", "Nasal")),
    )},
    **{f"consult_freq_{f.value}": zh_en for f, zh_en in (
        (Frequency.QD, ("每日一次", "Once a day")), (Frequency.BID, ("每日两次", "Twice a day")),
        (Frequency.TID, ("每日三次", "Three times a day")),
        (Frequency.QID, ("每日四次", "Four times a day")),
        (Frequency.QN, ("每晚一次", "Every night")), (Frequency.PRN, ("必要时", "As needed")),
    )},
}  # fmt: skip


# What call.js may show in #call-state (each a consult_call_<state> label).
CALL_STATES = ("idle", "ringing", "incoming", "connecting", "connected", "ended", "elsewhere",
               "failed")  # fmt: skip


def _invalid(exc: ValidationError) -> InvalidInput:
    """A form's validation errors as the one error type pages show."""
    return form_errors(exc)


@router.get("/consult", response_class=HTMLResponse, response_model=None)
@page
def consult_home(request: Request, uow: UnitDep) -> Response:
    principal = console_principal(request, uow)
    if principal.role == Role.DOCTOR:
        return render(
            request, "consult/queue.html", lines=service.queue(uow=uow, principal=principal)
        )
    elders = service.requester_elders(session=uow.session, principal=principal)
    return render(
        request,
        "consult/mine.html",
        consultations=service.list_consultations(uow=uow, principal=principal),
        elders=elders,
        modes=["text", "voice", "video"],
        large=principal.role == Role.ELDER,
        **_today(uow, principal, elders),
    )


def _today(uow: UnitOfWork, principal: Principal, elders: list[Elder]) -> dict[str, Any]:
    """Today's doses of each elder the requester speaks for (the live part of /consult)."""
    today = [
        (elder, service.doses_on(uow=uow, principal=principal, elder_id=elder.id, day=None))
        for elder in elders
    ]
    return {
        "today": [(elder, doses) for elder, doses in today if doses],
        "drugs": service.drug_names(session=uow.session, doses=[d for _, ds in today for d in ds]),
        "can_confirm": principal.role in (Role.ELDER, Role.BUTLER),
    }


@router.get("/consult/today", response_class=HTMLResponse, response_model=None)
@page
def consult_today(request: Request, uow: UnitDep) -> Response:
    """Today's doses, refetched by live.js when a reminder goes out (consult.dose.reminded)."""
    principal = console_principal(request, uow)
    elders = service.requester_elders(session=uow.session, principal=principal)
    return render(request, "consult/_doses.html", **_today(uow, principal, elders))


@router.get("/consult/queue/rows", response_class=HTMLResponse, response_model=None)
@page
def consult_queue_rows(request: Request, uow: UnitDep) -> Response:
    """The queue's rows, refetched by live.js when a request arrives or triage moves."""
    principal = console_principal(request, uow)
    return render(
        request, "consult/_queue_rows.html", lines=service.queue(uow=uow, principal=principal)
    )


@router.post("/consult", response_model=None)
@page
def consult_ask(
    request: Request,
    uow: UnitDep,
    elder_id: Annotated[str, Form(max_length=64)] = "",
    mode: Annotated[str, Form(max_length=16)] = "text",
    complaint: Annotated[str, Form(max_length=2000)] = "",
    file: Annotated[UploadFile | None, File()] = None,
) -> Response:
    principal = console_principal(request, uow)
    try:
        data = ConsultationCreate.model_validate(
            {"elder_id": elder_id, "mode": mode, "complaint": complaint.strip()}
        )
    except ValidationError as exc:
        raise _invalid(exc) from exc
    consultation = service.request_consultation(uow=uow, principal=principal, data=data)
    if file is not None and file.filename:
        service.add_attachment(uow=uow, principal=principal, consultation_id=consultation.id,
                               filename=file.filename,
                               data=file.file.read(service.MAX_ATTACHMENT + 1))  # fmt: skip
    return RedirectResponse(f"/consult/{consultation.id}", status_code=303)


def _thread(uow: UnitOfWork, request: Request, consultation_id: str) -> dict[str, Any]:
    principal = console_principal(request, uow)
    consultation = service.get_consultation(
        uow=uow, principal=principal, consultation_id=consultation_id
    )
    return {
        "c": consultation,
        "messages": service.messages(uow=uow, principal=principal, consultation_id=consultation.id),
        "calls": calls.calls_of(uow=uow, principal=principal, consultation_id=consultation.id),
        # The order to show beside each prescription (a cancelled one may have a successor).
        "orders": orders.current(
            orders.orders_of(uow=uow, principal=principal, consultation_id=consultation.id)
        ),
        "can_order": principal.role in service.REQUESTERS,
        "attachments": service.attachments_of(session=uow.session, consultation_id=consultation.id),
        "prescriptions": service.prescriptions_of(
            uow=uow, principal=principal, consultation_id=consultation.id
        ),
        "follow_ups": service.follow_ups(
            uow=uow, principal=principal, consultation_id=consultation.id
        ),
        "me": principal,
        "treating": principal.role == Role.DOCTOR
        and consultation.doctor_user_id == principal.user_id
        and consultation.status == ConsultationStatus.ACTIVE,
    }


@router.get("/consult/{consultation_id}", response_class=HTMLResponse, response_model=None)
@page
def consult_page(consultation_id: str, request: Request, uow: UnitDep) -> Response:
    data = _thread(uow, request, consultation_id)
    principal = console_principal(request, uow)
    card = service.elder_card(uow=uow, principal=principal, elder_id=data["c"].elder_id)
    return render(
        request,
        "consult/consultation.html",
        card=card,
        routes=[r.value for r in Route],
        frequencies=[f.value for f in Frequency],
        large=principal.role == Role.ELDER,
        open_call=calls.open_call(data["calls"]),
        call_states=CALL_STATES,
        **data,
    )


@router.get("/consult/{consultation_id}/thread", response_class=HTMLResponse, response_model=None)
@page
def consult_thread(consultation_id: str, request: Request, uow: UnitDep) -> Response:
    return render(request, "consult/_thread.html", **_thread(uow, request, consultation_id))


def _back(consultation_id: str) -> Response:
    return RedirectResponse(f"/consult/{consultation_id}", status_code=303)


@router.post("/consult/{consultation_id}/messages", response_model=None)
@page
def consult_message(
    consultation_id: str,
    request: Request,
    uow: UnitDep,
    body: Annotated[str, Form(max_length=4000)] = "",
) -> Response:
    principal = console_principal(request, uow)
    if not body.strip():
        raise InvalidInput.field("body", "write a message")
    service.post_message(uow=uow, principal=principal, consultation_id=consultation_id,
                         body=body.strip())  # fmt: skip
    return _back(consultation_id)


@router.post("/consult/{consultation_id}/take", response_model=None)
@page
def consult_take(consultation_id: str, request: Request, uow: UnitDep) -> Response:
    principal = console_principal(request, uow)
    service.take(uow=uow, principal=principal, consultation_id=consultation_id)
    return _back(consultation_id)


@router.post("/consult/{consultation_id}/close", response_model=None)
@page
def consult_close(consultation_id: str, request: Request, uow: UnitDep) -> Response:
    principal = console_principal(request, uow)
    service.close(uow=uow, principal=principal, consultation_id=consultation_id)
    return _back(consultation_id)


@router.post("/consult/{consultation_id}/encounter", response_model=None)
@page
def consult_encounter(
    consultation_id: str,
    request: Request,
    uow: UnitDep,
    note: Annotated[str, Form(max_length=8000)] = "",
    interpretation: Annotated[str, Form(max_length=8000)] = "",
    guidance: Annotated[str, Form(max_length=8000)] = "",
) -> Response:
    principal = console_principal(request, uow)
    data = EncounterUpdate(note=note.strip() or None, interpretation=interpretation.strip() or None,
                           guidance=guidance.strip() or None)  # fmt: skip
    service.update_encounter(uow=uow, principal=principal, consultation_id=consultation_id,
                             data=data)  # fmt: skip
    return _back(consultation_id)


@router.post("/consult/{consultation_id}/prescriptions", response_model=None)
@page
def consult_prescribe(
    consultation_id: str,
    request: Request,
    uow: UnitDep,
    drug: Annotated[str, Form(max_length=120)] = "",
    strength: Annotated[str, Form(max_length=40)] = "",
    dose: Annotated[str, Form(max_length=40)] = "",
    route: Annotated[str, Form(max_length=16)] = "oral",
    frequency: Annotated[str, Form(max_length=16)] = "qd",
    duration_days: Annotated[str, Form(max_length=8)] = "",
    quantity: Annotated[str, Form(max_length=8)] = "",
    times: Annotated[str, Form(max_length=60)] = "",
    override_reason: Annotated[str, Form(max_length=500)] = "",
) -> Response:
    principal = console_principal(request, uow)
    raw = {"drug": drug.strip(), "strength": strength.strip(), "dose": dose.strip(),
           "route": route, "frequency": frequency, "duration_days": duration_days.strip(),
           "quantity": quantity.strip(),
           "times": [t for t in times.replace(",", " ").split() if t] or None,
           "override_reason": override_reason.strip() or None}  # fmt: skip
    try:
        data = PrescriptionCreate.model_validate(raw)
    except ValidationError as exc:
        raise _invalid(exc) from exc
    service.prescribe(uow=uow, principal=principal, consultation_id=consultation_id, data=data)
    return _back(consultation_id)


@router.post("/consult/{consultation_id}/prescriptions/{prescription_id}/stop", response_model=None)
@page
def consult_stop(
    consultation_id: str, prescription_id: str, request: Request, uow: UnitDep
) -> Response:
    principal = console_principal(request, uow)
    service.stop_prescription(uow=uow, principal=principal, consultation_id=consultation_id,
                              prescription_id=prescription_id)  # fmt: skip
    return _back(consultation_id)


@router.post("/consult/{consultation_id}/follow-ups", response_model=None)
@page
def consult_follow_up(
    consultation_id: str,
    request: Request,
    uow: UnitDep,
    due_on: Annotated[str, Form(max_length=20)] = "",
    plan: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    principal = console_principal(request, uow)
    try:
        data = FollowUpCreate.model_validate({"due_on": due_on.strip(), "plan": plan.strip()})
    except ValidationError as exc:
        raise _invalid(exc) from exc
    service.add_follow_up(uow=uow, principal=principal, consultation_id=consultation_id, data=data)
    return _back(consultation_id)


@router.post("/consult/doses/{dose_id}/confirm", response_model=None)
@page
def consult_confirm_dose(dose_id: str, request: Request, uow: UnitDep) -> Response:
    principal = console_principal(request, uow)
    service.confirm_dose(uow=uow, principal=principal, dose_id=dose_id)
    return RedirectResponse("/consult", status_code=303)


@router.post(
    "/consult/{consultation_id}/prescriptions/{prescription_id}/order", response_model=None
)
@page
def consult_order(
    consultation_id: str,
    prescription_id: str,
    request: Request,
    uow: UnitDep,
    start: Annotated[str, Form(max_length=20)] = "",
) -> Response:
    """Order a prescription's medicines for delivery at a local (Shanghai) date and time."""
    principal = console_principal(request, uow)
    try:
        when = datetime.fromisoformat(start.strip()).replace(tzinfo=SHANGHAI)
    except ValueError as exc:
        raise InvalidInput.field("start", "a date and time, e.g. 2026-12-01T10:00") from exc
    orders.order_medicines(uow=uow, principal=principal, consultation_id=consultation_id,
                           prescription_id=prescription_id, start=when)  # fmt: skip
    return _back(consultation_id)
