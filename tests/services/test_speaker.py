"""The speaker parser against a corpus of real-sounding phrasings, and its refusals."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from anxin.core.clock import SHANGHAI
from anxin.services.catalogue import FROM_PRESCRIPTION, ScenarioCode
from anxin.services.speaker import CLOSING, OPENING, Draft, Reason, Refusal, interpret

CORPUS = json.loads((Path(__file__).parent / "data" / "speaker_corpus.json").read_text("utf-8"))
NOW = datetime.fromisoformat(CORPUS["now"])
PHRASES: list[dict[str, Any]] = CORPUS["phrases"]
# The accuracy measured on the corpus (docs/services.md reports it); the floor the tests hold.
ACCURACY_FLOOR = 0.90


def _matches(result: Draft | Refusal, expect: Any) -> bool:
    if expect == "refuse":
        return isinstance(result, Refusal)
    if not isinstance(result, Draft) or result.scenario != expect["scenario"]:
        return False
    if expect.get("asap"):
        return result.asap
    return (
        not result.asap
        and result.start.date().isoformat() == expect["date"]
        and result.start.strftime("%H:%M") == expect["time"]
    )


def test_corpus_is_large_and_bilingual() -> None:
    assert len(PHRASES) >= 50
    chinese = [p for p in PHRASES if any("\u4e00" <= ch <= "\u9fff" for ch in p["text"])]
    assert len(chinese) >= 20 and len(PHRASES) - len(chinese) >= 20
    booked = {p["expect"]["scenario"] for p in PHRASES if p["expect"] != "refuse"}
    # every scenario a person can ask for is asked for; a medicine delivery comes only from a
    # doctor's prescription (it names the drugs), never from the speaker
    assert booked == {code.value for code in ScenarioCode if code not in FROM_PRESCRIPTION}


def test_corpus_accuracy() -> None:
    wrong = [p["text"] for p in PHRASES if not _matches(interpret(p["text"], NOW), p["expect"])]
    accuracy = 1 - len(wrong) / len(PHRASES)
    assert accuracy >= ACCURACY_FLOOR, f"accuracy {accuracy:.1%}; wrong: {wrong}"


@pytest.mark.parametrize(
    "text", [p["text"] for p in PHRASES if p["expect"] == "refuse"], ids=lambda t: t[:24]
)
def test_every_unclear_phrase_is_refused_not_booked(text: str) -> None:
    result = interpret(text, NOW)
    assert isinstance(result, Refusal), result
    assert result.zh and result.en  # the elder hears why


def test_no_phrase_is_booked_as_another_service_or_time() -> None:
    """A phrase the parser gets wrong must be refused, never drafted with other facts."""
    for p in PHRASES:
        result = interpret(p["text"], NOW)
        if isinstance(result, Draft):
            assert _matches(result, p["expect"]), (p["text"], result)


def test_reasons_are_specific() -> None:
    assert interpret("明天帮我叫个保洁", NOW) == Refusal(Reason.NO_TIME)
    assert interpret("帮我叫个阿姨", NOW) == Refusal(Reason.UNKNOWN_SERVICE)
    assert interpret("明天上午来做饭顺便打扫一下", NOW) == Refusal(Reason.AMBIGUOUS_SERVICE)
    assert interpret("今天早上八点来打扫", NOW) == Refusal(Reason.PAST)
    assert interpret("明天晚上十点提醒我吃药", NOW) == Refusal(Reason.OUTSIDE_HOURS)
    assert interpret("取消明天的保洁", NOW) == Refusal(Reason.NOT_A_REQUEST)
    assert interpret("明天或者后天来打扫卫生", NOW) == Refusal(Reason.ALTERNATIVES)


def test_confirmation_names_the_day_time_and_price() -> None:
    draft = interpret("明天中午帮我叫个做饭的阿姨", NOW)
    assert isinstance(draft, Draft)
    assert (
        draft.zh
        == "为您预约12月8日(周二)11:00的上门做饭，约120分钟，费用120.00元。请说“确认”下单。"
    )
    assert "Tuesday 08 December at 11:00" in draft.en
    assert draft.notes == "明天中午帮我叫个做饭的阿姨"
    assert draft.start.tzinfo is SHANGHAI


def test_emergency_is_now_whatever_the_hour() -> None:
    midnight = datetime(2026, 12, 7, 16, 30, tzinfo=UTC)  # 00:30 in Shanghai
    draft = interpret("我摔倒了，快来人", midnight)
    assert isinstance(draft, Draft) and draft.asap and draft.start == midnight


@settings(deadline=None)  # a property, not a speed test: a busy machine must not fail it
@given(
    minutes=st.integers(min_value=0, max_value=7 * 24 * 60),
    hour=st.integers(min_value=0, max_value=23),
    minute=st.sampled_from([0, 15, 30, 45]),
    offset=st.integers(min_value=0, max_value=3),
)
def test_any_draft_is_in_the_future_and_within_hours(
    minutes: int, hour: int, minute: int, offset: int
) -> None:
    now = NOW + timedelta(minutes=minutes)
    day = ("今天", "明天", "后天", "大后天")[offset]
    result = interpret(f"{day}{hour:02d}:{minute:02d}来打扫", now)
    if isinstance(result, Draft):
        assert result.start >= now
        assert OPENING <= result.start.timetz().replace(tzinfo=None) <= CLOSING
        local = now.astimezone(SHANGHAI).date()
        assert result.start.date() == local + timedelta(days=offset)
        assert (result.start.hour, result.start.minute) == (hour, minute)
    else:
        assert result.reason in {Reason.PAST, Reason.OUTSIDE_HOURS}
