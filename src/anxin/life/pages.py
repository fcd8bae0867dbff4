"""The actuary's workbench page: a table at a rate, the rate scenarios, the guarantee's value by
the year business was written, and a group's IFRS 17 margin — each as a chart with its table."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import numpy as np
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import BaseModel, Field, ValidationError

from anxin.core.errors import PermissionDenied
from anxin.core.security import Role
from anxin.life.guarantee import value_guarantee
from anxin.life.ifrs17 import BestEstimate, ModelPoint, measure_group
from anxin.life.product import PRICING_RATES, TABLE_CODES, Policy
from anxin.life.scenarios import ILLUSTRATIVE_CURVE, HullWhite
from anxin.life.tables import Sex, table_by_name
from anxin.life.workbench import table_values
from anxin.people.deps import UnitDep
from anxin.ui import charts
from anxin.ui.console import console_of, console_principal, language, page, render

ACTUARIES = (Role.ACTUARY, Role.ADMIN)
router = APIRouter(tags=["life"])

LABELS: dict[str, tuple[str, str]] = {
    "workbench": ("精算工作台", "Actuarial workbench"),
    "wb_rate": ("利率", "Interest rate"),
    "wb_volatility": ("利率波动率 σ", "Rate volatility σ"),
    "wb_scenarios": ("情景数", "Scenarios"),
    "wb_show": ("计算", "Calculate"),
    "wb_table_title": ("生命表与精算现值", "Mortality table and present values"),
    "wb_survivors": ("生存人数 l(x)", "Survivors l(x)"),
    "wb_expectancy": ("平均余命", "Life expectancy"),
    "wb_annuity": ("期初生存年金 ä", "Annuity due ä"),
    "wb_assurance": ("终身寿险现值 A", "Whole-life assurance A"),
    "wb_fan_title": ("十年期利率情景(Hull–White)", "10-year rate scenarios (Hull–White)"),
    "wb_fan_note": (
        "一因子 Hull–White 模型,拟合示意收益率曲线(1年1.4%,10年1.9%,30年2.3%)",
        "One-factor Hull–White fitted to an illustrative curve (1y 1.4 %, 10y 1.9 %, 30y 2.3 %)",
    ),
    "wb_percentile": ("分位数", "percentile"),
    "wb_year": ("年度", "Year"),
    "wb_guarantee_title": (
        "保证利率的时间价值(按承保年份)",
        "Time value of the guarantee, by year written",
    ),
    "wb_guarantee_note": (
        "同一保单(40岁男性,10年交,首年保额10万元)按各时期定价利率承保;动态退保假设为示意参数",
        "The same policy (man of 40, ten annual premiums, first-year sum assured 100,000) "
        "written at each period's pricing rate; the dynamic surrender assumptions are illustrative",
    ),
    "wb_written_from": ("承保起始日", "Written from"),
    "wb_guaranteed": ("保证利率", "Guaranteed rate"),
    "wb_deterministic": ("确定性现值", "Deterministic PV"),
    "wb_tvog": ("保证时间价值", "TVOG"),
    "wb_interval": ("95%区间", "95 % interval"),
    "wb_ifrs_title": (
        "IFRS 17 合同服务边际(示例组合)",
        "IFRS 17 contractual service margin (sample group)",
    ),
    "wb_ifrs_note": (
        "2025年承保的三个模型点共900件保单;风险调整按75%置信水平",
        "Three model points, 900 policies written in 2025; risk adjustment at 75 % confidence",
    ),
    "wb_csm": ("合同服务边际", "CSM"),
    "wb_bel": ("最佳估计负债", "Best-estimate liability"),
    "wb_ra": ("风险调整", "Risk adjustment"),
    "wb_release": ("本期释放", "Released"),
    "wb_error": ("输入有误", "Please check the input"),
}


class WorkbenchQuery(BaseModel):
    table: str = Field(default="CL1", pattern="^(CL[1-6]|SULT)$")
    rate: float = Field(default=0.025, gt=-0.5, lt=1.0)
    volatility: float = Field(default=0.01, ge=0, le=0.05)
    scenarios: int = Field(default=400, ge=2, le=2000, multiple_of=2)


def _table_section(query: WorkbenchQuery, t: Any) -> dict[str, Any]:
    table = table_by_name(query.table)
    rows = table_values(table, query.rate, range(0, min(table.max_age, 110) + 1))
    ages = [str(r.age) for r in rows]
    chart = charts.category_chart(
        title=t("wb_table_title"),
        categories=ages,
        lines=[
            (t("wb_survivors"), [r.lx * 100_000 for r in rows], charts.GREEN),
            (t("wb_expectancy"), [r.life_expectancy for r in rows], charts.BLUE),
        ],
        axis=charts.Axis(""),
        x_name=t("age"),
    )
    chart["series"][1]["yAxisIndex"] = 1  # life expectancy on its own scale (years)
    chart["yAxis"].append({"type": "value", "name": t("wb_expectancy"), "scale": True})
    return {
        "table_rows": [r for r in rows if r.age % 10 == 0],
        "table_chart": charts.chart_element(
            chart, element_id="table-chart", label=t("wb_table_title")
        ),
        "table_source": table.source,
    }


def _fan_section(model: HullWhite, scenarios: int, t: Any) -> dict[str, Any]:
    years = list(range(1, 31))
    paths = model.simulate(scenarios, years, seed=1)
    rates = np.stack([np.expm1(paths.zero_rate(k, 10.0)) for k in range(len(years))], axis=1)
    levels = (5, 25, 50, 75, 95)
    bands = np.percentile(rates, levels, axis=0) * 100
    colours = (charts.GREY, charts.BLUE, charts.GREEN, charts.BLUE, charts.GREY)
    lines = [
        (f"P{level}", list(map(float, band)), colour)
        for level, band, colour in zip(levels, bands, colours, strict=True)
    ]
    lines += [
        (f"{float(step.rate):.1%}", [float(step.rate) * 100] * len(years), charts.RED)
        for step in PRICING_RATES
    ]
    chart = charts.category_chart(
        title=t("wb_fan_title"),
        categories=[str(y) for y in years],
        lines=lines,
        axis=charts.Axis("%", unit="{value} %"),
        x_name=t("wb_year"),
    )
    for series in chart["series"][len(levels) :]:
        series["lineStyle"]["type"] = "dashed"
    return {
        "fan_chart": charts.chart_element(chart, element_id="fan-chart", label=t("wb_fan_title"))
    }


def _guarantee_section(model: HullWhite, scenarios: int, t: Any) -> dict[str, Any]:
    rows: list[dict[str, Any]] = []
    for step in PRICING_RATES:
        policy = Policy(40, Sex.MALE, 10, Decimal(100_000), step.effective_from)
        value, _ = value_guarantee([policy], model, scenarios, seed=1)
        low, high = value.interval95
        rows.append(
            {
                "from": step.effective_from,
                "rate": step.rate,
                "value": value,
                "low": low,
                "high": high,
            }
        )
    chart = charts.category_chart(
        title=t("wb_guarantee_title"),
        categories=[r["from"].isoformat() for r in rows],
        lines=[
            (t("wb_tvog"), [r["value"].tvog for r in rows], charts.GREEN),
            ("P2.5", [r["low"] for r in rows], charts.GREY),
            ("P97.5", [r["high"] for r in rows], charts.GREY),
        ],
        axis=charts.Axis("¥"),
        x_name=t("wb_written_from"),
    )
    return {
        "guarantee_rows": rows,
        "guarantee_chart": charts.chart_element(
            chart, element_id="guarantee-chart", label=t("wb_guarantee_title")
        ),
    }


SAMPLE_GROUP = ((35, Sex.MALE, 10, 400), (45, Sex.FEMALE, 5, 300), (55, Sex.MALE, 1, 200))


def _ifrs17_section(t: Any) -> dict[str, Any]:
    points = [
        ModelPoint(Policy(age, sex, term, Decimal(100_000), date(2025, 1, 1)), count)
        for age, sex, term, count in SAMPLE_GROUP
    ]
    result = measure_group(points, ILLUSTRATIVE_CURVE, BestEstimate(), 20)
    chart = charts.category_chart(
        title=t("wb_ifrs_title"),
        categories=[str(p.year) for p in result.periods],
        lines=[
            (t("wb_csm"), [float(p.csm_closing) for p in result.periods], charts.GREEN),
            (t("wb_ra"), [float(p.ra_closing) for p in result.periods], charts.AMBER),
        ],
        axis=charts.Axis("¥"),
        x_name=t("wb_year"),
    )
    return {
        "ifrs": result,
        "ifrs_chart": charts.chart_element(
            chart, element_id="ifrs-chart", label=t("wb_ifrs_title")
        ),
    }


@router.get(
    "/life/workbench", response_class=HTMLResponse, response_model=None, include_in_schema=False
)
@page
def workbench_page(request: Request, uow: UnitDep) -> Response:
    """Tables, scenarios, the guarantee and IFRS 17 on one page, in zh or en."""
    principal = console_principal(request, uow)
    if principal.role not in ACTUARIES:
        raise PermissionDenied("only actuaries and admins use the workbench")
    lang = language(request)
    catalog = console_of(request).catalog

    def t(key: str) -> str:
        return catalog.label(key, lang)

    raw = {k: v for k, v in request.query_params.items() if k in WorkbenchQuery.model_fields and v}
    try:
        query = WorkbenchQuery.model_validate(raw)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        return render(
            request,
            "life/workbench.html",
            status_code=422,
            error=problems,
            query=raw,
            tables=TABLE_CODES,
        )
    model = HullWhite(ILLUSTRATIVE_CURVE, a=0.1, sigma=query.volatility)
    data: dict[str, Any] = {"query": query.model_dump(), "tables": TABLE_CODES, "error": None}
    data |= _table_section(query, t)
    data |= _fan_section(model, query.scenarios, t)
    data |= _guarantee_section(model, query.scenarios, t)
    data |= _ifrs17_section(t)
    return render(request, "life/workbench.html", **data)
