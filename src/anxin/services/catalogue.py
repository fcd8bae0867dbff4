"""The home-service scenarios of the home-care membership, as data: the ten of the membership
and the delivery of prescribed medicines (issue 19).

Pure: no I/O. Prices are the platform's list prices in yuan (Decimal, to the fen); an
organisation's contract with a provider may differ, which is why bookings copy the price they
were made at instead of pointing here.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from anxin.core.money import to_money


class Skill(StrEnum):
    CLEANING = "cleaning"
    COOKING = "cooking"
    DELIVERY = "delivery"
    PERSONAL_CARE = "personal_care"  # bathing, toileting: needs a certified carer (养老护理员)
    ESCORT = "escort"
    MEDICATION = "medication"
    REPAIR = "repair"
    COMPANIONSHIP = "companionship"
    NURSING = "nursing"  # a licensed nurse or rehabilitation therapist
    FIRST_AID = "first_aid"


class ScenarioCode(StrEnum):
    CLEANING = "cleaning"
    COOK_VISIT = "cook_visit"
    MEAL_DELIVERY = "meal_delivery"
    BATHING_HELP = "bathing_help"
    HOSPITAL_ESCORT = "hospital_escort"
    MEDICATION_REMINDER = "medication_reminder"
    HOME_REPAIR = "home_repair"
    COMPANIONSHIP = "companionship"
    REHAB_NURSING = "rehab_nursing"
    EMERGENCY_HELP = "emergency_help"
    MEDICINE_DELIVERY = "medicine_delivery"  # from a doctor's prescription (issue 19)


@dataclass(frozen=True)
class CheckItem:
    code: str
    zh: str
    en: str


@dataclass(frozen=True)
class Scenario:
    code: ScenarioCode
    zh: str
    en: str
    duration_minutes: int
    price: Decimal
    skills: frozenset[Skill]
    checklist: tuple[CheckItem, ...]

    @property
    def urgent(self) -> bool:
        """Urgent scenarios go to the top of the butler's queue and are served now, not booked."""
        return self.code == ScenarioCode.EMERGENCY_HELP


def _scenario(
    code: ScenarioCode,
    zh: str,
    en: str,
    minutes: int,
    price: str,
    skills: set[Skill],
    checklist: list[tuple[str, str, str]],
) -> Scenario:
    return Scenario(
        code=code,
        zh=zh,
        en=en,
        duration_minutes=minutes,
        price=to_money(price),
        skills=frozenset(skills),
        checklist=tuple(CheckItem(c, z, e) for c, z, e in checklist),
    )


