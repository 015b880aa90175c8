"""公民身份号码 and 统一社会信用代码 against their standards: samples, error details, masking, properties."""

from __future__ import annotations

import datetime as dt
from functools import cache
from pathlib import Path

import pytest
from django.conf import settings
from hypothesis import given
from hypothesis import strategies as st

from tongban.errors import DomainError
from tongban.identity.validators import (
    CREDIT_ALPHABET,
    GENERATED_SERIALS,
    citizen_id_check_char,
    credit_code_check_char,
    make_credit_code,
    mask_id_number,
    mask_phone,
    organisation_code_check_char,
    validate_citizen_id,
    validate_credit_code,
)
from tongban.regions.codes import code_lists, division_codes


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


def with_check(body: str) -> str:
    return body + citizen_id_check_char(body)


def credit_with_check(body: str) -> str:
    return body + credit_code_check_char(body)


# ---- 公民身份号码 -----------------------------------------------------------------------------------------


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
        ("99010519491231002X", "前两位不是省级"),
        ("11010519490231002X", "出生日期"),
        ("11010518001231002X", "过早"),
        ("110105194912310021", "校验码"),
    ],
)
def test_citizen_id_errors_say_what_is_wrong(value: str, fragment: str) -> None:
    assert fragment in id_error(value).detail


def test_birth_date_after_today_is_refused(fixed_clock) -> None:
    body = "110105" + "20250610" + "001"  # the fixed clock stands at 2025-06-09
    assert "晚于今天" in id_error(with_check(body)).detail
    body = "110105" + "20250609" + "001"
    assert validate_citizen_id(with_check(body))


@pytest.mark.parametrize(
    ("code", "what"),
    [
        ("110103", "崇文区, merged into 东城区 in 2010"),
        ("110104", "宣武区, merged into 西城区 in 2010"),
        ("500112", "渝北区, merged into 两江新区 in 2025"),
        ("432221", "岳阳县 under 岳阳地区, recoded in 1981"),
        ("653229", "和安县, set up in 2024"),
        ("460302", "三沙市西沙区, since 2020"),
    ],
)
def test_an_address_code_from_any_edition_since_1980_is_valid(code: str, what: str) -> None:
    assert validate_citizen_id(with_check(code + "19800101001")), what


@pytest.mark.parametrize("code", ["810000", "820000", "830000"])
def test_residence_permit_codes_are_valid(code: str) -> None:
    assert validate_citizen_id(with_check(code + "19900101002"))


@pytest.mark.parametrize(
    ("code", "fragment"),
    [
        ("110199", "均未收录"),  # a 北京 district code no edition ever had
        ("130171", "均未收录"),  # a statistical functional zone (石家庄高新区), not a division
        ("810101", "只能是 810000（香港特别行政区）"),
        ("710000", "830000"),
    ],
)
def test_an_address_code_listed_nowhere_is_invalid(code: str, fragment: str) -> None:
    detail = id_error(with_check(code + "19800101001")).detail
    assert code in detail and fragment in detail


def test_the_current_table_alone_would_reject_old_cards() -> None:
    current = division_codes(Path(settings.CONTENT_DIR) / "regions" / "divisions.csv")
    assert "110103" not in current
    assert code_lists().listed_in_gbt2260("110103")


# ---- 统一社会信用代码 ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        "11100000000013338W",  # central registration: region 100000
        "11430000006122244L",
        "12441500196720244T",
        "91110302562134916R",  # 北京经济技术开发区: a registration authority outside GB/T 2260
        "91320594608243799B",  # 苏州工业园区
        "91440300192317458F",
    ],
)
def test_standard_and_real_credit_codes_are_valid(value: str) -> None:
    assert validate_credit_code(value) == value


def test_credit_code_is_upper_cased() -> None:
    assert validate_credit_code("91630100ma7k2q3h85") == "91630100MA7K2Q3H85"


@pytest.mark.parametrize(
    ("body", "check"),
    [("00001333", "8"), ("00612224", "4"), ("19672024", "4"), ("MA7K2Q3H", "8"), ("60824379", "9")],
)
def test_organisation_code_check_character_matches_the_samples(body: str, check: str) -> None:
    assert organisation_code_check_char(body) == check


