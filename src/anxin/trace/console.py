"""Console pages of the trace domain, one per side of the chain.

- ``/trace/farm``: the farmer's own farm — plots, lots with their cross-validation counts, the
  events as captured (with ledger numbers), and a season chart of the farm's rain and soil
  moisture with each farm step marked on it;
- ``/trace/capture``: the farmer's phone form, one farm step → one EPCIS ObjectEvent through the
  same capture service as ``POST /epcis/events`` (validated, hashed, anchored alike);
- ``/trace/brand``: the brand's products, lots and serials issued and printed, consumer scans on
  a map and in a table, and the counterfeit alarms;
- ``/trace/insurance``: the insurer's policies and claims, each with its evidence bundle (the
  ledger numbers and anchor salts of the lot's events, the scan anomalies or failed checks),
  decided and settled from the page.

Every word through ``LABELS`` (zh/en); the charts are ECharts options drawn by ``charts.js``.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import func, select

from anxin.alerts.service import list_alarms
from anxin.core.errors import InvalidInput, NotFound
from anxin.core.security import Principal, Role
from anxin.people.deps import UnitDep
from anxin.trace import catalogue, crosscheck, disclosure, insurance, service, vocab
from anxin.trace.models import Claim, Farm, Lot, Plot, Policy, Product, Scan, TraceEvent, Unit
from anxin.ui import charts
from anxin.ui.console import console_of, console_principal, language, page, render

router = APIRouter(include_in_schema=False)

FARM_PAGE = "/trace/farm"
CAPTURE_PAGE = "/trace/capture"
BRAND_PAGE = "/trace/brand"
INSURER_PAGE = "/trace/insurance"
FARMERS = frozenset({Role.FARMER})
BRAND = frozenset({Role.ADMIN})
INSURERS = frozenset({Role.CLAIMS_HANDLER, Role.ADMIN})
# The steps a farmer records from the field; milling and packing happen at the mill.
FIELD_STEPS = ("transplanting", "fertilising", "irrigating", "spraying", "harvesting")
WITH_INPUT = frozenset({"fertilising", "spraying"})  # these must name the product applied
CROPS = {"rice": ("水稻", "rice"), "olive": ("油橄榄", "olive"), "goat": ("山羊", "goats")}
SCAN_FINDINGS = (
    "unknown_serial",
    "never_printed",
    "consumed",
    "impossible_travel",
    "outside_sales_region",
)

LABELS: dict[str, tuple[str, str]] = {
    "trace_nav_farm": ("我的农场", "My farm"),
    "trace_nav_capture": ("记录农事", "Record a farm step"),
    "trace_nav_brand": ("品牌溯源", "Brand traceability"),
    "trace_nav_insurance": ("溯源保险", "Traceability insurance"),
    "trace_plots": ("地块", "Plots"),
    "trace_plot": ("地块", "Plot"),
    "trace_crop": ("作物", "Crop"),
    "trace_area_mu": ("面积（亩）", "Area (mu)"),
    "trace_lots": ("批次", "Lots"),
    "trace_product": ("产品", "Product"),
    "trace_events": ("农事记录", "Farm records"),
    "trace_no_events": ("尚无记录", "Nothing recorded yet"),
    "trace_no_farm": ("没有可查看的农场", "No farm to show"),
    "trace_step": ("农事", "Step"),
    "trace_ledger_seq": ("账本序号", "Ledger entry"),
    "trace_not_anchored": ("待存证", "not anchored yet"),
    "trace_season_chart": (
        "降雨与土壤含水率（农事标在图上）",
        "Rain and soil moisture, with the farm steps",
    ),
    "trace_rain_mm": ("降雨（毫米）", "Rain (mm)"),
    "trace_moisture_pct": ("土壤含水率 %", "Soil moisture %"),
    "trace_checks_count": ("交叉校验", "Cross-validation"),
    "trace_public_page": ("公开溯源页", "Public page"),
    "trace_gtin": ("商品条码 GTIN", "GTIN"),
    "trace_name": ("名称", "Name"),
    "trace_issued": ("已发放序列号", "Serials issued"),
    "trace_printed": ("已打印", "Printed"),
    "trace_scans": ("扫码", "Scans"),
    "trace_suspect_scans": ("可疑扫码", "Suspect scans"),
    "trace_scan_map": ("扫码位置（经纬度约 0.1°）", "Where codes were scanned (to ~0.1°)"),
    "trace_scanned_at": ("扫码时间", "Scanned"),
    "trace_place": ("位置", "Place"),
    "trace_verdict": ("结论", "Verdict"),
    "trace_verdict_genuine": ("正品", "genuine"),
    "trace_verdict_suspect": ("可疑", "suspect"),
    "trace_verdict_unknown": ("非本品牌", "not ours"),
    "trace_findings": ("发现", "Findings"),
    "trace_alarms": ("防伪告警", "Counterfeit alarms"),
    "trace_no_alarms": ("暂无告警", "No alarms"),
    "trace_raised": ("告警时间", "Raised"),
    "trace_alarm_kind": ("类型", "Kind"),
    "trace_times": ("次数", "Times"),
    "trace_state": ("状态", "State"),
    "trace_state_open": ("未解除", "open"),
    "trace_state_closed": ("已处理", "closed"),
    "trace_none": ("无", "none"),
    "trace_longitude": ("经度", "Longitude"),
    "trace_latitude": ("纬度", "Latitude"),
    **{
        f"trace_finding_{code}": pair
        for code, pair in {
            "unknown_serial": ("未发放的序列号", "serial never issued"),
            "never_printed": ("标签未打印", "label never printed"),
            "consumed": ("已消费后再次扫码", "scanned after consumption"),
            "impossible_travel": ("异地扫码（不可能的行程）", "impossible travel"),
            "outside_sales_region": ("销售区域外", "outside the sales region"),
        }.items()
    },
    "trace_policies": ("保单", "Policies"),
    "trace_cover": ("保障", "Cover"),
    "trace_cover_food_safety": ("食品安全", "food safety"),
    "trace_cover_authenticity": ("防伪（真品）", "authenticity"),
    "trace_scope": ("保障范围", "Covers"),
    "trace_all_lots": ("该产品全部批次", "every lot of the product"),
    "trace_units": ("包装数", "Units"),
    "trace_sum_insured": ("保额（元）", "Sum insured (yuan)"),
    "trace_premium": ("保费（元）", "Premium (yuan)"),
    "trace_period": ("保险期间", "Period"),
    "trace_claims": ("理赔案件", "Claims"),
    "trace_no_claims": ("暂无案件", "No claims"),
    "trace_opened": ("立案时间", "Opened"),
    "trace_status": ("状态", "Status"),
    "trace_status_open": ("待决定", "open"),
    "trace_status_approved": ("已核准", "approved"),
    "trace_status_rejected": ("已拒赔", "rejected"),
    "trace_status_settled": ("已结案赔付", "settled"),
    "trace_amount": ("赔付金额（元）", "Amount (yuan)"),
    "trace_description": ("报案描述", "Description"),
    "trace_evidence": ("证据包", "Evidence bundle"),
    "trace_evidence_preview": ("证据包（决定时将引用）", "Evidence bundle (cited when decided)"),
    "trace_evidence_kind": ("证据", "Evidence"),
    "trace_evidence_ref": ("引用", "Reference"),
    "trace_anchor_salt": ("存证盐值", "Anchor salt"),
    "trace_kind_epcis_event": ("EPCIS 事件", "EPCIS event"),
    "trace_kind_scan_anomaly": ("扫码异常", "Scan anomaly"),
    "trace_kind_check_fail": ("校验不符", "Failed check"),
    "trace_decision": ("决定（规则集）", "Decision (rule set)"),
    "trace_decision_entry": ("决定的账本序号", "Decision's ledger entry"),
    "trace_decide": ("按规则决定", "Decide by the rules"),
    "trace_settle": ("结案赔付", "Settle"),
    "trace_claims_chart": ("案件状态", "Claims by status"),
    # the capture form
    **{f"trace_crop_{crop}": pair for crop, pair in CROPS.items()},
    "trace_capture_title": ("记录农事", "Record a farm step"),
    "trace_capture_when": ("日期时间", "When"),
    "trace_capture_product": ("投入品名称", "Product applied"),
    "trace_capture_organic": ("有机投入品", "Organic input"),
    "trace_capture_input_kg": ("用量（公斤）", "Amount (kg)"),
    "trace_capture_lot": ("批次（收割时必选）", "Lot (needed for a harvest)"),
    "trace_capture_harvest_kg": ("收获量（公斤）", "Harvested (kg)"),
    "trace_capture_rain": ("今天下雨", "It rained today"),
    "trace_capture_variety": ("品种（插秧时）", "Variety (when transplanting)"),
    "trace_capture_send": ("保存", "Save"),
    "trace_capture_saved": ("已记录，账本序号", "Recorded, ledger entry"),
    "trace_capture_queued": ("离线保存，联网后自动上传：", "Kept offline, sent when back online:"),
    "trace_capture_again": ("该记录已存在", "That record already exists"),
    "trace_capture_no_plot": ("你的农场还没有地块", "Your farm has no plots yet"),
}


def _need(principal: Principal, roles: frozenset[Role]) -> None:
    # A page another role may not open does not exist for it (as the API's 404s).
    if principal.role not in roles:
        raise NotFound("no such page")


# --- the farmer ---------------------------------------------------------------------------


@dataclass(frozen=True)
class EventRow:
    row: TraceEvent
    facts: dict[str, str]
    step: str
    plot: str | None


def _step_key(facts: dict[str, str]) -> str:
    step = facts.get("step", "")
    return step if step in vocab.FARM_STEPS else "other"


def _farm_events(session: Any, farm: Farm, plots: list[Plot]) -> list[EventRow]:
    where_plot = {p.location: p.code for p in plots}
    rows = session.scalars(
        select(TraceEvent)
        .where(TraceEvent.farm_id == farm.id)
        .order_by(TraceEvent.event_time, TraceEvent.id)
        .limit(500)
    )
    out = []
    for row in rows:
        facts = disclosure.facts(row.body)
        plot = where_plot.get(row.read_point or "") or where_plot.get(row.biz_location or "")
        out.append(EventRow(row, facts, _step_key(facts), plot))
    return out


def season_chart(session: Any, farm: Farm, events: list[EventRow], lang_label: Any, tz: Any) -> Any:
    """Daily rain and soil moisture over the recorded season, a marked line at each step."""
    if not events:
        return None
    start = events[0].row.event_time - timedelta(days=7)
    end = events[-1].row.event_time + timedelta(days=1)
    rain = crosscheck.farm_series(session, farm.id, "weather_station", "rainfall_mm", start, end)
    moisture = crosscheck.farm_series(session, farm.id, "soil_probe", "moisture_pct", start, end)
    if not rain and not moisture:
        return None
    option = charts.time_chart(
        title=lang_label("trace_season_chart"),
        lines=[
            charts.Line(lang_label("trace_rain_mm"), rain, charts.BLUE, area=True),
            charts.Line(lang_label("trace_moisture_pct"), moisture, charts.GREEN, y_axis=1),
        ],
        axes=[charts.Axis(lang_label("trace_rain_mm"), min=0), charts.Axis("%", min=0, max=100)],
        zoom=True,
        tz=tz,
    )
    option["series"][0]["markLine"] = {
        "symbol": "none",
        "lineStyle": {"color": charts.AMBER, "type": "dashed"},
        "label": {"formatter": "{b}", "rotate": 90, "fontSize": 10},
        "data": [
            {
                "name": lang_label(f"trace_step_{e.step}"),
                "xAxis": charts.axis_time(e.row.event_time, tz),
            }
            for e in events
        ],
    }
    return charts.chart_element(
        option, element_id="season-chart", label=lang_label("trace_season_chart")
    )


def _label(request: Request) -> Any:
    console, lang = console_of(request), language(request)
    return lambda key: console.catalog.label(key, lang)


@router.get(FARM_PAGE, response_class=HTMLResponse, response_model=None)
@page
def farm_page(request: Request, uow: UnitDep) -> Response:
    """The farmer's own farm (the brand and the insurer see every farm of theirs)."""
    principal = console_principal(request, uow)
    _need(principal, service.READERS)
    session = uow.session
    label = _label(request)
    tz = console_of(request).tz
    farms = []
    for farm in service.list_farms(session=session, principal=principal):
        plots = service.list_plots(session=session, principal=principal, farm_id=farm.id)
        events = _farm_events(session, farm, plots)
        lots = list(session.scalars(select(Lot).where(Lot.farm_id == farm.id).order_by(Lot.code)))
        products = {
            p.id: p
            for p in session.scalars(
                select(Product).where(Product.id.in_({lot.product_id for lot in lots}))
            )
        }
        farms.append(
            {
                "farm": farm,
                "plots": plots,
                "lots": [(lot, products.get(lot.product_id)) for lot in lots],
                "checks": crosscheck.counts_by_farm(session, farm.id),
                "events": list(reversed(events)),
                "chart": season_chart(session, farm, events, label, tz),
            }
        )
    return render(
        request,
        "trace/farm.html",
        farms=farms,
        can_capture=principal.role in FARMERS,
        crops=CROPS,
    )


