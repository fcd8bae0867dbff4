"""A leased machine's telemetry becomes the lessor's alarms and the contract's machine status.

`iot` publishes ``iot.telemetry.machine_tracker`` (readings) and ``iot.rule.device_offline``
(the tracker fell silent) inside the ingesting or sweeping transaction; these handlers run in
the same unit of work, so a reading and the alarm it raises commit together. A fix outside
the contracted site raises ``machine_off_site`` to the lessor (cleared when the machine is
back); a silent tracker raises ``machine_silent``; a machine idle for the contract's
``idle_days`` while a rent is overdue raises ``idle_in_arrears``. Arrears themselves are
reminded by `sweep` (``rent_overdue``, once per overdue rent), run by the arrears worker.
"""

from __future__ import annotations

import logging
from datetime import date, datetime
from typing import Any

from sqlalchemy import select

from anxin.alerts.service import (
    AlarmRequest,
    BatchedRaiser,
    RaiseBatch,
    Recipient,
    Severity,
    clear_alarm,
    raise_request,
)
from anxin.core.clock import to_local
from anxin.core.events import Event
from anxin.core.security import Role
from anxin.core.unit import Slot, UnitOfWork
from anxin.leasing import service, watch
from anxin.leasing.arrears import Position
from anxin.leasing.lifecycle import Stage
from anxin.leasing.models import LeaseAsset, LeaseContract
from anxin.people import service as people

log = logging.getLogger(__name__)

TELEMETRY = "iot.telemetry.machine_tracker"
OWNER_KIND = "lease"
ASSET_KIND = "lease_asset"
SOURCE_ASSET = "lease_asset"
SOURCE_RENT = "lease_rent"  # source id "<contract id>:<rent number>"

# alarm type -> (severity, title)
KINDS: dict[str, tuple[Severity, str]] = {
    "machine_off_site": (Severity.CRITICAL, "租赁设备离开约定地点 Leased machine off site"),
    "machine_silent": (Severity.MAJOR, "租赁设备监测终端离线 Leased machine's tracker silent"),
    "idle_in_arrears": (Severity.MAJOR, "设备停用且租金逾期 Machine idle while rent overdue"),
    "rent_overdue": (Severity.WARNING, "租金逾期提醒 Rent overdue"),
}


# The lessor's staff by organisation, for one unit of work (a sweep may raise many alarms).
_STAFF: Slot[dict[str, tuple[Recipient, ...]]] = Slot("leasing.lessor_staff", dict)


def _recipients(uow: UnitOfWork, contract: LeaseContract) -> tuple[Recipient, ...]:
    staff = uow.get(_STAFF)
    if contract.organisation_id not in staff:
        users = people.active_users_with_roles(
            session=uow.session, organisation_id=contract.organisation_id, roles=(Role.LESSOR,)
        )
        # "operator" is a role of the default escalation policy: the lessor's staff at once
        staff[contract.organisation_id] = tuple(
            Recipient("operator", u.display_name, u.id, u.phone) for u in users
        )
    return staff[contract.organisation_id]


def _request(
    uow: UnitOfWork,
    contract: LeaseContract,
    alarm_type: str,
    source: tuple[str, str],
    details: dict[str, Any],
) -> AlarmRequest:
    severity, title = KINDS[alarm_type]
    return AlarmRequest(
        organisation_id=contract.organisation_id,
        owner_kind=OWNER_KIND,
        owner_id=contract.id,
        source_kind=source[0],
        source_id=source[1],
        alarm_type=alarm_type,
        severity=severity,
        title=f"{title} · {contract.reference}",
        details={**details, "contract_id": contract.id, "reference": contract.reference},
        policy="default",
        recipients=_recipients(uow, contract),
    )


def _raise(
    uow: UnitOfWork,
    contract: LeaseContract,
    alarm_type: str,
    source: tuple[str, str],
    details: dict[str, Any],
    now: datetime,
) -> None:
    request = _request(uow, contract, alarm_type, source, details)
    raise_request(uow=uow, request=request, now=now)


def _overdue(uow: UnitOfWork, contract: LeaseContract, today: date) -> bool:
    """A rent past its due date and not paid in full."""
    state = service.position(session=uow.session, contract=contract, as_of=today)
    return state.first_overdue is not None


def on_machine_telemetry(uow: UnitOfWork, event: Event) -> None:
    payload = event.payload
    if payload.get("owner_kind") != ASSET_KIND:
        return
    session = uow.session
    asset = session.get(LeaseAsset, str(payload["owner_id"]))
    if asset is None:
        log.warning("machine telemetry for unknown lease asset %s", payload["owner_id"])
        return
    contract = session.get(LeaseContract, asset.contract_id)
    assert contract is not None
    if payload.get("organisation_id") != contract.organisation_id:
        # a device of another organisation naming this asset: never let it move our alarms
        log.warning("machine telemetry for asset %s from another organisation", asset.id)
        return
    for reading in payload.get("readings") or []:
        _apply(asset, datetime.fromisoformat(reading["ts"]), dict(reading.get("values") or {}))
    now = max(uow.now(), asset.last_seen_at or uow.now())
    _check_site(uow, contract, asset, now)
    _check_idle(uow, contract, asset, now)
    session.flush()


def _apply(asset: LeaseAsset, ts: datetime, values: dict[str, Any]) -> None:
    if asset.last_seen_at is not None and ts < asset.last_seen_at:
        return  # a late reading changes nothing of the machine's present state
    if watch.is_running(values, asset.running_hours):
        asset.last_running_at = ts
    hours = values.get("running_hours")
    if isinstance(hours, int | float):
        if asset.first_hours is None:
            asset.first_hours, asset.first_seen_at = float(hours), ts
        asset.running_hours = max(float(hours), asset.running_hours or 0.0)
    if isinstance(values.get("power_kw"), int | float):
        asset.power_kw = float(values["power_kw"])
    if isinstance(values.get("lat"), int | float) and isinstance(values.get("lon"), int | float):
        asset.last_lat, asset.last_lon = float(values["lat"]), float(values["lon"])
    asset.last_seen_at = ts