def test_organisation_code_check_maps_10_to_x_and_11_to_0() -> None:
    assert organisation_code_check_char("00000006") == "X"  # Σ = 6 × 2 = 12, 11 − 1 = 10
    assert organisation_code_check_char("00000000") == "0"  # Σ = 0, 11 − 0 = 11
    assert organisation_code_check_char("00000001") == "9"  # Σ = 2, 11 − 2 = 9


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        ("1110000000001333", "18 位"),
        ("11100000000013338I", "第 18 位"),
        ("1110000000001333OW", "第 17 位"),
        ("11100000000013339W", "校验码不正确"),
        (credit_with_check("11A0000000001333" + "8"), "第 3–8 位“A00000”"),
        (credit_with_check("11100000000013337"), "组织机构代码的校验码"),
        (credit_with_check("91110199000013338"), "第 3–8 位“110199”"),
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


# ---- generating credit codes ----------------------------------------------------------------------------


def test_a_generated_credit_code_has_both_check_characters() -> None:
    code = make_credit_code("630100", 0)
    assert code[:8] == "91630100" and code[8:10] == "MA"
    assert code[16] == organisation_code_check_char(code[8:16])
    assert code[17] == credit_code_check_char(code[:17])
    assert validate_credit_code(code) == code


def test_generated_codes_take_the_registering_department_and_type() -> None:
    assert make_credit_code("100000", 7, registering_department="5", organisation_type="1")[:8] == "51100000"


@pytest.mark.parametrize(
    ("arguments", "error"),
    [
        ({"region_code": "630100", "serial": -1}, ValueError),
        ({"region_code": "630100", "serial": GENERATED_SERIALS}, ValueError),
        ({"region_code": "630100", "serial": 1, "registering_department": "I"}, ValueError),
        ({"region_code": "630100", "serial": 1, "organisation_type": "12"}, ValueError),
        ({"region_code": "6301", "serial": 1}, DomainError),
        ({"region_code": "110199", "serial": 1}, DomainError),
    ],
)
def test_generator_refuses_bad_arguments(arguments: dict, error: type[Exception]) -> None:
    with pytest.raises(error):
        make_credit_code(**arguments)


@cache
def current_region_codes() -> list[str]:
    return sorted(division_codes(Path(settings.CONTENT_DIR) / "regions" / "divisions.csv"))


# Read the table when a test first draws, not when the module is imported.
current_regions = st.deferred(lambda: st.sampled_from(current_region_codes()))


@given(
    current_regions,
    st.integers(min_value=0, max_value=GENERATED_SERIALS - 1),
    st.sampled_from(["11", "12", "51", "52", "91", "92", "93"]),
)
def test_every_generated_code_validates(region: str, serial: int, kind: str) -> None:
    code = make_credit_code(region, serial, registering_department=kind[0], organisation_type=kind[1])
    assert validate_credit_code(code) == code


@given(st.lists(st.integers(min_value=0, max_value=GENERATED_SERIALS - 1), min_size=2, max_size=50, unique=True))
def test_distinct_serials_give_distinct_codes(serials: list[int]) -> None:
    codes = {make_credit_code("110105", serial) for serial in serials}
    assert len(codes) == len(serials)


# ---- properties -------------------------------------------------------------------------------------------


@st.composite
def citizen_ids(draw: st.DrawFn) -> str:
    area = draw(current_regions | st.sampled_from(["110103", "500112", "810000", "820000", "830000"]))
    born = draw(st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2020, 12, 31)))
    sequence = draw(st.text(alphabet="0123456789", min_size=3, max_size=3))
    return with_check(f"{area}{born:%Y%m%d}{sequence}")


@st.composite
def credit_codes(draw: st.DrawFn) -> str:
    region = draw(current_regions | st.sampled_from(["100000", "110302"]))
    body = draw(st.text(alphabet=CREDIT_ALPHABET, min_size=8, max_size=8))
    head = draw(st.sampled_from(["11", "12", "51", "91", "92"])) + region + body + organisation_code_check_char(body)
    return credit_with_check(head)


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


@given(st.dates(min_value=dt.date(1850, 1, 1), max_value=dt.date(2020, 12, 31)))
def test_every_real_birth_date_is_accepted(born: dt.date) -> None:
    assert validate_citizen_id(with_check(f"110105{born:%Y%m%d}001"))


@given(
    st.integers(min_value=1850, max_value=2025),
    st.integers(min_value=0, max_value=99),
    st.integers(min_value=0, max_value=99),
)
def test_a_birth_date_that_is_no_date_is_refused(year: int, month: int, day: int) -> None:
    try:
        dt.date(year, month, day)
    except ValueError:
        detail = id_error(with_check(f"110105{year:04d}{month:02d}{day:02d}001")).detail
        assert "不是有效日期" in detail


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
