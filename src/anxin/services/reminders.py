"""Which reminders are due: before a visit (to the elder and the worker) and, for the
medication-reminder service, at the time to take the medicine (to the elder).

Pure: the caller passes the open bookings near now. A reminder has a stable identity (booking,
kind, recipient), so the outbox queues each once however often this runs.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from anxin.core.clock import to_local
from anxin.services.catalogue import ScenarioCode, scenario

# The elder hears about a visit two hours ahead: time to be home and to open the door.
AHEAD = timedelta(hours=2)
# A medicine reminder is worth sending for half an hour after its time, not later: a reminder
# an hour late could make someone take a dose twice.
MEDICINE_WINDOW = timedelta(minutes=30)


class Kind(StrEnum):
    VISIT = "visit"  # a worker is coming
    MEDICINE = "medicine"  # time to take the medicine


@dataclass(frozen=True)
class Visit:
    booking_id: str
    scenario: str
    start: datetime
    assigned: bool  # a worker is assigned (only then is there someone to announce)


@dataclass(frozen=True)
class Due:
    booking_id: str
    kind: Kind


def due(visits: Iterable[Visit], now: datetime) -> list[Due]:
    out: list[Due] = []
    for v in visits:
        if v.assigned and now < v.start <= now + AHEAD:
            out.append(Due(v.booking_id, Kind.VISIT))
        medicine = v.scenario == ScenarioCode.MEDICATION_REMINDER
        if medicine and v.start <= now < v.start + MEDICINE_WINDOW:
            out.append(Due(v.booking_id, Kind.MEDICINE))
    return out


def key(booking_id: str, kind: Kind, recipient: str) -> str:
    """The outbox key of one reminder to one recipient (fits the outbox's 80 characters)."""
    digest = hashlib.sha256(f"{booking_id}|{kind.value}|{recipient}".encode()).hexdigest()
    return f"svc-reminder-{digest[:48]}"


def texts(kind: Kind, code: str, start: datetime, worker: str | None) -> tuple[str, str]:
    """Subject and body, in Chinese and English (the outbox has no reader's language)."""
    s = scenario(code)
    local = to_local(start)
    when = local.strftime("%m-%d %H:%M")
    if kind == Kind.MEDICINE:
        return (
            "【安心】服药提醒 Medicine reminder",
            f"{when} 到服药时间了，请按医嘱服药。It is {when}: time to take your medicine.",
        )
    who = f"{worker} " if worker else ""
    return (
        f"【安心】上门提醒 Visit reminder: {s.zh} {s.en}",
        f"{when} {who}上门{s.zh}，请在家等候。{s.en} at {when}"
        + (f" with {worker}" if worker else "")
        + ".",
    )