# --- the phone capture form ----------------------------------------------------------------


def _my_plots(session: Any, principal: Principal) -> list[tuple[Farm, Plot]]:
    out = []
    for farm in service.list_farms(session=session, principal=principal):
        out += [
            (farm, p)
            for p in service.list_plots(session=session, principal=principal, farm_id=farm.id)
        ]
    return out


def _farm_lots(session: Any, farm_ids: list[str]) -> list[tuple[Lot, Product]]:
    rows = session.execute(
        select(Lot, Product)
        .join(Product, Product.id == Lot.product_id)
        .where(Lot.farm_id.in_(farm_ids))
        .order_by(Lot.code)
    )
    return [(lot, product) for lot, product in rows]


@dataclass(frozen=True)
class FarmStep:
    """What the phone form sends: one step on one plot."""

    step: str
    plot_id: str
    when: datetime
    product: str = ""
    organic: bool = False
    input_kg: float | None = None
    lot_id: str = ""
    harvest_kg: float | None = None
    rain: bool = False
    variety: str = ""


def step_event(
    step: FarmStep, farm: Farm, plot: Plot, lot: tuple[Lot, Product] | None
) -> dict[str, Any]:
    """The EPCIS 2.0 ObjectEvent of a farm step (our ``anxin:`` namespace for the farm facts),
    shaped like the events the demo and the API capture, so the lot's page and checks use it."""
    if step.step not in FIELD_STEPS:
        raise InvalidInput.field("step", f"one of {', '.join(FIELD_STEPS)}")
    offset = step.when.strftime("%z")
    offset = f"{offset[:3]}:{offset[3:]}" if offset else "+08:00"
    event: dict[str, Any] = {
        "@context": [
            "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld",
            {"anxin": vocab.ANXIN_NS},
        ],
        "type": "ObjectEvent",
        "eventTime": step.when.isoformat(),
        "eventTimeZoneOffset": offset,
        "action": "ADD" if step.step == "transplanting" else "OBSERVE",
        "bizStep": f"anxin:{step.step}",
        "readPoint": {"id": plot.location},
        "bizLocation": {"id": farm.location},
    }
    epc_class = f"{vocab.DL_HOST}/01/{lot[1].gtin}/10/{lot[0].code}" if lot else None
    if step.step == "harvesting":
        if lot is None:
            raise InvalidInput.field("lot_id", "a harvest goes into a lot: choose one")
        if step.harvest_kg is None or step.harvest_kg <= 0:
            raise InvalidInput.field("harvest_kg", "the harvested weight, in kg, above 0")
    if epc_class:
        quantity: dict[str, Any] = {"epcClass": epc_class}
        if step.step == "harvesting":
            quantity |= {"quantity": step.harvest_kg, "uom": "KGM"}
        event["quantityList"] = [quantity]
    else:
        event["epcList"] = []
    if step.step in WITH_INPUT:
        if not step.product.strip():
            raise InvalidInput.field("product", "name the product applied")
        applied: dict[str, Any] = {"product": step.product.strip(), "organic": step.organic}
        if step.input_kg is not None:
            if step.input_kg <= 0:
                raise InvalidInput.field("input_kg", "above 0, or leave it empty")
            applied["quantity"] = step.input_kg
        event["anxin:input"] = applied
    if step.rain:
        event["anxin:weather"] = "rain"
    if step.step == "transplanting" and step.variety.strip():
        event["ilmd"] = {"anxin:variety": step.variety.strip()}
    return event


