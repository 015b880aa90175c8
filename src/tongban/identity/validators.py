"""The two national identifiers, checked against their standards, and masking.

公民身份号码 (GB 11643-1999): 6-digit address code, 8-digit birth date, 3-digit sequence, ISO 7064 MOD 11-2
check character. The address code must be one GB/T 2260 has listed in some edition since 1980 (old cards
keep the code of a county abolished since), or a 港澳台居民居住证 code (810000, 820000, 830000).

统一社会信用代码 (GB 32100-2015): registering department (1), organisation type (1), registration-authority
region code (6 digits, positions 3–8), GB 11714-1997 organisation code (9, positions 9–17, with its own
check character) and the GB 32100 check character (weighted sum modulo 31). The region code must be one
GB/T 2260 has listed, the national 100000, or a registration authority outside GB/T 2260 that real codes
carry (content/regions/registration_codes.csv).

Both validators return the normalised value (upper case, no surrounding spaces) so callers store one spelling.
"""

from __future__ import annotations

import datetime as dt

from tongban import clock
from tongban.errors import DomainError
from tongban.regions.codes import NATIONAL_REGISTRATION_CODE, RESIDENCE_PERMIT_CODES, code_lists

# Province-level prefixes in GB/T 2260 (mainland), plus the residence-permit prefixes 81/82/83.
PROVINCE_PREFIXES = frozenset(
    {
        *("11", "12", "13", "14", "15"),
        *("21", "22", "23"),
        *("31", "32", "33", "34", "35", "36", "37"),
        *("41", "42", "43", "44", "45", "46"),
        *("50", "51", "52", "53", "54"),
        *("61", "62", "63", "64", "65"),
        *(code[:2] for code in RESIDENCE_PERMIT_CODES),
    }
)
TAIWAN_PREFIX = "71"

ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_CHECK_CHARS = "10X98765432"
# Nobody alive was born earlier; an earlier date is a typing error.
EARLIEST_BIRTH = dt.date(1850, 1, 1)

CREDIT_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
CREDIT_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
# GB 11714-1997: the organisation code's 8-character body; letters count A=10 … Z=35.
ORGANISATION_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)
# A generated organisation code starts with MA, as new registrations do, so it can never equal one of the
# all-digit codes issued before 2015; six base-31 characters follow.
GENERATED_PREFIX = "MA"
GENERATED_SERIALS = len(CREDIT_ALPHABET) ** (8 - len(GENERATED_PREFIX))


def _invalid_id(detail: str) -> DomainError:
    return DomainError("invalid_id_number", detail)


def _invalid_credit(detail: str) -> DomainError:
    return DomainError("invalid_credit_code", detail)


# --- 公民身份号码 ------------------------------------------------------------------------------------------


def citizen_id_check_char(body: str) -> str:
    """The 18th character for the first 17 digits."""
    total = sum(int(ch) * w for ch, w in zip(body, ID_WEIGHTS, strict=True))
    return ID_CHECK_CHARS[total % 11]


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
    _check_address_code(number[:6])
    _check_birth_date(number[6:14])
    expected = citizen_id_check_char(number[:17])
    if number[17] != expected:
        raise _invalid_id("公民身份号码校验码不正确，请核对后重新输入。")
    return number


def _check_address_code(code: str) -> None:
    if code[:2] == TAIWAN_PREFIX:
        raise _invalid_id(f"公民身份号码的地址码“{code}”无效：台湾居民居住证号码的地址码为 830000。")
    if code[:2] not in PROVINCE_PREFIXES:
        raise _invalid_id(f"公民身份号码的地址码“{code}”无效：前两位不是省级行政区划代码。")
    if code[0] == "8":
        if code not in RESIDENCE_PERMIT_CODES:
            permits = "、".join(f"{c}（{name}）" for c, name in RESIDENCE_PERMIT_CODES.items())
            raise _invalid_id(f"公民身份号码的地址码“{code}”无效：港澳台居民居住证号码的地址码只能是 {permits}。")
        return
    if not code_lists().listed_in_gbt2260(code):
        raise _invalid_id(
            f"公民身份号码的地址码“{code}”无效：GB/T 2260 自 1980 年以来的各版行政区划代码均未收录该代码。"
        )


