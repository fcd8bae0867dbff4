"""The monthly supervision report as files: CSV for spreadsheets, PDF for print and filing.

Pure apart from reading a font file: both take the measured report, the providers' names and
the labels in the reader's language. The PDF embeds a CJK font found on the system (Debian's
fonts-wqy-microhei, fonts-wqy-zenhei or fonts-noto-cjk; scripts/system-deps.sh installs one),
because the report is read in Chinese and the PDF core fonts have no Chinese glyphs.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from pathlib import Path

from anxin.core.clock import format_local
from anxin.core.errors import AnxinError
from anxin.services.supervision import MonthReport, Outcome, Tally

# Where Debian puts the CJK fonts, best first: (file, index in a collection).
FONTS: tuple[tuple[Path, int], ...] = (
    (Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"), 0),
    (Path("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc"), 0),
    (Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"), 2),  # the SC face
)

KEYS = (
    "services_supervision",
    "services_month",
    "services_as_of",
    "services_targets",
    "services_target_alarm",
    "services_target_arrival",
    "services_target_complaint",
    "services_alarms",
    "services_visits",
    "services_complaints",
    "services_on_time",
    "services_late",
    "services_missed",
    "services_pending",
    "services_rate_on_time",
    "services_providers",
    "services_provider",
    "services_mean_rating",
    "services_score",
)
OUTCOMES = (Outcome.ON_TIME, Outcome.LATE, Outcome.MISSED, Outcome.PENDING)


@dataclass(frozen=True)
class Labels:
    words: Mapping[str, str]

    def __getitem__(self, key: str) -> str:
        return self.words[key]


class NoReportFont(AnxinError):
    status_code = 503
    code = "no_report_font"


@dataclass(frozen=True)
class Bar:
    """One horizontal stacked bar of the report's chart: counts by outcome."""

    key: str  # the label key of what is measured
    counts: tuple[int, int, int, int]  # on time, late, missed, pending
    rate: Decimal | None

    @property
    def total(self) -> int:
        return sum(self.counts)


def bars(report: MonthReport) -> list[Bar]:
    return [
        _bar("services_alarms", report.alarms),
        _bar("services_visits", report.visits),
        _bar("services_complaints", report.complaints),
    ]


def _bar(key: str, tally: Tally) -> Bar:
    c = tally.counts
    return Bar(key, (c[OUTCOMES[0]], c[OUTCOMES[1]], c[OUTCOMES[2]], c[OUTCOMES[3]]), tally.rate)


def percent(rate: Decimal | None) -> str:
    return "—" if rate is None else f"{rate * 100:.1f}%"


def _plain(value: Decimal | None) -> str:
    return "" if value is None else str(value)


def _table(report: MonthReport, names: Mapping[str, str], labels: Labels) -> list[list[str]]:
    """The report as rows: the three measures, then one row per provider."""
    head = [
        "",
        labels["services_on_time"],
        labels["services_late"],
        labels["services_missed"],
        labels["services_pending"],
        labels["services_rate_on_time"],
        labels["services_mean_rating"],
        labels["services_score"],
    ]
    rows = [head]
    for bar in bars(report):
        rows.append([labels[bar.key], *map(str, bar.counts), _plain(bar.rate), "", ""])
    for p in report.providers:
        v = _bar("", p.visits)
        rows.append(
            [
                f"{labels['services_provider']}: {names.get(p.provider_id, p.provider_id)}",
                *map(str, v.counts),
                _plain(v.rate),
                _plain(p.mean_rating),
                _plain(p.score),
            ]
        )
    return rows


def to_csv(report: MonthReport, names: Mapping[str, str], labels: Labels) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([labels["services_month"], report.month.strftime("%Y-%m")])
    writer.writerows(_table(report, names, labels))
    return out.getvalue()


def font_file(candidates: Sequence[tuple[Path, int]] = FONTS) -> tuple[Path, int]:
    for path, index in candidates:
        if path.exists():
            return path, index
    raise NoReportFont(
        "no CJK font for the PDF report: install fonts-wqy-microhei (scripts/system-deps.sh)"
    )


def to_pdf(
    report: MonthReport,
    names: Mapping[str, str],
    labels: Labels,
    *,
    as_of: datetime,
    fonts: Sequence[tuple[Path, int]] = FONTS,
) -> bytes:
    from fpdf import FPDF  # imported here: only this download needs it

    path, index = font_file(fonts)
    pdf = FPDF(orientation="P", unit="mm", format="A4")
    pdf.set_creator("anxin")
    pdf.set_title(f"{labels['services_supervision']} {report.month:%Y-%m}")
    pdf.add_font("cjk", "", str(path), collection_font_number=index)
    pdf.add_page()
    pdf.set_font("cjk", size=18)
    pdf.cell(
        0,
        12,
        f"{labels['services_supervision']} · {report.month:%Y-%m}",
        new_x="LMARGIN",
        new_y="NEXT",
    )
    pdf.set_font("cjk", size=10)
    pdf.cell(
        0, 6, f"{labels['services_as_of']}: {format_local(as_of)}", new_x="LMARGIN", new_y="NEXT"
    )
    t = report.targets
    for key, value in (
        ("services_target_alarm", t.alarm_ack_minutes),
        ("services_target_arrival", t.arrival_grace_minutes),
        ("services_target_complaint", t.complaint_close_days),
    ):
        pdf.cell(0, 6, f"{labels[key]}: {value}", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    _chart(pdf, report, labels)
    pdf.ln(4)
    rows = _table(report, names, labels)
    widths = (56, 16, 16, 16, 16, 22, 22, 22)
    for i, row in enumerate(rows):
        pdf.set_font("cjk", size=9 if i else 8)
        if i and row[5]:
            row = [*row[:5], percent(Decimal(row[5])), *row[6:]]  # a rate reads as a percentage
        for column, (width, text) in enumerate(zip(widths, row, strict=True)):
            pdf.cell(width, 7, text, border=1, align="R" if column else "L")
        pdf.ln(7)
    return bytes(pdf.output())


# Colours of the outcomes, in OUTCOMES order (green, amber, red, grey).
COLOURS = ((46, 125, 50), (239, 160, 0), (198, 40, 40), (170, 170, 170))


def _chart(pdf: object, report: MonthReport, labels: Labels) -> None:
    """Stacked horizontal bars, one per measure, scaled to the largest."""
    from fpdf import FPDF

    assert isinstance(pdf, FPDF)
    shown = bars(report)
    widest = max((b.total for b in shown), default=0) or 1
    left, width = pdf.l_margin + 40, 120.0
    for bar in shown:
        y = pdf.get_y()
        pdf.set_font("cjk", size=10)
        pdf.cell(40, 8, labels[bar.key])
        x = left
        for count, colour in zip(bar.counts, COLOURS, strict=True):
            if count:
                w = width * count / widest
                pdf.set_fill_color(*colour)
                pdf.rect(x, y + 1, w, 6, style="F")
                x += w
        pdf.set_xy(left + width + 2, y)
        pdf.cell(0, 8, percent(bar.rate), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("cjk", size=8)
    for key, colour in zip(
        ("services_on_time", "services_late", "services_missed", "services_pending"),
        COLOURS,
        strict=True,
    ):
        pdf.set_fill_color(*colour)
        pdf.rect(pdf.get_x(), pdf.get_y() + 1.5, 3, 3, style="F")
        pdf.set_x(pdf.get_x() + 4)
        pdf.cell(28, 6, labels[key])
    pdf.ln(6)
