"""An elder's record as a FHIR R4 Bundle (issue 19), built and validated with `fhir.resources`.

`fhir.resources` 8 ships R5 at the top level and R4B under `fhir.resources.R4B`; R4B is the
R4 technical correction (same Patient, Encounter, Observation, Condition, AllergyIntolerance,
MedicationRequest, Communication, Practitioner and Bundle elements used here), so a bundle
valid here is a valid R4 exchange. Entries refer to each other by ``urn:uuid:`` full URLs, so
the bundle stands alone (type "collection").
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from fhir.resources.R4B.bundle import Bundle

if TYPE_CHECKING:
    from anxin.consult.models import Allergy, Consultation, Message, Prescription
    from anxin.homecare.models import Elder

LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"
# key on the sleep mat -> (LOINC code, display)
VITALS = {
    "heart_rate": ("8867-4", "Heart rate"),
    "respiration_rate": ("9279-1", "Respiratory rate"),
}
SEX = {"F": "female", "M": "male"}
ENCOUNTER_STATUS = {"waiting": "planned", "active": "in-progress", "closed": "finished"}
# The v3 ActCode of a consultation held remotely.
VIRTUAL = {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "VR",
           "display": "virtual"}  # fmt: skip
TIMES_PER_DAY = {"qd": 1, "bid": 2, "tid": 3, "qid": 4, "qn": 1}


@dataclass(frozen=True)
class Doctor:
    id: str
    name: str


@dataclass(frozen=True)
class Record:
    elder: Elder
    doctors: Sequence[Doctor]
    consultations: Sequence[Consultation]
    allergies: Sequence[Allergy]
    prescriptions: Sequence[Prescription]
    messages: Sequence[Message]
    vitals: Sequence[dict[str, Any]]  # {"key", "value", "ts"} from the sleep mat


def _ref(resource_id: str) -> dict[str, str]:
    return {"reference": f"urn:uuid:{resource_id}"}


def _instant(moment: datetime) -> str:
    return moment.isoformat()


def _patient(elder: Elder) -> dict[str, Any]:
    out: dict[str, Any] = {
        "resourceType": "Patient",
        "id": elder.id,
        "name": [{"text": elder.full_name}],
        "gender": SEX.get(elder.sex, "unknown"),
        "birthDate": elder.birth_date.isoformat(),
    }
    if elder.phone:
        out["telecom"] = [{"system": "phone", "value": elder.phone}]
    return out


def _encounter(c: Consultation, patient: str) -> dict[str, Any]:
    period: dict[str, str] = {"start": _instant(c.taken_at or c.created_at)}
    if c.closed_at:
        period["end"] = _instant(c.closed_at)
    out: dict[str, Any] = {
        "resourceType": "Encounter",
        "id": c.id,
        "status": ENCOUNTER_STATUS[c.status.value],
        "class": VIRTUAL,
        "subject": _ref(patient),
        "period": period,
        "reasonCode": [{"text": c.complaint}],
    }
    if c.doctor_user_id:
        out["participant"] = [{"individual": _ref(c.doctor_user_id)}]
    return out


def _observation(v: dict[str, Any], patient: str, index: int) -> dict[str, Any] | None:
    if v["key"] not in VITALS or not isinstance(v["value"], int | float):
        return None
    code, display = VITALS[v["key"]]
    return {
        "resourceType": "Observation",
        "id": derived_id(patient, v["key"], str(index)),
        "status": "final",
        "category": [{"coding": [{
            "system": "http://terminology.hl7.org/CodeSystem/observation-category",
            "code": "vital-signs"}]}],
        "code": {"coding": [{"system": LOINC, "code": code, "display": display}],
                 "text": display},
        "subject": _ref(patient),
        "effectiveDateTime": _instant(v["ts"]),
        "valueQuantity": {"value": float(v["value"]), "unit": "/min", "system": UCUM,
                          "code": "/min"},
        "device": {"display": "sleep mat"},
    }  # fmt: skip


def _medication_request(p: Prescription, patient: str) -> dict[str, Any]:
    repeat: dict[str, Any] = {"boundsPeriod": {"start": p.starts_on.isoformat(),
                                               "end": p.ends_on.isoformat()}}  # fmt: skip
    if p.frequency in TIMES_PER_DAY:
        repeat.update(frequency=TIMES_PER_DAY[p.frequency], period=1, periodUnit="d")
    if p.times:
        repeat["timeOfDay"] = [f"{t}:00" for t in p.times]
    return {
        "resourceType": "MedicationRequest",
        "id": p.id,
        "status": "active" if p.status.value == "active" else "stopped",
        "intent": "order",
        "medicationCodeableConcept": {"text": f"{p.drug} {p.strength}"},
        "subject": _ref(patient),
        "encounter": _ref(p.consultation_id),
        "authoredOn": _instant(p.created_at),
        "requester": _ref(p.doctor_user_id),
        "dosageInstruction": [{
            "text": f"{p.dose} {p.route} {p.frequency}",
            "asNeededBoolean": p.frequency == "prn",
            "route": {"text": p.route},
            "timing": {"repeat": repeat},
        }],
        "dispenseRequest": {
            "quantity": {"value": p.quantity},
            "expectedSupplyDuration": {"value": p.duration_days, "unit": "days", "system": UCUM,
                                       "code": "d"},
        },
    }  # fmt: skip


def _sender(m: Message, doctors: set[str], elder: Elder) -> dict[str, str]:
    """A doctor is their Practitioner, the elder their Patient; family and butlers, who are
    not exported as resources, by name."""
    if m.author_user_id in doctors:
        return _ref(m.author_user_id)
    if m.author_user_id == elder.user_id:
        return _ref(elder.id)
    return {"display": m.author_name}


def derived_id(*parts: str) -> str:
    """A stable UUID for a resource with no row of its own (a condition, a reading), so the
    bundle's urn:uuid references are real UUIDs and a re-export names it the same."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, "anxin:" + "/".join(parts)))


