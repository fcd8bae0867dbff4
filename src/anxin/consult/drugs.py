"""Prescription safety checks (pure): a drug against recorded allergies and against the drugs
the elder already takes.

Names are free text in Chinese, English or both ("阿莫西林 amoxicillin"); a name is read as a
set of ingredient words, and a word in a known drug class stands for the whole class, so an
allergy to penicillin refuses amoxicillin. The class table is short on purpose: it holds the
cross-reactions a family doctor must not miss, not a formulary.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import time

# class -> member words (zh and en); the class name itself is a member too.
CLASSES: dict[str, frozenset[str]] = {
    "penicillin": frozenset(
        {
            "penicillin",
            "青霉素",
            "amoxicillin",
            "阿莫西林",
            "ampicillin",
            "氨苄西林",
            "piperacillin",
            "哌拉西林",
            "oxacillin",
            "苯唑西林",
            "penicillins",
        }
    ),
    "cephalosporin": frozenset(
        {
            "cephalosporin",
            "头孢",
            "cefalexin",
            "头孢氨苄",
            "cefuroxime",
            "头孢呋辛",
            "ceftriaxone",
            "头孢曲松",
            "cefixime",
            "头孢克肟",
            "cephalosporins",
        }
    ),
    "sulfonamide": frozenset(
        {
            "sulfonamide",
            "磺胺",
            "sulfamethoxazole",
            "磺胺甲恶唑",
            "co-trimoxazole",
            "复方新诺明",
            "sulfa",
            "sulfonamides",
        }
    ),
    "nsaid": frozenset(
        {
            "nsaid",
            "aspirin",
            "阿司匹林",
            "ibuprofen",
            "布洛芬",
            "diclofenac",
            "双氯芬酸",
            "naproxen",
            "萘普生",
            "nsaids",
            "非甾体抗炎药",
        }
    ),
    "statin": frozenset(
        {
            "statin",
            "atorvastatin",
            "阿托伐他汀",
            "rosuvastatin",
            "瑞舒伐他汀",
            "simvastatin",
            "辛伐他汀",
            "statins",
            "他汀",
        }
    ),
}
_CLASS_OF: dict[str, str] = {word: name for name, words in CLASSES.items() for word in words}
_SPLIT = re.compile(r"[\s,;/()（）、，]+")

# Frequency codes and the Shanghai times their reminders fire at.
FREQUENCY_TIMES: dict[str, tuple[time, ...]] = {
    "qd": (time(8, 0),),
    "bid": (time(8, 0), time(20, 0)),
    "tid": (time(8, 0), time(13, 0), time(19, 0)),
    "qid": (time(8, 0), time(12, 0), time(17, 0), time(21, 0)),
    "qn": (time(21, 0),),  # every night
    "prn": (),  # as needed: no reminder
}


def words(name: str) -> frozenset[str]:
    """The ingredient words of a drug or substance name, lower-cased."""
    return frozenset(w for w in _SPLIT.split(name.casefold()) if w)


def _keys(name: str) -> frozenset[str]:
    # A word stands for itself and, when it is in a class, for the class.
    found = set()
    for word in words(name):
        found.add(word)
        if word in _CLASS_OF:
            found.add("class:" + _CLASS_OF[word])
    return frozenset(found)


def same_substance(a: str, b: str) -> bool:
    """Whether two names share an ingredient or a drug class."""
    return bool(_keys(a) & _keys(b))


@dataclass(frozen=True)
class DrugWarning:
    kind: str  # allergy | duplicate
    field: str
    reason: str


def check(
    drug: str, *, allergies: Iterable[tuple[str, str | None]], active: Iterable[str]
) -> list[DrugWarning]:
    """Warnings for prescribing `drug` to an elder with these allergies (substance, reaction)
    who takes these active drugs; empty when it is safe by these checks."""
    out: list[DrugWarning] = []
    for substance, reaction in allergies:
        if same_substance(drug, substance):
            seen = f" ({reaction})" if reaction else ""
            out.append(DrugWarning("allergy", "drug", f"recorded allergy to {substance}{seen}"))
    for other in active:
        if same_substance(drug, other):
            out.append(DrugWarning("duplicate", "drug", f"already taking {other}"))
    return out
