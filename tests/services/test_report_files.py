"""The report's files without a server: the PDF needs a CJK font and says so when none is
installed; the CSV is the report's figures with the reader's labels."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from anxin.services import report_files
from anxin.services.supervision import Outcome, Tally, Targets, month_report

LABELS = report_files.Labels({key: key.removeprefix("services_") for key in report_files.KEYS})
NOW = datetime(2026, 12, 1, tzinfo=UTC)


def _report():  # type: ignore[no-untyped-def]
    report = month_report(
        month=date(2026, 11, 1), targets=Targets(), alarms=[], visits=[], complaints=[], as_of=NOW
    )
    report.visits.counts[Outcome.ON_TIME] = 3
    report.visits.counts[Outcome.LATE] = 1
    return report


def test_without_a_cjk_font_the_pdf_is_refused_with_a_reason() -> None:
    with pytest.raises(report_files.NoReportFont) as refused:
        report_files.to_pdf(
            _report(), {}, LABELS, as_of=NOW, fonts=[(Path("/nonexistent/font.ttc"), 0)]
        )
    assert refused.value.status_code == 503 and "fonts-wqy-microhei" in refused.value.message


def test_the_csv_holds_the_counts_and_the_rate() -> None:
    text = report_files.to_csv(_report(), {}, LABELS)
    lines = text.splitlines()
    assert lines[0] == "month,2026-11"
    assert lines[1] == ",on_time,late,missed,pending,rate_on_time,mean_rating,score"
    assert "visits,3,1,0,0,0.750,," in lines
    assert report_files.percent(Tally().rate) == "—"
