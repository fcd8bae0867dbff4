"""The lessor's quote form: asset cost, down payment, term, the rate or a target rent, advance
or arrears, residual, fee, VAT and a stepped or seasonal pattern → the rent schedule (table and
ECharts chart) with the rate implicit in the lease and the annualised rate with the fee; and a
contract written from the quote. A bad value is shown beside its field (422), never a 500.

The form is a GET, so a quote is a link; writing the contract is a POST carrying the quote's
fields back with the contract's own. Rates are typed in percent on the form.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError

from anxin.core.errors import FieldProblem, InvalidInput, NotFound
from anxin.leasing import service
from anxin.leasing.finance import LeaseKind, LeaseTerms, RentMethod
from anxin.leasing.schemas import ContractCreate, QuoteRequest, ScheduleRow
from anxin.lending.rates import disclosed_rates
from anxin.lending.schedule import Schedule, Timing
from anxin.people.deps import UnitDep
from anxin.people.service import get_user_by_username
from anxin.ui import charts
from anxin.ui.console import (
    console_of,
    console_principal,
    field_reasons,
    form_errors,
    language,
    page,
    render,
)

router = APIRouter(include_in_schema=False)

LABELS: dict[str, tuple[str, str]] = {
    # What is wrong with a field, in the reader's words (`ui.console.field_reasons`).
    "reason_lease_rate_or_rent": (
        "年利率与目标租金只填一项",
        "Give either the rate or the rent, not both",
    ),
    "reason_lease_below_cost": ("须小于设备价款", "Must be less than the cost"),
    "reason_lease_below_financed": ("须小于融资额", "Must be less than the amount financed"),
    "reason_lease_weights_needed": (
        "阶梯或季节租金须填写权重",
        "Stepped and seasonal rent need weights",
    ),
    "reason_lease_weights_zero": ("权重不能全为 0", "The weights must not all be zero"),
    "reason_lease_rate_needed": ("等额本金须填写年利率", "A rate is needed for equal principal"),
    "reason_lease_no_rate_fits": (
        "没有利率能使这些租金还清融资额",
        "No rate makes these rents repay the amount financed",
    ),
    "reason_lease_rate_out_of_range": (
        "推算年利率超出 0–100%",
        "The rate implied is outside 0–100 % a year",
    ),
    "reason_lease_whole_periods": (
        "须为 {months} 个月的整数倍",
        "Must be a whole number of {months}-month periods",
    ),
    "reason_lease_life_below_term": ("不能短于租期", "Must be at least the lease term"),
    "reason_lease_no_such_user": ("没有这个用户", "No such user"),
    "reason_lease_reference_taken": ("该编号已被其他租赁合同使用", "Already used by another lease"),
    "reason_lease_percent": ("请填写百分数", "A number, in percent"),
    "reason_lease_assets_sum": (
        "设备价款合计 {machines} 元，与报价的 {cost} 元不符",
        "The machines' costs sum to {machines}, the quote is for {cost}",
    ),
    "leasing_assets": ("租赁物", "Machines"),
    "leasing_problem_sep": ("：", ": "),
    "leasing_quote": ("租赁报价", "Lease quote"),
    "leasing_quote_terms": ("报价条件", "Terms"),
    "leasing_quote_go": ("计算租金", "Price the lease"),
    "leasing_pricing": ("定价方式", "Price by"),
    "leasing_pricing_rate": ("按年利率求租金", "the rate"),
    "leasing_pricing_rent": ("按目标租金求利率", "a target rent"),
    "leasing_rate_pct": ("年利率（%）", "Annual rate (%)"),
    "leasing_target_rent": ("目标租金（元/期）", "Target rent (yuan a period)"),
    "leasing_frequency": ("每期月数", "Months a period"),
    "leasing_profile": (
        "阶梯/季节权重（逗号分隔，循环使用）",
        "Stepped / seasonal weights (comma-separated, cycled)",
    ),
    "leasing_start": ("起租日", "Commencement"),
    "leasing_vat_show": ("按租赁方式显示增值税", "Show VAT at the kind's rate"),
    "leasing_rate_implicit": ("租赁内含利率（名义年利率）", "Rate implicit in the lease (nominal)"),
    "leasing_rate_annualised": (
        "年化利率（含手续费，IRR 法）",
        "Annualised rate with the fee (IRR method)",
    ),
    "leasing_total_rent": ("租金总额（元）", "Total rent (yuan)"),
    "leasing_total_interest": ("利息总额（元）", "Total interest (yuan)"),
    "leasing_total_vat": ("增值税总额（元）", "Total VAT (yuan)"),
    "leasing_quote_chart": ("各期租金与剩余本金", "Each rent and the principal left"),
    "leasing_errors": ("请更正以下输入", "Please correct these inputs"),
    "leasing_new_contract": ("按此报价签订合同", "Write the contract from this quote"),
    "leasing_create": ("生成合同", "Write the contract"),
    "leasing_credit_code": ("统一社会信用代码", "Unified social credit code"),
    "leasing_site_lat": ("约定地点纬度", "Site latitude"),
    "leasing_site_lon": ("约定地点经度", "Site longitude"),
    "leasing_buyout_fee_pct": ("提前留购手续费（%）", "Early buy-out fee (%)"),
    "leasing_penalty_pct": ("逾期违约金年利率（%）", "Penalty rate a year (%)"),
    "leasing_asset_n": ("设备 {n}", "Machine {n}"),
    "leasing_description": ("设备说明", "Description"),
    "leasing_optional": ("选填", "optional"),
    "leasing_lessee_username": ("承租人登录账号", "Lessee's login"),
}

# the quote's inputs, as the form names them (rates in percent)
QUOTE_FIELDS = (
    "cost", "down_payment", "periods", "frequency_months", "pricing", "annual_rate", "rent",
    "timing", "method", "profile", "residual", "handling_fee", "vat", "kind", "start",
)  # fmt: skip
CONTRACT_FIELDS = (
    "reference", "lessee_name", "lessee_credit_code", "vendor_name", "site_name", "site_lat",
    "site_lon", "deposit", "buyout_fee_rate", "penalty_rate", "useful_life_months",
    "lessee_username",
)  # fmt: skip
ASSET_ROWS = 3
DEFAULTS = {
    "cost": "3000000.00", "down_payment": "300000.00", "periods": "36", "frequency_months": "1",
    "pricing": "rate", "annual_rate": "5.95", "timing": "advance", "method": "equal_rent",
    "residual": "100.00", "handling_fee": "30000.00", "kind": "direct", "vat": "on",
    "buyout_fee_rate": "1", "penalty_rate": "18",
}  # fmt: skip
_PCT = Decimal(100)


def _percent(raw: str, field: str) -> Decimal:
    try:
        value = Decimal(raw)
    except InvalidOperation:
        raise InvalidInput.field(field, "a number, in percent", code="lease_percent") from None
    if not value.is_finite():
        raise InvalidInput.field(field, "a number, in percent", code="lease_percent")
    return value / _PCT


def _quote_body(raw: Mapping[str, str]) -> dict[str, Any]:
    """The form's strings as the API's quote body: the rate or the rent, never both."""
    body: dict[str, Any] = {k: raw[k] for k in QUOTE_FIELDS if raw.get(k)}
    by_rent = body.pop("pricing", "rate") == "rent"
    body.pop("rent" if not by_rent else "annual_rate", None)
    if "annual_rate" in body:
        body["annual_rate"] = _percent(body["annual_rate"], "annual_rate")
    if "profile" in body:
        body["profile"] = [w for w in body["profile"].replace("，", ",").split(",") if w.strip()]
    if str(body.get("frequency_months", "")).isdigit():  # a Literal of ints takes no string
        body["frequency_months"] = int(body["frequency_months"])
    body["vat"] = raw.get("vat") == "on"
    return body


@dataclass(frozen=True)
class Priced:
    data: QuoteRequest
    terms: LeaseTerms
    plan: Schedule
    rows: list[ScheduleRow]
    annualised: Decimal | None


def price(raw: Mapping[str, str]) -> Priced:
    """The quote of the form, or the error naming each field that is wrong."""
    try:
        data = QuoteRequest.model_validate(_quote_body(raw))
    except ValidationError as exc:
        raise form_errors(exc) from None
    terms = service.lease_terms(data, data.cost)
    plan = service.build_schedule(terms)
    try:
        annualised: Decimal | None = Decimal(repr(disclosed_rates(plan).annualised))
    except (ValueError, ArithmeticError):  # no rate solves these flows: shown as "—"
        annualised = None
    return Priced(data, terms, plan, service.schedule_rows(terms, plan), annualised)


def rent_chart(rows: list[ScheduleRow], label: Any) -> charts.Option:
    """Each rent stacked as principal, interest and VAT, with the principal left as a line."""
    bars = (
        (label("leasing_principal"), [float(r.principal) for r in rows], charts.BLUE),
        (label("leasing_interest"), [float(r.interest) for r in rows], charts.AMBER),
        (label("leasing_vat"), [float(r.vat) for r in rows], charts.GREY),
    )
    return {
        "animation": False,
        "legend": {"top": 0, "type": "scroll"},
        "tooltip": {"trigger": "axis", "axisPointer": {"type": "shadow"}},
        "grid": {"left": 8, "right": 8, "top": 40, "bottom": 48, "containLabel": True},
        "xAxis": {"type": "category", "data": [str(r.number) for r in rows]},
        "yAxis": [
            {"type": "value", "name": "¥"},
            {"type": "value", "name": label("leasing_balance"), "splitLine": {"show": False}},
        ],
        "dataZoom": [{"type": "inside"}, {"type": "slider", "height": 18}],
        "series": [
            *(
                {"name": name, "type": "bar", "stack": "rent",
                 "data": [round(v, 2) for v in values], "itemStyle": {"color": colour}}
                for name, values, colour in bars
            ),
            {"name": label("leasing_balance"), "type": "line", "yAxisIndex": 1,
             "showSymbol": False, "data": [round(float(r.balance), 2) for r in rows],
             "itemStyle": {"color": charts.GREEN}},
        ],
    }  # fmt: skip


def _lessor(request: Request, uow: UnitDep) -> None:
    principal = console_principal(request, uow)
    if principal.role not in service.LESSOR_ROLES:
        raise NotFound("no such page")


# The form's inputs by the name a problem gives them, and the label each carries: the one list
# the page's labels (quote.html's `field` and `choice`) and the problem summary both read.
FIELD_LABELS = {
    "cost": "leasing_cost", "down_payment": "leasing_down_payment", "periods": "leasing_term",
    "frequency_months": "leasing_frequency", "pricing": "leasing_pricing",
    "annual_rate": "leasing_rate_pct", "rent": "leasing_target_rent", "timing": "leasing_timing",
    "method": "leasing_method", "residual": "leasing_residual", "handling_fee": "leasing_fee",
    "kind": "leasing_kind", "start": "leasing_start", "profile": "leasing_profile",
    "reference": "leasing_reference", "lessee_name": "leasing_lessee",
    "lessee_credit_code": "leasing_credit_code", "lessee_username": "leasing_lessee_username",
    "lessee_user_id": "leasing_lessee_username", "vendor_name": "leasing_vendor",
    "site_name": "leasing_site", "site_lat": "leasing_site_lat", "site_lon": "leasing_site_lon",
    "deposit": "leasing_deposit", "buyout_fee_rate": "leasing_buyout_fee_pct",
    "penalty_rate": "leasing_penalty_pct", "useful_life_months": "leasing_useful_life",
    "assets": "leasing_assets",
}  # fmt: skip


def _problem_rows(request: Request, errors: Mapping[str, str]) -> list[tuple[str, str, str]]:
    """The summary above the form: (input name, its label, what is wrong), in the reader's
    language; a problem with no input of its own (the request as a whole) has no label."""
    catalog, lang = console_of(request).catalog, language(request)
    return [
        (name, catalog.label(FIELD_LABELS[name], lang) if name in FIELD_LABELS else "", reason)
        for name, reason in errors.items()
    ]


def _show(
    request: Request,
    raw: Mapping[str, str],
    assets: list[dict[str, str]],
    problems: list[FieldProblem],
    status_code: int = 200,
) -> Response:
    priced = None
    if "cost" in raw and not problems:
        try:
            priced = price(raw)
        except InvalidInput as e:
            problems, status_code = list(e.fields), 422
    option = None
    if priced is not None:
        catalog, lang = console_of(request).catalog, language(request)
        option = charts.chart_element(
            rent_chart(priced.rows, lambda key: catalog.label(key, lang)),
            element_id="quote-chart",
            label=catalog.label("leasing_quote_chart", lang),
        )
    errors = field_reasons(request, problems)
    return render(
        request,
        "leasing/quote.html",
        status_code=status_code,
        form={**({} if "cost" in raw else DEFAULTS), **raw},
        assets=assets,
        problems=_problem_rows(request, errors),
        errors=errors,
        labels=FIELD_LABELS,
        q=priced,
        chart=option,
        total_vat=sum((r.vat for r in priced.rows), Decimal(0)) if priced else None,
        total_rent=sum((r.rent for r in priced.rows), Decimal(0)) if priced else None,
        kinds=list(LeaseKind),
        methods=list(RentMethod),
        timings=list(Timing),
    )


def _blank_assets() -> list[dict[str, str]]:
    return [{"asset_type": "", "description": "", "cost": "", "location": ""}] * ASSET_ROWS


@router.get("/leasing/quote", response_class=HTMLResponse, response_model=None)
@page
def quote_form(request: Request, uow: UnitDep) -> Response:
    _lessor(request, uow)
    raw = {k: v.strip() for k, v in request.query_params.items() if k in QUOTE_FIELDS}
    return _show(request, raw, _blank_assets(), [])


async def posted_form(request: Request) -> dict[str, list[str]]:
    """The posted form's fields, read in the event loop so the page itself runs in a thread."""
    form = await request.form(max_fields=200)
    return {k: [str(v).strip() for v in form.getlist(k)] for k in form}


