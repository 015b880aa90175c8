"""A boolean form field takes what the eligibility endpoint takes: 是/否 as well as true/false."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tongban.catalog.models import ItemVersion
from tongban.catalog.services import FALSE_WORDS, TRUE_WORDS, parse_boolean, required_materials, validate_form
from tongban.errors import DomainError
from tongban.rules.api import _typed

NEWBORN = "TB-gongan-004"
FORM = {
    "newborn_name": "小明",
    "newborn_birth_date": "2025-06-01",
    "birth_certificate_number": "Q370000001",
    "follows": "随父",
    "hukou_region": "370100",
    "parent_name": "王杰",
    "parent_id_number": "11010519491231002X",
    "phone": "0531-88888888",
}


def newborn() -> ItemVersion:
    return ItemVersion.objects.get(item_id=NEWBORN, version=1)


@pytest.mark.parametrize(
    ("given_value", "expected"),
    [("是", True), ("否", False), ("true", True), ("FALSE", False), (" 是 ", True), (True, True), (False, False)],
)
def test_yes_and_no_in_chinese_are_booleans(catalog, given_value, expected):
    cleaned = validate_form(newborn(), {**FORM, "parents_married": given_value})
    assert cleaned["parents_married"] is expected
    codes = [m.code for m in required_materials(newborn(), cleaned)]
    assert ("marriage_cert" in codes) is expected


@pytest.mark.parametrize("given_value", ["也许", "有", 1, 0, "", None])
def test_anything_else_is_not(catalog, given_value):
    form = {**FORM, "parents_married": given_value}
    with pytest.raises(DomainError) as raised:
        validate_form(newborn(), form)
    [error] = raised.value.extra["errors"]
    expected = "required" if given_value in ("", None) else "invalid_boolean"
    assert (error["field"], error["code"]) == ("parents_married", expected)
    if expected == "invalid_boolean":
        assert error["message"] == "“父母已办理结婚登记”：应为“是”或“否”（也可填 true 或 false）。"


words = st.sampled_from([*TRUE_WORDS, *FALSE_WORDS, "也许", "yes please", "2", "真"])


@given(words, st.sampled_from([str.lower, str.upper, str.title]), st.sampled_from(["", " ", "\t"]))
def test_the_form_and_the_eligibility_query_agree(word, case, padding):
    text = padding + case(word) + padding
    try:
        from_query = _typed("boolean", text)
    except ValueError:
        from_query = None
    assert parse_boolean(text) == from_query
    assert (word in TRUE_WORDS) is (from_query is True)
    assert (word in FALSE_WORDS) is (from_query is False)
