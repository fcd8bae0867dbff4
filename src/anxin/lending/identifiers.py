"""The identifiers a loan application carries, validated with their check characters.

* Unified social credit code (统一社会信用代码), GB 32100-2015: 18 characters from the 31-character
  set 0-9 and A-Z without I, O, Z, S, V. Position 1 is the registration authority, 2 the
  entity type, 3-8 the administrative division (6 digits), 9-17 the organisation code and 18
  the check character: with the characters valued 0..30 and weights Wi = 3^(i-1) mod 31,
  C18 = 31 − (Σ Ci·Wi mod 31), where 31 means 0.
* Resident identity number (公民身份号码), GB 11643-1999: 6-digit address code, 8-digit birth
  date (YYYYMMDD), 3-digit sequence (odd for men, even for women) and a check digit by
  ISO 7064 MOD 11-2: weights Wi = 2^(18-i) mod 11, check = (12 − Σ ai·Wi mod 11) mod 11, with
  10 written X.

Each failure carries a reason sentence; the API will answer 422 naming the field with it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

USCC_CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_VALUE = {c: i for i, c in enumerate(USCC_CHARSET)}
_USCC_WEIGHTS = tuple(pow(3, i, 31) for i in range(17))
_ID_WEIGHTS = tuple(pow(2, 17 - i, 11) for i in range(17))
# GB/T 2260 province-level codes: the first two digits of an address code.
_PROVINCES = frozenset(
    {11, 12, 13, 14, 15, 21, 22, 23, 31, 32, 33, 34, 35, 36, 37, 41, 42, 43, 44, 45, 46}
    | {50, 51, 52, 53, 54, 61, 62, 63, 64, 65, 71, 81, 82}
)


class InvalidIdentifier(ValueError):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def uscc_check_character(body: str) -> str:
    """The check character of the first 17 characters of a unified social credit code."""
    total = sum(_USCC_VALUE[c] * w for c, w in zip(body, _USCC_WEIGHTS, strict=True))
    return USCC_CHARSET[(31 - total % 31) % 31]


@dataclass(frozen=True)
class SocialCreditCode:
    code: str

    @property
    def registration_authority(self) -> str:
        return self.code[0]

    @property
    def entity_type(self) -> str:
        return self.code[1]

    @property
    def division(self) -> str:
        return self.code[2:8]

    @property
    def organisation_code(self) -> str:
        return self.code[8:17]


def parse_uscc(value: str) -> SocialCreditCode:
    """A valid unified social credit code (upper-cased, spaces around trimmed), or
    `InvalidIdentifier` saying why not."""
    code = value.strip().upper()
    if len(code) != 18:
        raise InvalidIdentifier(f"a unified social credit code has 18 characters, not {len(code)}")
    bad = sorted({c for c in code if c not in _USCC_VALUE})
    if bad:
        raise InvalidIdentifier(
            f"characters not allowed in a unified social credit code: {''.join(bad)} "
            "(I, O, Z, S and V are never used)"
        )
    if not code[2:8].isdigit():
        raise InvalidIdentifier("characters 3-8 (the administrative division) must be digits")
    expected = uscc_check_character(code[:17])
    if code[17] != expected:
        raise InvalidIdentifier(
            f"the check character is {code[17]}, but GB 32100 gives {expected} for this code"
        )
    return SocialCreditCode(code)


def resident_id_check_digit(body: str) -> str:
    """The check digit (0-9 or X) of the first 17 digits of a resident identity number."""
    total = sum(int(c) * w for c, w in zip(body, _ID_WEIGHTS, strict=True))
    check = (12 - total % 11) % 11
    return "X" if check == 10 else str(check)


@dataclass(frozen=True)
class ResidentId:
    number: str
    birth_date: date

    @property
    def address_code(self) -> str:
        return self.number[:6]

    @property
    def sex(self) -> str:
        """ "M" or "F": the sequence code is odd for men, even for women."""
        return "M" if int(self.number[16]) % 2 else "F"


def parse_resident_id(value: str, today: date | None = None) -> ResidentId:
    """A valid 18-digit resident identity number, or `InvalidIdentifier` saying why not. With
    `today`, a birth date after it is refused."""
    number = value.strip().upper()
    if len(number) != 18:
        raise InvalidIdentifier(f"a resident identity number has 18 characters, not {len(number)}")
    if not number[:17].isdigit() or not (number[17].isdigit() or number[17] == "X"):
        raise InvalidIdentifier("the first 17 characters must be digits, the last a digit or X")
    if int(number[:2]) not in _PROVINCES:
        raise InvalidIdentifier(f"{number[:2]} is not a province code (GB/T 2260)")
    try:
        born = date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        raise InvalidIdentifier(f"characters 7-14 ({number[6:14]}) are not a date") from None
    if born.year < 1900 or (today is not None and born > today):
        raise InvalidIdentifier(f"the birth date {born.isoformat()} is not possible")
    expected = resident_id_check_digit(number[:17])
    if number[17] != expected:
        raise InvalidIdentifier(
            f"the check digit is {number[17]}, but GB 11643 gives {expected} for this number"
        )
    return ResidentId(number, born)


def checked_uscc(value: str) -> str:
    """A Pydantic validator: the code normalised, or a ValueError with the reason (a 422)."""
    try:
        return parse_uscc(value).code
    except InvalidIdentifier as e:
        raise ValueError(e.reason) from None