def _check_site(uow: UnitOfWork, contract: LeaseContract, asset: LeaseAsset, now: datetime) -> None:
    if contract.site_lat is None or contract.site_lon is None or asset.last_lat is None:
        return
    assert asset.last_lon is not None
    site = watch.Site(contract.site_lat, contract.site_lon, contract.site_radius_m)
    away = round(watch.distance_m(site.lat, site.lon, asset.last_lat, asset.last_lon))
    if not site.contains(asset.last_lat, asset.last_lon):
        asset.off_site = True
        _raise(
            uow,
            contract,
            "machine_off_site",
            (SOURCE_ASSET, asset.id),
            {
                "asset_id": asset.id,
                "serial": asset.serial,
                "distance_m": away,
                "lat": asset.last_lat,
                "lon": asset.last_lon,
            },
            now,
        )
    elif asset.off_site:
        asset.off_site = False
        clear_alarm(
            uow=uow,
            source_kind=SOURCE_ASSET,
            source_id=asset.id,
            alarm_type="machine_off_site",
            now=now,
            reason=f"back on site ({away} m from its centre)",
        )


def _check_idle(uow: UnitOfWork, contract: LeaseContract, asset: LeaseAsset, now: datetime) -> None:
    if contract.stage is not Stage.ACTIVE:
        return
    overdue = _overdue(uow, contract, to_local(now).date())
    since = contract.accepted_at or asset.first_seen_at or now
    if watch.idle_in_arrears(asset.last_running_at, since, now, contract.idle_days, overdue):
        _raise(
            uow,
            contract,
            "idle_in_arrears",
            (SOURCE_ASSET, asset.id),
            {
                "asset_id": asset.id,
                "serial": asset.serial,
                "idle_days": contract.idle_days,
                "last_running_at": asset.last_running_at.isoformat()
                if asset.last_running_at
                else None,
            },
            now,
        )


def _act_on_rule(uow: UnitOfWork, event: Event, batch: RaiseBatch) -> None:
    """A machine tracker's rule fired: silence becomes ``machine_silent`` to the lessor."""
    payload = event.payload
    owner = payload.get("owner") or {}
    if owner.get("kind") != ASSET_KIND or payload.get("alarm_type") != "device_offline":
        return
    asset = uow.session.get(LeaseAsset, str(owner.get("id")))
    if asset is None:
        return
    contract = uow.session.get(LeaseContract, asset.contract_id)
    assert contract is not None
    now = max(batch.now, datetime.fromisoformat(payload["fired_at"]))
    raises = batch.raises
    if payload.get("action") == "clear":
        raises.flush()  # a raise earlier in the batch must be there to clear
        clear_alarm(
            uow=uow,
            source_kind=SOURCE_ASSET,
            source_id=asset.id,
            alarm_type="machine_silent",
            now=now,
            reason="the tracker reports again",
        )
        return
    request = _request(
        uow, contract, "machine_silent", (SOURCE_ASSET, asset.id),
        {"asset_id": asset.id, "serial": asset.serial, "device_id": payload["device"]["id"]},
    )  # fmt: skip
    raises.add(request, now)


# ``iot.rule.device_offline``: `prepare` is the bus preparer (a sweep's silent trackers, their
# alarms raised together), `handle` the handler of one rule event.
RULE_EVENTS = BatchedRaiser("leasing.rule_events", _act_on_rule)


def _remind_rents(uow: UnitOfWork, contract: LeaseContract, state: Position, now: datetime) -> None:
    """One ``rent_overdue`` reminder per overdue rent, the first time the sweep finds it late
    (never again, acknowledged or not); cleared when the rent is paid in full."""
    for row in state.rows:
        number = row.rent.number
        if row.settled or row.rent.due >= state.as_of or number <= contract.reminded_through:
            continue
        _raise(
            uow, contract, "rent_overdue", (SOURCE_RENT, f"{contract.id}:{number}"),
            {"rent_number": number, "due": row.rent.due.isoformat(), "unpaid": str(row.unpaid),
             "as_of": state.as_of.isoformat()},
            now,
        )  # fmt: skip
        contract.reminded_through = number
    for row in state.rows[: contract.reminded_through]:
        if row.settled:  # an indexed lookup of the rent's open reminder, if any
            clear_alarm(
                uow=uow, source_kind=SOURCE_RENT, source_id=f"{contract.id}:{row.rent.number}",
                alarm_type="rent_overdue", now=now, reason=f"rent {row.rent.number} paid",
            )  # fmt: skip


def sweep(uow: UnitOfWork) -> int:
    """Remind the lessor once of each overdue rent (cleared when it is paid), and flag machines
    idle while in arrears; returns the number of leases in arrears. Run by the arrears worker
    (`leasing.worker`) and by `anxin leasing sweep`."""
    now = uow.now()
    today = to_local(now).date()
    session = uow.session
    late = 0
    for contract in session.scalars(
        select(LeaseContract).where(LeaseContract.stage == Stage.ACTIVE)
    ):
        state = service.position(session=session, contract=contract, as_of=today)
        _remind_rents(uow, contract, state, now)
        if state.first_overdue is None:
            continue
        late += 1
        for asset in service.assets_of(session=session, contract_id=contract.id):
            if asset.device_id is not None:
                _check_idle(uow, contract, asset, now)
    session.flush()
    return late
