"""Quote and illustration API, and the printable illustration page for agents."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError

from anxin.core.clock import to_local
from anxin.core.errors import AnxinError, PermissionDenied
from anxin.core.security import Principal, Role
from anxin.life import service
from anxin.life.schemas import IllustrationRead, QuoteRead, QuoteRequest
from anxin.life.tables import Sex
from anxin.people.deps import ContextDep, UnitDep, require_roles
from anxin.ui import charts
from anxin.ui.console import console_of, console_principal, language, page, render

ALLOWED = (Role.AGENT, Role.ACTUARY, Role.ADMIN)
Pricer = Annotated[Principal, Depends(require_roles(*ALLOWED))]

router = APIRouter(tags=["life"])
TEMPLATES = Path(__file__).parent / "templates"

LABELS: dict[str, tuple[str, str]] = {
    "title": ("增额终身寿险 利益演示", "Increasing whole-life policy illustration"),
    "issue_age": ("投保年龄", "Age at issue"),
    "sex": ("性别", "Sex"),
    "M": ("男", "Male"),
    "F": ("女", "Female"),
    "pay_term": ("交费期间", "Premium term"),
    "single": ("趸交", "Single premium"),
    "years_pay": ("年交", "years"),
    "pay_mode": ("交费方式", "Payment mode"),
    "mode_1": ("年交", "Yearly"),
    "mode_2": ("半年交", "Half-yearly"),
    "mode_4": ("季交", "Quarterly"),
    "mode_12": ("月交", "Monthly"),
    "instalment": ("每期保费", "Each instalment"),
    "sum_assured": ("基本保险金额(首年有效保额)", "First-year sum assured"),
    "premium_in": ("或年交保费", "or annual premium"),
    "issue_date": ("投保日期", "Issue date"),
    "years": ("演示年数", "Years shown"),
    "show": ("生成演示", "Illustrate"),
    "print": ("打印", "Print"),
    "csv": ("下载 CSV", "Download CSV"),
    "pricing_rate": ("预定利率", "Pricing rate"),
    "growth": ("保额年增长率", "Sum assured growth"),
    "table": ("生命表", "Mortality table"),
    "gross_premium": ("年交保费", "Annual premium"),
    "net_premium": ("纯保费", "Net premium"),
    "total_premiums": ("保费合计", "Total premiums"),
    "policy_year": ("保单年度", "Policy year"),
    "age": ("年龄", "Age"),
    "premium": ("当年保费", "Premium"),
    "cumulative_premium": ("累计保费", "Premiums paid"),
    "sa_t": ("有效保额", "Sum assured"),
    "death_benefit": ("身故保险金", "Death benefit"),
    "cash_value": ("现金价值", "Cash value"),
    "surrender_irr": ("退保收益率(IRR)", "Surrender IRR"),
    "chart_title": (
        "现金价值、已交保费与身故保险金",
        "Cash value, premiums paid and the death benefit",
    ),
    "chart_x": ("保单年度", "Policy year"),
    "life_note": (
        "本演示基于中国人身保险业经验生命表(2010-2013)与投保日适用的预定利率计算，现金价值为保证利益；"
        "退保收益率为按年初交费、年末退保领取现金价值计算的年化内部收益率。",
        "Computed on CL(2010-2013) and the pricing rate in force on the issue date; cash values "
        "are guaranteed. The surrender IRR is the annual internal rate of return of paying "
        "premiums at the start of each year and surrendering for the cash value at the year end.",
    ),
    "input_error": ("输入有误", "Please check the input"),
}


def _today(context: Any) -> date:
    return to_local(context.clock.now()).date()


@router.post("/api/v1/life/quote", response_model=QuoteRead)
def post_quote(body: QuoteRequest, context: ContextDep, _: Pricer) -> QuoteRead:
    """Price the increasing whole-life product for a sum assured or a premium."""
    return service.quote(request=body, today=_today(context))


@router.post("/api/v1/life/illustration", response_model=IllustrationRead)
def post_illustration(body: QuoteRequest, context: ContextDep, _: Pricer) -> IllustrationRead:
    """Per policy year: premiums, sum assured, death benefit, cash value, surrender IRR."""
    return service.illustration(request=body, today=_today(context))


@router.get(
    "/api/v1/life/illustration.csv",
    response_class=Response,  # errors stay JSON; only the 200 is CSV
    responses={200: {"description": "The illustration, CSV", "content": {"text/csv": {}}}},
)
def get_illustration_csv(
    query: Annotated[QuoteRequest, Query()], context: ContextDep, _: Pricer
) -> Response:
    """The illustration as CSV (UTF-8, header line), for download or spreadsheets."""
    text = service.illustration_csv(request=query, today=_today(context))
    return Response(
        content=text,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="illustration.csv"'},
    )


@router.get("/api/v1/life/illustration", response_model=IllustrationRead)
def get_illustration(
    query: Annotated[QuoteRequest, Query()], context: ContextDep, _: Pricer
) -> IllustrationRead:
    """The same as the POST, from query parameters (links, bookmarks)."""
    return service.illustration(request=query, today=_today(context))


def _form_values(request: Request) -> dict[str, str]:
    keys = ("issue_age", "sex", "pay_term", "mode", "sum_assured", "premium", "issue_date", "years")
    return {k: request.query_params.get(k, "") for k in keys}


@router.get(
    "/life/illustration", response_class=HTMLResponse, response_model=None, include_in_schema=False
)
@page
def illustration_page(request: Request, context: ContextDep, uow: UnitDep) -> Response:
    """Printable illustration: a form, the per-year table and the chart, in zh or en."""
    principal = console_principal(request, uow)
    if principal.role not in ALLOWED:
        raise PermissionDenied("only agents, actuaries and admins may print illustrations")
    lang = language(request)
    catalog = console_of(request).catalog

    def t(key: str) -> str:
        return catalog.label(key, lang)

    form = _form_values(request)
    filled = {k: v for k, v in form.items() if v != ""}
    data: dict[str, Any] = {
        "form": form,
        "result": None,
        "error": None,
        # the same quote in the API's terms (no lang)
        "csv_query": urlencode(filled),
    }
    if form["issue_age"]:
        try:
            body = QuoteRequest.model_validate(
                {k: v for k, v in form.items() if v != ""}
                | ({"sex": Sex(form["sex"])} if form["sex"] in ("M", "F") else {})
            )
            result = service.illustration(request=body, today=_today(context))
            data["result"] = result
            data["chart"] = charts.chart_element(
                charts.category_chart(
                    title=t("chart_title"),
                    categories=[str(r.policy_year) for r in result.rows],
                    lines=[
                        (t(key), [float(getattr(r, key)) for r in result.rows], colour)
                        for key, colour in (
                            ("cash_value", charts.GREEN),
                            ("cumulative_premium", charts.AMBER),
                            ("death_benefit", charts.BLUE),
                        )
                    ],
                    axis=charts.Axis("¥"),
                    x_name=t("chart_x"),
                ),
                element_id="illustration-chart",
                label=t("chart_title"),
                height_px=360,
            )
        except ValidationError as exc:
            data["error"] = "; ".join(
                f"{'.'.join(str(p) for p in e['loc']) or 'input'}: {e['msg']}" for e in exc.errors()
            )
        except AnxinError as exc:
            data["error"] = exc.message
    status = 422 if data["error"] else 200
    return render(request, "life/illustration.html", status_code=status, **data)