CATALOGUE: dict[ScenarioCode, Scenario] = {
    s.code: s
    for s in (
        _scenario(
            ScenarioCode.CLEANING,
            "居家保洁",
            "Home cleaning",
            120,
            "100.00",
            {Skill.CLEANING},
            [
                ("floors", "地面清扫拖洗", "Floors swept and mopped"),
                ("kitchen", "厨房台面与灶台清洁", "Kitchen worktops and hob cleaned"),
                ("bathroom", "卫生间清洁、地面防滑擦干", "Bathroom cleaned, floor dried (no slip)"),
                ("rubbish", "垃圾分类带走", "Rubbish sorted and taken out"),
            ],
        ),
        _scenario(
            ScenarioCode.COOK_VISIT,
            "上门做饭",
            "Cook visit",
            120,
            "120.00",
            {Skill.COOKING},
            [
                ("diet", "核对饮食禁忌(低盐、低糖、软食)", "Diet checked (low salt, sugar, soft)"),
                ("meal", "做好一餐并上桌", "One meal cooked and served"),
                ("fridge", "剩菜封存冷藏并标注日期", "Leftovers covered, dated, refrigerated"),
                ("gas", "关闭燃气阀门", "Gas valve closed"),
            ],
        ),
        _scenario(
            ScenarioCode.MEAL_DELIVERY,
            "助餐送餐",
            "Meal delivery",
            30,
            "25.00",
            {Skill.DELIVERY},
            [
                ("handed", "餐食当面交给老人", "Meal handed to the elder in person"),
                ("temperature", "餐食温热", "Meal delivered warm"),
            ],
        ),
        _scenario(
            ScenarioCode.BATHING_HELP,
            "助浴",
            "Bathing help",
            60,
            "150.00",
            {Skill.PERSONAL_CARE},
            [
                ("check", "洗前测量血压、询问身体状况", "Blood pressure and wellbeing checked"),
                ("water", "水温 38–40°C、防滑垫到位", "Water at 38–40 °C, non-slip mat down"),
                ("bath", "协助洗浴、擦干、更衣", "Helped to bathe, dry and dress"),
                ("skin", "检查皮肤有无压红破损", "Skin checked for redness or sores"),
            ],
        ),
        _scenario(
            ScenarioCode.HOSPITAL_ESCORT,
            "陪同就医",
            "Accompanied hospital visit",
            240,
            "300.00",
            {Skill.ESCORT},
            [
                ("documents", "携带医保卡、病历、药品清单", "Insurance card, records, drug list"),
                ("registration", "挂号、缴费、取药", "Registration, payment, pharmacy done"),
                ("home", "安全送回家中", "Brought safely home"),
                ("report", "就诊结果告知家属/管家", "Outcome reported to family or butler"),
            ],
        ),
        _scenario(
            ScenarioCode.MEDICATION_REMINDER,
            "用药提醒",
            "Medication reminder",
            15,
            "10.00",
            {Skill.MEDICATION},
            [
                ("taken", "看着老人按医嘱服药", "Medicine taken as prescribed, observed"),
                ("stock", "清点余药，不足七天提醒家属", "Stock counted; family told if < 7 days"),
            ],
        ),
        _scenario(
            ScenarioCode.HOME_REPAIR,
            "居家维修",
            "Home repair",
            60,
            "80.00",
            {Skill.REPAIR},
            [
                ("fixed", "故障已修复并当面试用", "Fault fixed and tried in front of the elder"),
                ("safety", "检查水电燃气安全", "Water, power and gas safety checked"),
                ("clean", "清理施工现场", "Work area cleaned up"),
            ],
        ),
        _scenario(
            ScenarioCode.COMPANIONSHIP,
            "陪伴聊天",
            "Companionship",
            120,
            "100.00",
            {Skill.COMPANIONSHIP},
            [
                ("visit", "陪伴聊天或散步", "Talk or walk together"),
                ("mood", "记录老人情绪与需求", "Mood and wishes noted"),
            ],
        ),
        _scenario(
            ScenarioCode.REHAB_NURSING,
            "康复护理",
            "Rehabilitation nursing",
            60,
            "200.00",
            {Skill.NURSING},
            [
                ("vitals", "测量血压、心率", "Blood pressure and heart rate measured"),
                ("exercise", "按康复计划完成训练", "Exercises done as planned"),
                ("record", "填写护理记录", "Nursing record written"),
            ],
        ),
        _scenario(
            ScenarioCode.EMERGENCY_HELP,
            "紧急援助",
            "Emergency help",
            60,
            "0.00",  # part of the membership: nobody should hesitate over a price in an emergency
            {Skill.FIRST_AID},
            [
                ("arrived", "到达现场并确认老人状况", "On site, elder's condition checked"),
                (
                    "called",
                    "必要时拨打 120 并通知家属",
                    "Ambulance (120), family called if needed",
                ),
                ("handover", "与医护或家属完成交接", "Handed over to medics or family"),
            ],
        ),
        _scenario(
            ScenarioCode.MEDICINE_DELIVERY,
            "送药上门",
            "Medicine delivery",
            30,
            "15.00",
            {Skill.DELIVERY},
            [
                ("checked", "核对处方:药名、规格、数量", "Checked against the prescription"),
                ("handover", "交给老人或家属并说明用法", "Handed over, with how to take it"),
                ("receipt", "收据和说明书留在家中", "Receipt and leaflets left at home"),
            ],
        ),
    )
}
# Booked from a prescription on the consultation page, not from the services form: the order
# names the drugs the doctor prescribed (`book_medicine_delivery`).
FROM_PRESCRIPTION = frozenset({ScenarioCode.MEDICINE_DELIVERY})


def scenario(code: ScenarioCode | str) -> Scenario:
    return CATALOGUE[ScenarioCode(code)]
