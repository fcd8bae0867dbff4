"""The public trace page a consumer reaches by scanning a package: no login, phone-first.

It shows what the farm disclosed of the lot's life (each fact opened from its salted
commitment), the weather station's rainy days and the soil probe's readings over the season,
the cross-validation findings, and the proof: the manifest's leaf, its Merkle path and the
cosigned checkpoint, which the page's script checks in the browser. The server checks the
same and says so, for phones without a modern browser.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from anxin.core.security import PUBLIC_ROUTE
from anxin.ledger.runtime import ledger_keys
from anxin.ledger.verify import Bundle, verify_bundle
from anxin.people.deps import ContextDep, UnitDep
from anxin.trace import crosscheck, disclosure, labels, limits, vocab
from anxin.trace.models import Farm, Lot, Plot, Product, Unit
from anxin.ui.console import page, render

router = APIRouter(include_in_schema=False)

LABELS: dict[str, tuple[str, str]] = {
    "trace_title": ("产品溯源", "Product trace"),
    "trace_lot": ("批次", "Lot"),
    "trace_serial": ("序列号", "Serial"),
    "trace_farm": ("农场", "Farm"),
    "trace_code_valid": (
        "防伪码验证通过：品牌签名有效",
        "Genuine code: the brand's signature is valid",
    ),
    "trace_code_invalid": (
        "防伪码签名无效，请谨慎",
        "The code's signature is not valid: be careful",
    ),
    "trace_code_unsigned": ("此码没有品牌签名", "This code carries no brand signature"),
    "trace_unknown_unit": ("查无此包装", "No such package"),
    "trace_timeline": ("生长与加工记录", "From field to bag"),
    "trace_nothing_public": ("农场尚未公开记录", "The farm has not published its records yet"),
    "trace_hidden": ("未公开", "not disclosed"),
    "trace_season": ("种植季", "The season"),
    "trace_rainy_days": ("气象站记录的雨天", "Rainy days at the weather station"),
    "trace_rain_total": ("累计降雨（毫米）", "Total rainfall (mm)"),
    "trace_soil_ph": ("土壤 pH（平均）", "Soil pH (mean)"),
    "trace_soil_moisture": ("土壤含水率 %（平均）", "Soil moisture % (mean)"),
    "trace_no_sensor": ("无传感器数据", "No sensor data"),
    "trace_checks": ("交叉校验", "Cross-validation"),
    "trace_no_checks": ("尚未校验", "Not checked yet"),
    "trace_outcome_pass": ("通过", "pass"),
    "trace_outcome_warn": ("待核实", "unconfirmed"),
    "trace_outcome_fail": ("不符", "contradicted"),
    "trace_check_rainy_day": ("雨天记录与气象站", "Rainy day vs weather station"),
    "trace_check_fertiliser_response": ("施肥与土壤电导率", "Fertiliser vs soil conductivity"),
    "trace_check_undeclared_input": ("未申报的投入品", "Undeclared input"),
    "trace_check_organic": ("有机投入品", "Organic input"),
    "trace_check_harvest_yield": ("产量与地块面积", "Harvest vs plot area"),
    "trace_check_packing": ("包装量与收获量", "Packing vs harvest"),
    "trace_proof": ("区块链存证", "Ledger proof"),
    "trace_proof_checking": ("正在浏览器中验证…", "Checking in your browser…"),
    "trace_proof_ok": (
        "已验证：记录在共识账本中，未被篡改",
        "Verified: recorded in the ledger, unchanged",
    ),
    "trace_proof_bad": ("验证失败", "Verification failed"),
    "trace_proof_pending": ("等待下一个账本检查点", "Waiting for the next ledger checkpoint"),
    "trace_server_says": ("服务器验证", "Server check"),
    "trace_checkpoint": ("检查点", "Checkpoint"),
    "trace_report": ("举报可疑包装", "Report a suspicious bag"),
    "trace_report_what": ("哪里可疑？", "What looks wrong?"),
    "trace_report_send": ("提交", "Send"),
    "trace_report_sent": ("已受理，案件号", "Received, case"),
    "trace_plot_map": ("地块", "The plot"),
    "trace_step_transplanting": ("插秧", "Transplanting"),
    "trace_step_fertilising": ("施肥", "Fertilising"),
    "trace_step_irrigating": ("灌溉", "Irrigating"),
    "trace_step_spraying": ("植保", "Spraying"),
    "trace_step_harvesting": ("收割", "Harvesting"),
    "trace_step_milling": ("碾米", "Milling"),
    "trace_step_packing": ("包装", "Packing"),
    "trace_step_other": ("其他", "Other"),
    "trace_field_time": ("时间", "Time"),
    "trace_field_place": ("地点", "Place"),
    "trace_field_quantity": ("数量", "Quantity"),
    "trace_field_input": ("投入品", "Input"),
    "trace_field_organic": ("有机", "Organic"),
    "trace_field_variety": ("品种", "Variety"),
    "trace_field_certification": ("认证", "Certification"),
    "trace_field_weather": ("天气", "Weather"),
    "trace_yes": ("是", "yes"),
    "trace_no": ("否", "no"),
}
STEPS = vocab.FARM_STEPS


def _map(boundary: dict[str, Any]) -> str | None:
    """The plot's ring as an SVG path in a 100 x 100 box (equirectangular is fine at this size)."""
    ring = boundary.get("coordinates", [[]])[0]
    if len(ring) < 3:
        return None
    xs, ys = [p[0] for p in ring], [p[1] for p in ring]
    span = max(max(xs) - min(xs), max(ys) - min(ys)) or 1.0
    pts = [
        f"{5 + 90 * (x - min(xs)) / span:.1f},{95 - 90 * (y - min(ys)) / span:.1f}" for x, y in ring
    ]
    return "M" + " L".join(pts) + " Z"


