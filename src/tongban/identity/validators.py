"""Check digits and masking for the two national identifiers.

公民身份号码 follows GB 11643-1999 (ISO 7064 MOD 11-2); 统一社会信用代码 follows GB 32100-2015
(weighted sum modulo 31). Both validators return the normalised value (upper case, no surrounding
spaces) so callers store one spelling.
"""

from __future__ import annotations

import datetime as dt

from tongban import clock
from tongban.errors import DomainError

# Province-level prefixes in GB/T 2260, plus 台湾 71 and 香港/澳门 81/82.
PROVINCE_PREFIXES = frozenset(
    {
        *("11", "12", "13", "14", "15"),
        *("21", "22", "23"),
        *("31", "32", "33", "34", "35", "36", "37"),
        *("41", "42", "43", "44", "45", "46"),
        *("50", "51", "52", "53", "54"),
        *("61", "62", "63", "64", "65"),
        *("71", "81", "82"),
    }
)

ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_CHECK_CHARS = "10X98765432"
# Nobody alive was born earlier; an earlier date is a typing error.
EARLIEST_BIRTH = dt.date(1850, 1, 1)

CREDIT_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
CREDIT_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


def _invalid_id(detail: str) -> DomainError:
    return DomainError("invalid_id_number", detail)


def _invalid_credit(detail: str) -> DomainError:
    return DomainError("invalid_credit_code", detail)


def citizen_id_check_char(body: str) -> str:
    """The 18th character for the first 17 digits."""
    total = sum(int(ch) * w for ch, w in zip(body, ID_WEIGHTS, strict=True))
    return ID_CHECK_CHARS[total % 11]


def credit_code_check_char(body: str) -> str:
    """The 18th character for the first 17 characters."""
    total = sum(CREDIT_ALPHABET.index(ch) * w for ch, w in zip(body, CREDIT_WEIGHTS, strict=True))
    return CREDIT_ALPHABET[(31 - total % 31) % 31]


def validate_citizen_id(value: str) -> str:
    """Return the normalised 公民身份号码 or raise DomainError(invalid_id_number)."""
    number = (value or "").strip().upper()
    if len(number) != 18:
        raise _invalid_id(f"公民身份号码应为 18 位，当前为 {len(number)} 位。")
    for position, ch in enumerate(number[:17], start=1):
        if not ch.isascii() or not ch.isdigit():
            raise _invalid_id(f"公民身份号码第 {position} 位“{ch}”无效：前 17 位只能是数字。")
    if not (number[17].isascii() and (number[17].isdigit() or number[17] == "X")):
        raise _invalid_id(f"公民身份号码第 18 位“{number[17]}”无效：校验码只能是数字或 X。")
    if number[:2] not in PROVINCE_PREFIXES:
        raise _invalid_id(f"公民身份号码的地址码“{number[:6]}”无效：前两位不是省级行政区划代码。")
    _check_birth_date(number[6:14])
    expected = citizen_id_check_char(number[:17])
    if number[17] != expected:
        raise _invalid_id("公民身份号码校验码不正确，请核对后重新输入。")
    return number


def _check_birth_date(digits: str) -> None:
    try:
        born = dt.date(int(digits[:4]), int(digits[4:6]), int(digits[6:8]))
    except ValueError:
        raise _invalid_id(f"公民身份号码的出生日期“{digits}”不是有效日期。") from None
    if born < EARLIEST_BIRTH:
        raise _invalid_id(f"公民身份号码的出生日期“{digits}”过早，不是有效日期。")
    if born > clock.today():
        raise _invalid_id(f"公民身份号码的出生日期“{digits}”晚于今天。")


def validate_credit_code(value: str) -> str:
    """Return the normalised 统一社会信用代码 or raise DomainError(invalid_credit_code)."""
    code = (value or "").strip().upper()
    if len(code) != 18:
        raise _invalid_credit(f"统一社会信用代码应为 18 位，当前为 {len(code)} 位。")
    for position, ch in enumerate(code, start=1):
        if ch not in CREDIT_ALPHABET:
            raise _invalid_credit(
                f"统一社会信用代码第 {position} 位“{ch}”无效：只能使用数字和除 I、O、Z、S、V 以外的大写字母。"
            )
    if code[17] != credit_code_check_char(code[:17]):
        raise _invalid_credit("统一社会信用代码校验码不正确，请核对后重新输入。")
    return code


def mask_id_number(value: str) -> str:
    """Keep the address code and the last four: 110105********002X."""
    number = (value or "").strip()
    if len(number) <= 10:
        return "*" * len(number)
    return number[:6] + "*" * (len(number) - 10) + number[-4:]


def mask_phone(value: str) -> str:
    """Keep the operator prefix and the last four: 138****5678."""
    phone = (value or "").strip()
    if len(phone) <= 7:
        return "*" * len(phone)
    return phone[:3] + "*" * (len(phone) - 7) + phone[-4:]