def _capture_form(request: Request, uow: UnitDep, status_code: int = 200, **extra: Any) -> Response:
    principal = console_principal(request, uow)
    _need(principal, FARMERS)
    places = _my_plots(uow.session, principal)
    lots = _farm_lots(uow.session, sorted({f.id for f, _ in places}))
    return render(
        request,
        "trace/capture.html",
        status_code=status_code,
        places=places,
        lots=lots,
        steps=FIELD_STEPS,
        with_input=WITH_INPUT,
        crops=CROPS,
        today=uow.now().astimezone(_tz(request)).strftime("%Y-%m-%dT%H:%M"),
        **extra,
    )


def _tz(request: Request) -> Any:
    return console_of(request).tz


@router.get(CAPTURE_PAGE, response_class=HTMLResponse, response_model=None)
@page
def capture_page(request: Request, uow: UnitDep) -> Response:
    return _capture_form(request, uow)


def _number(field: str, raw: str) -> float | None:
    if not raw.strip():
        return None
    try:
        value = float(raw)
    except ValueError:
        raise InvalidInput.field(field, "a number") from None
    if value != value or value in (float("inf"), float("-inf")):
        raise InvalidInput.field(field, "a number")
    return value


@router.post(CAPTURE_PAGE, response_class=HTMLResponse, response_model=None)
@page
def capture_step(
    request: Request,
    uow: UnitDep,
    # Defaults, so a visitor without a session is sent to log in before the form is judged.
    step: Annotated[str, Form(max_length=20)] = "",
    plot_id: Annotated[str, Form(max_length=64)] = "",
    when: Annotated[str, Form(max_length=40)] = "",
    product: Annotated[str, Form(max_length=200)] = "",
    organic: Annotated[str, Form(max_length=8)] = "",
    input_kg: Annotated[str, Form(max_length=20)] = "",
    lot_id: Annotated[str, Form(max_length=64)] = "",
    harvest_kg: Annotated[str, Form(max_length=20)] = "",
    rain: Annotated[str, Form(max_length=8)] = "",
    variety: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    """One farm step from the phone: the same validation, hash and ledger anchor as the API."""
    principal = console_principal(request, uow)
    _need(principal, FARMERS)
    places = {p.id: (f, p) for f, p in _my_plots(uow.session, principal)}
    if plot_id not in places:
        raise InvalidInput.field("plot_id", "one of your farm's plots")
    farm, plot = places[plot_id]
    try:
        moment = datetime.fromisoformat(when)
    except ValueError:
        raise InvalidInput.field("when", "a date and time") from None
    if moment.tzinfo is None:  # the phone's datetime-local is wall-clock time where we are
        moment = moment.replace(tzinfo=_tz(request))
    lots = {lot.id: (lot, prod) for lot, prod in _farm_lots(uow.session, [farm.id])}
    if lot_id and lot_id not in lots:
        raise InvalidInput.field("lot_id", "a lot of this farm")
    data = FarmStep(
        step=step,
        plot_id=plot_id,
        when=moment,
        product=product,
        organic=organic in ("on", "true", "1"),
        input_kg=_number("input_kg", input_kg),
        lot_id=lot_id,
        harvest_kg=_number("harvest_kg", harvest_kg),
        rain=rain in ("on", "true", "1"),
        variety=variety,
    )
    event = step_event(data, farm, plot, lots.get(lot_id))
    row, created = service.capture_event(uow=uow, principal=principal, event=event)
    return _capture_form(
        request,
        uow,
        status_code=201 if created else 200,
        saved=row,
        created=created,
    )


# --- the brand ------------------------------------------------------------------------------


def scan_map(scans: list[Scan], label: Any) -> Any:
    """Scans as points on longitude/latitude axes over China, genuine green, suspect red."""
    placed = [s for s in scans if s.lat is not None and s.lon is not None]
    if not placed:
        return None
    series = []
    for verdict, colour in (("genuine", charts.GREEN), ("suspect", charts.RED)):
        series.append(
            {
                "name": label(f"trace_verdict_{verdict}"),
                "type": "scatter",
                "symbolSize": 12,
                "itemStyle": {"color": colour},
                "data": [
                    [s.lon, s.lat, s.serial, s.scanned_at.isoformat()[:16]]
                    for s in placed
                    if s.verdict == verdict
                ],
            }
        )
    option = {
        "animation": False,
        "title": {"text": label("trace_scan_map"), "left": 0, "textStyle": {"fontSize": 14}},
        "legend": {"top": 24},
        "tooltip": {"trigger": "item"},
        "grid": {"left": 8, "right": 24, "top": 64, "bottom": 8, "containLabel": True},
        "xAxis": {"type": "value", "name": label("trace_longitude"), "min": 73, "max": 135},
        "yAxis": {"type": "value", "name": label("trace_latitude"), "min": 18, "max": 54},
        "series": series,
    }
    return charts.chart_element(option, element_id="scan-map", label=label("trace_scan_map"))


@router.get(BRAND_PAGE, response_class=HTMLResponse, response_model=None)
@page
def brand_page(request: Request, uow: UnitDep) -> Response:
    principal = console_principal(request, uow)
    _need(principal, BRAND)
    session = uow.session
    org = principal.organisation_id
    products = catalogue.list_products(session=session, principal=principal)
    product_ids = [p.id for p in products]
    lots = list(
        session.scalars(select(Lot).where(Lot.product_id.in_(product_ids)).order_by(Lot.code))
    )
    issued = Counter[str]()
    printed = Counter[str]()
    for lot_id, count, with_label in session.execute(
        select(Unit.lot_id, func.count(), func.count(Unit.printed_at))
        .where(Unit.lot_id.in_([lot.id for lot in lots]))
        .group_by(Unit.lot_id)
    ):
        issued[lot_id], printed[lot_id] = int(count), int(with_label)
    scans = list(
        session.scalars(
            select(Scan)
            .where(Scan.organisation_id == org)
            .order_by(Scan.scanned_at.desc(), Scan.id)
            .limit(200)
        )
    )
    by_gtin = Counter(s.gtin for s in scans)
    suspect = Counter(s.gtin for s in scans if s.verdict == "suspect")
    alarms = [
        a
        for a in list_alarms(uow=uow, principal=principal, limit=500)
        if a.alarm_type.removeprefix("trace_") in SCAN_FINDINGS
    ]
    farms = {f.id: f for f in service.list_farms(session=session, principal=principal)}
    return render(
        request,
        "trace/brand.html",
        products=products,
        product_of={p.id: p for p in products},
        lots=lots,
        farms=farms,
        issued=issued,
        printed=printed,
        scans=scans,
        scan_count=by_gtin,
        suspect=suspect,
        alarms=alarms,
        findings=SCAN_FINDINGS,
        chart=scan_map(scans, _label(request)),
    )


# --- the insurer ----------------------------------------------------------------------------


def _bundle(session: Any, claim: Claim, policy: Policy) -> list[dict[str, Any]]:
    """What a claim cites: the decision's evidence once decided, else what would be gathered."""
    if claim.decision:
        return list(claim.decision.get("evidence", []))
    return [e.cite() for e in insurance.gather(session, policy, claim)]


def claims_chart(claims: list[Claim], label: Any) -> Any:
    if not claims:
        return None
    statuses = ("open", "approved", "rejected", "settled")
    counted = Counter(c.status for c in claims)
    option = charts.stacked_bars(
        title=label("trace_claims_chart"),
        categories=[label(f"trace_status_{s}") for s in statuses],
        stacks=[(label("trace_claims"), [counted.get(s, 0) for s in statuses], charts.BLUE)],
    )
    return charts.chart_element(
        option, element_id="claims-chart", label=label("trace_claims_chart"), height_px=220
    )


@router.get(INSURER_PAGE, response_class=HTMLResponse, response_model=None)
@page
def insurer_page(request: Request, uow: UnitDep) -> Response:
    principal = console_principal(request, uow)
    _need(principal, INSURERS)
    session = uow.session
    policies = insurance.list_policies(session=session, principal=principal)
    by_id = {p.id: p for p in policies}
    products = {
        p.id: p
        for p in session.scalars(
            select(Product).where(Product.id.in_([p.product_id for p in policies]))
        )
    }
    lots = {
        lot.id: lot
        for lot in session.scalars(
            select(Lot).where(Lot.id.in_([p.lot_id for p in policies if p.lot_id]))
        )
    }
    claims = list(reversed(insurance.list_claims(session=session, principal=principal)))
    return render(
        request,
        "trace/insurance.html",
        policies=policies,
        products=products,
        lots=lots,
        claims=[(c, by_id[c.policy_id], _bundle(session, c, by_id[c.policy_id])) for c in claims],
        chart=claims_chart(claims, _label(request)),
    )


def _claim_step(request: Request, uow: UnitDep, claim_id: str, step: Any) -> Response:
    principal = console_principal(request, uow)
    _need(principal, INSURERS)
    step(uow=uow, principal=principal, claim_id=claim_id)
    return RedirectResponse(f"{INSURER_PAGE}#claim-{claim_id}", status_code=303)


@router.post(INSURER_PAGE + "/claims/{claim_id}/decision", response_model=None)
@page
def decide_claim(request: Request, uow: UnitDep, claim_id: str) -> Response:
    """Decide by the versioned rule set on the evidence bundle (anchored on the ledger)."""
    return _claim_step(request, uow, claim_id, insurance.decide)


@router.post(INSURER_PAGE + "/claims/{claim_id}/settlement", response_model=None)
@page
def settle_claim(request: Request, uow: UnitDep, claim_id: str) -> Response:
    return _claim_step(request, uow, claim_id, insurance.settle)