def bundle(record: Record, *, generated_at: datetime) -> Bundle:
    """The record as a validated Bundle; `fhir.resources` raises if any resource is invalid."""
    elder = record.elder
    patient = elder.id
    resources: list[dict[str, Any]] = [_patient(elder)]
    resources += [{"resourceType": "Practitioner", "id": d.id, "name": [{"text": d.name}]}
                  for d in record.doctors]  # fmt: skip
    resources += [
        {"resourceType": "Condition", "id": derived_id(patient, "condition", str(i)),
         "clinicalStatus": {"coding": [{
             "system": "http://terminology.hl7.org/CodeSystem/condition-clinical",
             "code": "active"}]},
         "code": {"text": text}, "subject": _ref(patient)}
        for i, text in enumerate(elder.conditions)
    ]  # fmt: skip
    resources += [
        {"resourceType": "AllergyIntolerance", "id": a.id, "patient": _ref(patient),
         "code": {"text": a.substance}, "recordedDate": _instant(a.created_at),
         **({"reaction": [{"manifestation": [{"text": a.reaction}]}]} if a.reaction else {})}
        for a in record.allergies
    ]  # fmt: skip
    resources += [_encounter(c, patient) for c in record.consultations]
    resources += [
        o for i, v in enumerate(record.vitals) if (o := _observation(v, patient, i)) is not None
    ]
    resources += [_medication_request(p, patient) for p in record.prescriptions]
    doctors = {d.id for d in record.doctors}
    resources += [
        {"resourceType": "Communication", "id": m.id, "status": "completed",
         "subject": _ref(patient), "encounter": _ref(m.consultation_id),
         "sent": _instant(m.created_at), "sender": _sender(m, doctors, elder),
         "payload": [{"contentString": m.body}]}
        for m in record.messages
    ]  # fmt: skip
    return Bundle.model_validate(
        {
            "resourceType": "Bundle",
            "id": derived_id(patient, "bundle"),
            "type": "collection",
            "timestamp": _instant(generated_at),
            "entry": [{"fullUrl": f"urn:uuid:{r['id']}", "resource": r} for r in resources],
        }
    )