def _season(session: Session, lot: Lot, opened: list[disclosure.Opened]) -> dict[str, Any]:
    """Rainy days and soil readings between the first and the last disclosed event."""
    events = [o for o in opened if o.value("time")]
    out: dict[str, Any] = {"rainy_days": None, "rain_total": None, "ph": None, "moisture": None}
    if not events:
        return out
    times = sorted(
        datetime.fromisoformat(str(o.value("time")).replace("Z", "+00:00")) for o in events
    )
    start, end = times[0], times[-1] + timedelta(days=1)
    rain: dict[str, float] = {}
    tz = start.tzinfo
    for ts, mm in crosscheck.farm_series(
        session, lot.farm_id, "weather_station", "rainfall_mm", start, end
    ):
        day = ts.astimezone(tz).date().isoformat()
        rain[day] = rain.get(day, 0.0) + mm
    ph = [
        v for _, v in crosscheck.farm_series(session, lot.farm_id, "soil_probe", "ph", start, end)
    ]
    moisture = [
        v
        for _, v in crosscheck.farm_series(
            session, lot.farm_id, "soil_probe", "moisture_pct", start, end
        )
    ]
    if rain:
        out["rainy_days"] = sum(1 for v in rain.values() if v >= crosscheck.RAIN_DAY_MM)
        out["rain_total"] = round(sum(rain.values()), 1)
    if ph:
        out["ph"] = round(sum(ph) / len(ph), 2)
    if moisture:
        out["moisture"] = round(sum(moisture) / len(moisture), 1)
    return out


@router.get(
    "/01/{gtin}/10/{lot}/21/{serial}",
    response_class=HTMLResponse,
    response_model=None,
    openapi_extra=PUBLIC_ROUTE,
)
@page
def trace_page(
    request: Request,
    gtin: str,
    lot: str,
    serial: str,
    uow: UnitDep,
    context: ContextDep,
    s: Annotated[str | None, Query(max_length=200)] = None,
) -> Response:
    limits.check(request, context)  # inside @page: a 429 is a page, with Retry-After
    session = uow.session
    product = session.scalar(select(Product).where(Product.gtin == gtin))
    row = (
        session.scalar(select(Lot).where(Lot.product_id == product.id, Lot.code == lot))
        if product
        else None
    )
    unit = (
        session.scalar(select(Unit).where(Unit.lot_id == row.id, Unit.serial == serial))
        if row
        else None
    )
    if product is None or row is None or unit is None:
        return render(request, "trace/public.html", status_code=404, found=False, serial=serial)
    code = "unsigned"
    if s:
        secret = context.settings.secret_key.get_secret_value()
        key = labels.brand_key(secret, product.organisation_id)
        try:
            parsed = labels.parse(str(request.url))
            code = "valid" if labels.verify(key.public_raw, parsed) else "invalid"
        except labels.LabelError:
            code = "invalid"
    farm = session.get(Farm, row.farm_id)
    plot = session.get(Plot, row.plot_id) if row.plot_id else None
    shown = disclosure.latest(session, row.id)
    opened = disclosure.openings(session, shown) if shown else []
    proof = disclosure.proof_for(session, shown.ledger_seq) if shown else None
    server_check = None
    if proof is not None:
        verdict = verify_bundle(Bundle.from_json(proof[0]), ledger_keys(context).policy)
        problems = disclosure.check_openings(shown.manifest, opened) if shown else []
        server_check = verdict.ok and not problems
    evidence = None
    if shown is not None and proof is not None:
        evidence = {
            "manifest": shown.manifest,
            "digest": shown.digest,
            "openings": [{"ref": o.ref, "fields": o.opened} for o in opened],
            "bundle": proof[0],
        }
    return render(
        request,
        "trace/public.html",
        found=True,
        product=product,
        lot=row,
        serial=serial,
        farm=farm,
        code=code,
        opened=opened,
        public=shown.public_fields if shown else [],
        steps=STEPS,
        season=_season(session, row, opened),
        checks=crosscheck.checks_of(session, row.id),
        plot_path=_map(plot.boundary)
        if plot and shown and "place" in shown.public_fields
        else None,
        # "<" escaped so no value can close the script element it is embedded in
        evidence=json.dumps(evidence, ensure_ascii=False).replace("<", "\\u003c")
        if evidence
        else None,
        checkpoint=proof[1] if proof else None,
        server_check=server_check,
        published=shown is not None,
    )