PostedForm = Annotated[dict[str, list[str]], Depends(posted_form)]


def _contract_body(
    uow: UnitDep, raw: Mapping[str, str], assets: list[dict[str, str]]
) -> dict[str, Any]:
    body = _quote_body(raw)
    body.pop("cost", None)  # the machines' costs make the contract's cost
    body.update({k: raw[k] for k in CONTRACT_FIELDS if raw.get(k)})
    username = body.pop("lessee_username", None)
    if username:  # the lessee's own login, which reads its statement
        try:
            user = get_user_by_username(session=uow.session, username=username)
        except NotFound:
            raise InvalidInput.field(
                "lessee_username", "no such user", code="lease_no_such_user"
            ) from None
        body["lessee_user_id"] = user.id
    for field in ("buyout_fee_rate", "penalty_rate"):
        if field in body:
            body[field] = _percent(body[field], field)
    body["assets"] = [{k: v for k, v in a.items() if v} for a in assets if any(a.values())]
    return body


@router.post("/leasing/quote/contract", response_model=None)
@page
def quote_to_contract(request: Request, uow: UnitDep, posted: PostedForm) -> Response:
    """The contract from the quote on the page, its machines summing to the quote's cost."""
    principal = console_principal(request, uow)
    if principal.role not in service.LESSOR_ROLES:
        raise NotFound("no such page")
    raw = {k: v[0] for k, v in posted.items() if k in (*QUOTE_FIELDS, *CONTRACT_FIELDS) and v}
    columns = ("asset_type", "description", "cost", "location")
    lists = [posted.get(f"asset_{c}", []) for c in columns]
    assets = [
        dict(zip(columns, values, strict=True))
        for values in zip(*(col[:ASSET_ROWS] for col in lists), strict=False)
    ] or _blank_assets()
    try:
        priced = price(raw)
        data = ContractCreate.model_validate(_contract_body(uow, raw, assets))
        machines = sum((a.cost for a in data.assets), Decimal(0))
        if machines != priced.data.cost:
            raise InvalidInput.field(
                "assets", f"the machines' costs sum to {machines}, the quote is for "
                f"{priced.data.cost}", code="lease_assets_sum", machines=str(machines),
                cost=str(priced.data.cost),
            )  # fmt: skip
        contract = service.create_contract(uow=uow, principal=principal, data=data)
    except ValidationError as exc:
        return _show(request, raw, assets, list(form_errors(exc).fields), 422)
    except InvalidInput as exc:
        return _show(request, raw, assets, list(exc.fields), 422)
    return RedirectResponse(f"/leasing/contracts/{contract.id}", status_code=303)