def _check_birth_date(digits: str) -> None:
    try:
        born = dt.date(int(digits[:4]), int(digits[4:6]), int(digits[6:8]))
    except ValueError:
        raise _invalid_id(f"公民身份号码的出生日期“{digits}”不是有效日期。") from None
    if born < EARLIEST_BIRTH:
        raise _invalid_id(f"公民身份号码的出生日期“{digits}”过早，不是有效日期。")
    if born > clock.today():
        raise _invalid_id(f"公民身份号码的出生日期“{digits}”晚于今天。")


# --- 统一社会信用代码 --------------------------------------------------------------------------------------


def credit_code_check_char(body: str) -> str:
    """The 18th character for the first 17 characters (GB 32100-2015)."""
    total = sum(CREDIT_ALPHABET.index(ch) * w for ch, w in zip(body, CREDIT_WEIGHTS, strict=True))
    return CREDIT_ALPHABET[(31 - total % 31) % 31]


def organisation_code_check_char(body: str) -> str:
    """The 9th character of a GB 11714-1997 organisation code for its first 8 (digits or capital letters)."""
    total = sum(_organisation_value(ch) * w for ch, w in zip(body, ORGANISATION_WEIGHTS, strict=True))
    check = 11 - total % 11
    return {10: "X", 11: "0"}.get(check, str(check))


def _organisation_value(ch: str) -> int:
    if ch.isascii() and ch.isdigit():
        return int(ch)
    if ch.isascii() and ch.isupper():
        return ord(ch) - ord("A") + 10
    raise ValueError(f"组织机构代码不能含有字符“{ch}”")


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
    region = code[2:8]
    if not region.isdigit():
        raise _invalid_credit(f"统一社会信用代码第 3–8 位“{region}”无效：登记管理机关行政区划码只能是数字。")
    # A mistyped character is caught here first, with the plain message people know from every form.
    if code[17] != credit_code_check_char(code[:17]):
        raise _invalid_credit("统一社会信用代码校验码不正确，请核对后重新输入。")
    if code[16] != organisation_code_check_char(code[8:16]):
        raise _invalid_credit(
            f"统一社会信用代码第 9–17 位“{code[8:17]}”无效：其中组织机构代码的校验码（第 17 位）"
            "不符合 GB 11714 的规定。"
        )
    _check_registration_region(region)
    return code


def _check_registration_region(region: str) -> None:
    if not code_lists().registration_code_known(region):
        raise _invalid_credit(
            f"统一社会信用代码第 3–8 位“{region}”无效：该登记管理机关行政区划码不是 GB/T 2260 自 1980 年以来"
            f"任何一版收录的代码，也不是全国性登记的 {NATIONAL_REGISTRATION_CODE} 或已知的开发区登记机关代码。"
        )


def make_credit_code(
    region_code: str, serial: int, *, registering_department: str = "9", organisation_type: str = "1"
) -> str:
    """A valid 统一社会信用代码 for a new registration: the organisation code is MA plus `serial` in base 31.

    `region_code` is the registering authority's region (checked like a code being validated); distinct
    serials below GENERATED_SERIALS give distinct codes. The defaults (9, 1) are 工商（市场监管）登记的企业.
    """
    for name, char in (("registering_department", registering_department), ("organisation_type", organisation_type)):
        if len(char) != 1 or char not in CREDIT_ALPHABET:
            raise ValueError(f"{name} 应为统一社会信用代码字符集中的一个字符，实际为 {char!r}")
    if not 0 <= serial < GENERATED_SERIALS:
        raise ValueError(f"serial 应在 0 到 {GENERATED_SERIALS - 1} 之间，实际为 {serial}")
    region = (region_code or "").strip()
    if len(region) != 6 or not region.isascii() or not region.isdigit():
        raise _invalid_credit(f"登记管理机关行政区划码“{region_code}”无效：应为 6 位数字。")
    _check_registration_region(region)
    digits = []
    for _ in range(8 - len(GENERATED_PREFIX)):
        serial, digit = divmod(serial, len(CREDIT_ALPHABET))
        digits.append(CREDIT_ALPHABET[digit])
    body = GENERATED_PREFIX + "".join(reversed(digits))
    head = registering_department + organisation_type + region + body + organisation_code_check_char(body)
    return head + credit_code_check_char(head)


# --- masking ----------------------------------------------------------------------------------------------


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
