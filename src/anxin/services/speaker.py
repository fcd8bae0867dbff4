"""Turn what the smart speaker heard into a draft booking, or refuse clearly.

Pure and rule-based: the recognised text and the current time go in; a `Draft` (scenario, start
in Asia/Shanghai, notes) or a `Refusal` (reason, words to say back) comes out. It never guesses:
two services, two days, two times, no time for a planned visit, a time already past or outside
service hours are refusals the elder hears, never a silent booking. Rules, not a model, so every
answer can be explained and the corpus in tests/services/data shows what it understands.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum

from anxin.core.clock import SHANGHAI
from anxin.services.catalogue import Scenario, ScenarioCode, scenario

# A planned visit may start between these local times; emergencies come at any hour.
OPENING = time(7, 0)
CLOSING = time(21, 0)

# Words for each scenario. Chinese matches as substrings (no word spaces); English as regular
# expressions on the lower-cased text with word boundaries.
_ZH: dict[ScenarioCode, tuple[str, ...]] = {
    ScenarioCode.CLEANING: ("保洁", "打扫", "扫地", "拖地", "搞卫生", "做卫生", "大扫除", "钟点工"),
    ScenarioCode.COOK_VISIT: ("做饭", "烧饭", "煮饭", "做菜", "烧菜", "做顿饭", "烧顿饭", "厨师"),
    ScenarioCode.MEAL_DELIVERY: ("送饭", "送餐", "助餐", "送个饭", "送份饭"),
    ScenarioCode.BATHING_HELP: ("洗澡", "助浴", "擦身", "洗个澡"),
    ScenarioCode.HOSPITAL_ESCORT: ("医院", "看病", "就医", "陪诊", "复诊", "看医生", "挂号"),
    ScenarioCode.MEDICATION_REMINDER: ("吃药", "服药", "用药"),
    ScenarioCode.HOME_REPAIR: ("维修", "修理", "修一下", "修修", "来修", "漏水", "坏了", "不亮了"),
    ScenarioCode.COMPANIONSHIP: ("聊天", "陪陪我", "说说话", "陪伴", "解闷", "散步", "聊聊"),
    ScenarioCode.REHAB_NURSING: ("康复", "理疗", "复健", "护士", "换药"),
    ScenarioCode.EMERGENCY_HELP: ("救命", "紧急", "摔倒", "跌倒", "摔了一跤", "快来人", "急救"),
}
_EN: dict[ScenarioCode, tuple[str, ...]] = {
    ScenarioCode.CLEANING: (r"clean\w*", r"tidy\w*", r"hoover\w*", r"vacuum\w*", r"housekeep\w*"),
    ScenarioCode.COOK_VISIT: (r"cook\w*", r"chef", r"make (?:me )?(?:lunch|dinner|a meal)"),
    ScenarioCode.MEAL_DELIVERY: (
        r"deliver\w* (?:\w+ ){0,2}(?:meals?|lunch|dinner|food)",
        r"(?:meals?|lunch|dinner|food) deliver\w*",
        r"meals on wheels",
    ),
    ScenarioCode.BATHING_HELP: (r"bath\w*", r"shower\w*", r"wash me"),
    ScenarioCode.HOSPITAL_ESCORT: (r"hospital", r"doctor'?s?", r"clinic", r"check-?up"),
    ScenarioCode.MEDICATION_REMINDER: (r"medicines?", r"medications?", r"pills?", r"tablets?"),
    ScenarioCode.HOME_REPAIR: (r"repair\w*", r"fix\w*", r"leak\w*", r"broken", r"plumber"),
    ScenarioCode.COMPANIONSHIP: (r"company", r"chat", r"companion\w*", r"lonely", r"talk to me"),
    ScenarioCode.REHAB_NURSING: (r"rehab\w*", r"physio\w*", r"nurse", r"nursing"),
    ScenarioCode.EMERGENCY_HELP: (r"emergency", r"i(?:'ve| have)? fallen", r"i fell", r"sos"),
}
_EN_RE = {code: re.compile(r"\b(?:" + "|".join(words) + r")\b") for code, words in _EN.items()}

# Requests to undo or not to do something are for the butler, not the speaker.
_NEGATION = re.compile(r"取消|不要|不用|别叫|别来|\bcancel\w*|\bdon'?t\b|\bdo not\b|\bno need\b")
_ALTERNATIVE = re.compile(r"或者|还是|\bor\b")

_ZH_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5}
_ZH_DIGITS |= {"六": 6, "七": 7, "八": 8, "九": 9}
_ZH_WEEKDAY = {"一": 0, "二": 1, "三": 2, "四": 3, "五": 4, "六": 5, "日": 6, "天": 6}
_EN_WEEKDAY = {
    "monday": 0, "mon": 0, "tuesday": 1, "tue": 1, "tues": 1, "wednesday": 2, "wed": 2,
    "thursday": 3, "thu": 3, "thurs": 3, "friday": 4, "fri": 4, "saturday": 5, "sat": 5,
    "sunday": 6, "sun": 6,
}  # fmt: skip
_EN_NUMBERS = {
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
    "nine": 9, "ten": 10, "eleven": 11, "twelve": 12,
}  # fmt: skip

_ZH_NUM = r"[0-9]{1,2}|[零〇一二两三四五六七八九十]{1,3}"
_ZH_CLOCK = re.compile(
    rf"({_ZH_NUM})\s*(?:点钟?|[:：]|時)\s*(半|一刻|三刻|[0-9]{{2}}|(?:{_ZH_NUM})分?)?"
)
# Digit look-arounds, not \b: Chinese characters are word characters, so "明天10:30" has none.
_DIGITAL = re.compile(r"(?<![0-9])([0-9]{1,2})[:：]([0-9]{2})(?![0-9])\s*(am|pm|a\.m\.|p\.m\.)?")
_EN_CLOCK = re.compile(
    r"\b(?:(half past|quarter past|quarter to) )?([0-9]{1,2}|"
    + "|".join(_EN_NUMBERS)
    + r")(?: ?o'?clock)?\s*(am|pm|a\.m\.|p\.m\.)?(?=\W|$)"
)


class Part(StrEnum):
    """A part of the day, with the hour a visit starts when only the part is said."""

    EARLY = "early"
    MORNING = "morning"
    LUNCH = "lunch"  # 中午, lunchtime: the lunch period
    MIDDAY = "midday"  # noon, midday: twelve o'clock
    AFTERNOON = "afternoon"
    DUSK = "dusk"
    EVENING = "evening"


# 中午 and "lunchtime" start at 11:00 so that a cook has lunch on the table by noon.
_PART_START = {
    Part.EARLY: time(8, 0),
    Part.MORNING: time(9, 0),
    Part.LUNCH: time(11, 0),
    Part.MIDDAY: time(12, 0),
    Part.AFTERNOON: time(14, 0),
    Part.DUSK: time(17, 0),
    Part.EVENING: time(18, 0),
}
_ZH_PARTS: tuple[tuple[str, Part], ...] = (
    ("早上", Part.EARLY), ("早晨", Part.EARLY), ("一早", Part.EARLY), ("明早", Part.EARLY),
    ("今早", Part.EARLY), ("上午", Part.MORNING), ("中午", Part.LUNCH), ("下午", Part.AFTERNOON),
    ("傍晚", Part.DUSK), ("晚上", Part.EVENING), ("今晚", Part.EVENING), ("明晚", Part.EVENING),
)  # fmt: skip
_EN_PARTS: tuple[tuple[str, Part], ...] = (
    (r"early morning", Part.EARLY), (r"morning", Part.MORNING), (r"lunch ?time", Part.LUNCH),
    (r"noon|midday", Part.MIDDAY), (r"afternoon", Part.AFTERNOON),
    (r"evening|tonight", Part.EVENING),
)  # fmt: skip


class Reason(StrEnum):
    UNKNOWN_SERVICE = "unknown_service"
    AMBIGUOUS_SERVICE = "ambiguous_service"
    AMBIGUOUS_DAY = "ambiguous_day"
    AMBIGUOUS_TIME = "ambiguous_time"
    NO_TIME = "no_time"
    PAST = "past"
    OUTSIDE_HOURS = "outside_hours"
    NOT_A_REQUEST = "not_a_request"
    ALTERNATIVES = "alternatives"


_REASON_WORDS: dict[Reason, tuple[str, str]] = {
    Reason.UNKNOWN_SERVICE: (
        "抱歉，没听明白您要什么服务。可以说“明天上午叫个保洁”。",
        "Sorry, I did not catch which service you need. Try “a cleaner tomorrow morning”.",
    ),
    Reason.AMBIGUOUS_SERVICE: (
        "您说了不止一种服务，请一次说一种，或者联系管家。",
        "You asked for more than one service; please ask for one at a time, or call your butler.",
    ),
    Reason.AMBIGUOUS_DAY: (
        "您说了不止一个日子，请说一个确定的日子。",
        "You mentioned more than one day; please say one day.",
    ),
    Reason.AMBIGUOUS_TIME: (
        "您说了不止一个时间，请说一个确定的时间。",
        "You mentioned more than one time; please say one time.",
    ),
    Reason.NO_TIME: (
        "请告诉我哪天、什么时间，比如“明天下午三点”。",
        "Please tell me the day and time, for example “tomorrow at 3 pm”.",
    ),
    Reason.PAST: (
        "这个时间已经过去了，请换一个时间。",
        "That time has already passed; please choose another.",
    ),
    Reason.OUTSIDE_HOURS: (
        "上门服务时间是早上7点到晚上9点，请换一个时间。",
        "Home visits run from 7 am to 9 pm; please choose another time.",
    ),
    Reason.NOT_A_REQUEST: (
        "取消或更改预约请联系您的管家。",
        "To cancel or change a booking, please call your butler.",
    ),
    Reason.ALTERNATIVES: (
        "您给了几个选择，请说一个确定的服务和时间，或者让管家帮您定。",
        "You gave a choice; please say one service and one time, or let your butler decide.",
    ),
}


@dataclass(frozen=True)
class Refusal:
    reason: Reason

    @property
    def zh(self) -> str:
        return _REASON_WORDS[self.reason][0]

    @property
    def en(self) -> str:
        return _REASON_WORDS[self.reason][1]


_WEEKDAY_ZH = "一二三四五六日"


@dataclass(frozen=True)
class Draft:
    """What the elder asked for, to be confirmed before anything is booked."""

    scenario: ScenarioCode
    start: datetime  # Asia/Shanghai; the moment of the request for an emergency
    asap: bool
    notes: str

    @property
    def service(self) -> Scenario:
        return scenario(self.scenario)

    @property
    def zh(self) -> str:
        s = self.service
        if self.asap:
            return f"收到，已通知管家为您安排{s.zh}，请保持电话畅通。"
        when = f"{self.start.month}月{self.start.day}日(周{_WEEKDAY_ZH[self.start.weekday()]})"
        return (
            f"为您预约{when}{self.start:%H:%M}的{s.zh}，约{s.duration_minutes}分钟，"
            f"费用{s.price}元。请说“确认”下单。"
        )

    @property
    def en(self) -> str:
        s = self.service
        if self.asap:
            return f"Your butler has been told and is arranging {s.en.lower()} now."
        return (
            f"{s.en} on {self.start:%A %d %B} at {self.start:%H:%M}, about "
            f"{s.duration_minutes} minutes, ¥{s.price}. Say “confirm” to book it."
        )


Interpretation = Draft | Refusal


def interpret(text: str, now: datetime) -> Interpretation:
    """Read one recognised utterance against `now` (UTC-aware)."""
    said = " ".join(text.lower().split())
    if _NEGATION.search(said):
        return Refusal(Reason.NOT_A_REQUEST)
    services = _services(said)
    if not services:
        return Refusal(Reason.UNKNOWN_SERVICE)
    if len(services) > 1:
        return Refusal(Reason.AMBIGUOUS_SERVICE)
    code = services.pop()
    if _ALTERNATIVE.search(said):
        return Refusal(Reason.ALTERNATIVES)
    local_now = now.astimezone(SHANGHAI)
    notes = text.strip()
    if code == ScenarioCode.EMERGENCY_HELP:
        return Draft(code, local_now, asap=True, notes=notes)
    days = _days(said, local_now.date())
    if len(days) > 1:
        return Refusal(Reason.AMBIGUOUS_DAY)
    clock = _clock(said)
    if isinstance(clock, Refusal):
        return clock
    if clock is None:
        return Refusal(Reason.NO_TIME)
    day = days.pop() if days else local_now.date()
    start = datetime.combine(day, clock, tzinfo=SHANGHAI)
    if start < local_now:
        return Refusal(Reason.PAST)
    if not OPENING <= clock <= CLOSING:
        return Refusal(Reason.OUTSIDE_HOURS)
    return Draft(code, start, asap=False, notes=notes)


def _services(said: str) -> set[ScenarioCode]:
    found = {code for code, words in _ZH.items() if any(w in said for w in words)}
    found |= {code for code, pattern in _EN_RE.items() if pattern.search(said)}
    return found


def _zh_number(word: str) -> int | None:
    if word.isdigit():
        return int(word)
    if "十" in word:
        tens, _, units = word.partition("十")
        high = _ZH_DIGITS.get(tens, -1) if tens else 1
        low = _ZH_DIGITS.get(units, -1) if units else 0
        return None if high < 0 or low < 0 else high * 10 + low
    if len(word) == 1 and word in _ZH_DIGITS:
        return _ZH_DIGITS[word]
    return None


def _days(said: str, today: date) -> set[date]:
    """Every day the utterance names; more than one is ambiguous."""
    found: set[date] = set()
    rest = said
    relative = (
        ("大后天", 3), ("后天", 2), ("明天", 1), ("明早", 1), ("明晚", 1), ("明儿", 1),
        ("今天", 0), ("今早", 0), ("今晚", 0), ("今儿", 0),
        ("the day after tomorrow", 2), ("day after tomorrow", 2), ("tomorrow", 1),
        ("today", 0), ("tonight", 0), ("this morning", 0), ("this afternoon", 0),
        ("this evening", 0),
    )  # fmt: skip
    for word, offset in relative:
        if word in rest:
            found.add(today + timedelta(days=offset))
            rest = rest.replace(word, " ")
    monday = today - timedelta(days=today.weekday())
    for m in re.finditer(r"下个?(?:周|星期|礼拜)([一二三四五六日天])", rest):
        found.add(monday + timedelta(days=7 + _ZH_WEEKDAY[m.group(1)]))
    rest = re.sub(r"下个?(?:周|星期|礼拜)[一二三四五六日天]", " ", rest)
    for m in re.finditer(r"(?:(?:这|本)个?)?(?:周|星期|礼拜)([一二三四五六日天])", rest):
        found.add(_upcoming(today, _ZH_WEEKDAY[m.group(1)]))
    names = "|".join(sorted(_EN_WEEKDAY, key=len, reverse=True))
    for m in re.finditer(rf"\b(next |this |on |coming )?({names})\b", rest):
        weekday = _EN_WEEKDAY[m.group(2)]
        if m.group(1) == "next ":  # as 下周: the day in next week, Monday-based
            found.add(monday + timedelta(days=7 + weekday))
        else:
            found.add(_upcoming(today, weekday))
    for m in re.finditer(r"(?:([0-9]{1,2})月)?([0-9]{1,2})[日号]", rest):
        day = _calendar_day(today, int(m.group(1)) if m.group(1) else None, int(m.group(2)))
        if day is not None:
            found.add(day)
    return found


def _upcoming(today: date, weekday: int) -> date:
    return today + timedelta(days=(weekday - today.weekday()) % 7)


def _calendar_day(today: date, month: int | None, day: int) -> date | None:
    """A day of a month not yet past: this month or year, else the next one."""
    year, mon = today.year, month or today.month
    for _ in range(2):
        try:
            candidate = date(year, mon, day)
        except ValueError:
            return None
        if candidate >= today:
            return candidate
        if month is None:
            year, mon = (year + 1, 1) if mon == 12 else (year, mon + 1)
        else:
            year += 1
    return None


def _part(said: str) -> set[Part]:
    parts = {part for word, part in _ZH_PARTS if word in said}
    parts |= {part for word, part in _EN_PARTS if re.search(rf"\b(?:{word})\b", said)}
    if Part.EARLY in parts:
        parts.discard(Part.MORNING)
    return parts


def _clock(said: str) -> time | Refusal | None:
    """The start time said: an explicit clock time (with its part of day), else the part's."""
    parts = _part(said)
    explicit = _explicit_times(said)
    if len(explicit) > 1 or (len(parts) > 1 and not explicit):
        return Refusal(Reason.AMBIGUOUS_TIME)
    if not explicit:
        return _PART_START[parts.pop()] if parts else None
    hour, minute, meridiem = explicit.pop()
    if not (0 <= hour <= 24 and 0 <= minute < 60):
        return Refusal(Reason.AMBIGUOUS_TIME)
    day_hour = _afternoon_aware(hour, meridiem, parts)
    if day_hour is None:
        return Refusal(Reason.AMBIGUOUS_TIME)
    return time(day_hour, minute)


