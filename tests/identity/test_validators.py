"""公民身份号码 and 统一社会信用代码: samples, error details, masking and check-digit properties."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tongban.errors import DomainError
from tongban.identity.validators import (
    CREDIT_ALPHABET,
    PROVINCE_PREFIXES,
    citizen_id_check_char,
    credit_code_check_char,
    mask_id_number,
    mask_phone,
    validate_citizen_id,
    validate_credit_code,
)


def id_error(value: str) -> DomainError:
    with pytest.raises(DomainError) as caught:
        validate_citizen_id(value)
    assert caught.value.code == "invalid_id_number"
    return caught.value


def credit_error(value: str) -> DomainError:
    with pytest.raises(DomainError) as caught:
        validate_credit_code(value)
    assert caught.value.code == "invalid_credit_code"
    return caught.value


def test_standard_citizen_id_sample_is_valid() -> None:
    assert validate_citizen_id("11010519491231002X") == "11010519491231002X"


def test_lowercase_x_and_spaces_are_normalised() -> None:
    assert validate_citizen_id(" 11010519491231002x ") == "11010519491231002X"


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        ("1101051949123100", "18 位"),
        ("", "18 位"),
        ("11010519491231A02X", "第 15 位"),
        ("11010519491231002Y", "第 18 位"),
        ("99010519491231002X", "地址码"),
        ("11010519490231002X", "出生日期"),
        ("11010518001231002X", "过早"),
        ("110105194912310021", "校验码"),
    ],
)
def test_citizen_id_errors_say_what_is_wrong(value: str, fragment: str) -> None:
    assert fragment in id_error(value).detail


def test_birth_date_after_today_is_refused(fixed_clock) -> None:
    body = "110105" + "20250610" + "001"  # the fixed clock stands at 2025-06-09
    assert "晚于今天" in id_error(body + citizen_id_check_char(body)).detail
    body = "110105" + "20250609" + "001"
    assert validate_citizen_id(body + citizen_id_check_char(body))


@pytest.mark.parametrize("value", ["11100000000013338W", "11430000006122244L", "12441500196720244T"])
def test_standard_credit_code_samples_are_valid(value: str) -> None:
    assert validate_credit_code(value) == value


def test_credit_code_is_upper_cased() -> None:
    assert validate_credit_code("91630100ma7k2q3h85") == "91630100MA7K2Q3H85"


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        ("1110000000001333", "18 位"),
        ("11100000000013338I", "第 18 位"),
        ("1110000000001333OW", "第 17 位"),
        ("11100000000013339W", "校验码"),
    ],
)
def test_credit_code_errors_say_what_is_wrong(value: str, fragment: str) -> None:
    assert fragment in credit_error(value).detail


def test_masking_keeps_only_what_identifies_the_record() -> None:
    assert mask_id_number("11010519491231002X") == "110105********002X"
    assert mask_id_number("") == ""
    assert mask_id_number("12345") == "*****"
    assert mask_phone("13812345678") == "138****5678"
    assert mask_phone("") == ""


# ---- properties -------------------------------------------------------------------------------

digits = st.text(alphabet="0123456789", min_size=1, max_size=1)


@st.composite
def citizen_ids(draw: st.DrawFn) -> str:
    prefix = draw(st.sampled_from(sorted(PROVINCE_PREFIXES)))
    area = draw(st.text(alphabet="0123456789", min_size=4, max_size=4))
    born = draw(st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2020, 12, 31)))
    sequence = draw(st.text(alphabet="0123456789", min_size=3, max_size=3))
    body = f"{prefix}{area}{born:%Y%m%d}{sequence}"
    return body + citizen_id_check_char(body)


@st.composite
def credit_codes(draw: st.DrawFn) -> str:
    body = draw(st.text(alphabet=CREDIT_ALPHABET, min_size=17, max_size=17))
    return body + credit_code_check_char(body)


@given(citizen_ids())
def test_generated_citizen_ids_validate(number: str) -> None:
    assert validate_citizen_id(number) == number


@given(citizen_ids(), st.integers(min_value=0, max_value=17), st.sampled_from("0123456789X"))
def test_changing_one_character_of_a_citizen_id_is_detected(number: str, position: int, replacement: str) -> None:
    if number[position] == replacement:
        replacement = "1" if replacement != "1" else "2"
    mutated = number[:position] + replacement + number[position + 1 :]
    with pytest.raises(DomainError):
        validate_citizen_id(mutated)


@given(credit_codes())
def test_generated_credit_codes_validate(code: str) -> None:
    assert validate_credit_code(code) == code


@given(credit_codes(), st.integers(min_value=0, max_value=17), st.sampled_from(CREDIT_ALPHABET))
def test_changing_one_character_of_a_credit_code_is_detected(code: str, position: int, replacement: str) -> None:
    if code[position] == replacement:
        replacement = "1" if replacement != "1" else "2"
    mutated = code[:position] + replacement + code[position + 1 :]
    with pytest.raises(DomainError):
        validate_credit_code(mutated)