def _afternoon_aware(hour: int, meridiem: str | None, parts: set[Part]) -> int | None:
    """Make the hour a 24-hour one from am/pm or the part of day said with it."""
    if meridiem == "24h":
        return hour
    if meridiem is not None:
        if hour > 12:
            return None
        if meridiem.startswith("p"):
            return hour % 12 + 12
        return hour % 12
    pm = bool(parts & {Part.AFTERNOON, Part.DUSK, Part.EVENING})
    if pm and hour < 12:
        return hour + 12
    if parts & {Part.LUNCH, Part.MIDDAY} and hour <= 2:
        return hour + 12
    if parts or hour >= 12:
        return hour if hour < 24 else None
    # A bare 1–6 o'clock is afternoon: nobody books a home visit at 3 in the morning.
    return hour + 12 if 1 <= hour <= 6 else hour


def _explicit_times(said: str) -> set[tuple[int, int, str | None]]:
    found: set[tuple[int, int, str | None]] = set()
    rest = said
    for m in _DIGITAL.finditer(rest):
        # "01:30" is a 24-hour clock reading; "1:30" is spoken and follows the rules for hours.
        literal = "24h" if m.group(1).startswith("0") and not m.group(3) else None
        found.add((int(m.group(1)), int(m.group(2)), literal or _meridiem(m.group(3))))
    rest = _DIGITAL.sub(" ", rest)
    for m in _ZH_CLOCK.finditer(rest):
        hour = _zh_number(m.group(1))
        minute = _zh_minutes(m.group(2))
        if hour is None or minute is None:
            found.add((99, 0, None))  # a clock word we cannot read is ambiguous, not ignored
        else:
            found.add((hour, minute, None))
    rest = _ZH_CLOCK.sub(" ", rest)
    for m in _EN_CLOCK.finditer(rest):
        prefix, number, meridiem = m.group(1), m.group(2), _meridiem(m.group(3))
        spoken_as_time = prefix or meridiem or "clock" in m.group(0)
        preceded_by_at = rest[max(0, m.start() - 3) : m.start()] == "at "
        if not (spoken_as_time or preceded_by_at):
            continue  # "2 hours", "the 5th": a number, not a time
        hour = int(number) if number.isdigit() else _EN_NUMBERS[number]
        minute = 0
        if prefix == "half past":
            minute = 30
        elif prefix == "quarter past":
            minute = 15
        elif prefix == "quarter to":
            hour, minute = hour - 1, 45
        found.add((hour, minute, meridiem))
    return found


def _meridiem(word: str | None) -> str | None:
    return None if word is None else word.replace(".", "")


def _zh_minutes(word: str | None) -> int | None:
    if not word:
        return 0
    special = {"半": 30, "一刻": 15, "三刻": 45}
    if word in special:
        return special[word]
    return _zh_number(word.removesuffix("分"))
