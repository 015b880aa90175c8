"""Catalog services for the cases app: version resolution, forms, materials and jurisdiction."""

from __future__ import annotations

import datetime as dt

import pytest

from tongban.catalog.models import Item, ItemVersion, JurisdictionRule
from tongban.catalog.services import (
    FACT_LABELS,
    RULE_FACTS,
    leg_regions,
    missing_materials,
    owner_region,
    proxy_handover_days,
    required_materials,
    resolve_item_version,
    validate_form,
)
from tongban.errors import DomainError, NotFound
from tongban.identity.validators import citizen_id_check_char

PENSION = "TB-renshe-001"
MARRIAGE = "TB-minzheng-001"
DIVORCE = "TB-minzheng-002"
MIGRATION = "TB-gongan-001"
NEWBORN = "TB-gongan-004"
LICENCE_REISSUE = "TB-shichang-001"
TAX_REPORT = "TB-shuiwu-004"

FEMALE_ID = "11010519491231002X"
MALE_ID = "11010519800101001" + citizen_id_check_char("11010519800101001")


def version_of(code: str, number: int = 1) -> ItemVersion:
    return ItemVersion.objects.get(item_id=code, version=number)


def error_code(call) -> str:
    with pytest.raises(DomainError) as raised:
        call()
    return raised.value.code


# --- resolve_item_version -----------------------------------------------------------------------


def test_pension_transfer_is_offered_from_the_coverage_date(catalog):
    assert resolve_item_version(PENSION, "370000", dt.date(2021, 1, 4)).version == 1
    assert resolve_item_version(PENSION, "370000", dt.date(2021, 1, 4), mode="multi_place").version == 1


def test_before_coverage_the_item_is_not_offered(catalog):
    with pytest.raises(DomainError) as raised:
        resolve_item_version(PENSION, "370000", dt.date(2019, 6, 1))
    assert raised.value.code == "item_not_offered" and raised.value.status == 422
    assert "山东省政务服务平台（370000）于 2019-06-01 不提供跨省通办" in raised.value.detail


def test_before_any_version_the_item_is_not_in_force(catalog):
    with pytest.raises(DomainError) as raised:
        resolve_item_version(PENSION, "370000", dt.date(2009, 6, 1))
    assert (raised.value.code, raised.value.status) == ("item_not_in_force", 422)


def test_unknown_item_and_node(catalog):
    with pytest.raises(NotFound) as raised:
        resolve_item_version("NO-SUCH-ITEM", "370000", dt.date(2024, 1, 1))
    assert (raised.value.code, raised.value.detail) == ("item_unknown", "事项不存在：NO-SUCH-ITEM")
    assert error_code(lambda: resolve_item_version(PENSION, "990000", dt.date(2024, 1, 1))) == "node_unknown"


def test_mode_not_offered(catalog):
    with pytest.raises(DomainError) as raised:
        resolve_item_version(PENSION, "370000", dt.date(2024, 1, 1), mode="online")
    assert raised.value.code == "mode_not_offered"
    assert "全程网办" in raised.value.detail and "多地联办" in raised.value.detail


@pytest.mark.parametrize(
    ("node", "on", "expected"),
    [
        ("210000", dt.date(2022, 1, 1), 1),  # 辽宁: first pilot
        ("110000", dt.date(2022, 1, 1), "item_not_offered"),  # 北京 joined only with the 2023 pilot
        ("110000", dt.date(2024, 1, 1), 2),
        ("620000", dt.date(2024, 1, 1), "item_not_offered"),  # 甘肃 was in neither pilot
        ("620000", dt.date(2025, 6, 9), 3),  # nationwide from 2025-05-10
        ("620000", dt.date(2021, 1, 1), "item_not_in_force"),
    ],
)
def test_marriage_registration_follows_the_pilots(catalog, node, on, expected):
    try:
        result: int | str = resolve_item_version(MARRIAGE, node, on).version
    except DomainError as exc:
        result = exc.code
    assert result == expected


def test_divorce_was_not_in_the_first_pilot_in_jiangsu(catalog):
    assert resolve_item_version(MARRIAGE, "320000", dt.date(2022, 1, 1)).version == 1
    assert error_code(lambda: resolve_item_version(DIVORCE, "320000", dt.date(2022, 1, 1))) == "item_not_offered"


def test_alliance_coverage_adds_proxy_in_the_northeast(catalog):
    on = dt.date(2024, 1, 1)
    assert resolve_item_version(TAX_REPORT, "230000", on, mode="proxy").version == 1
    assert error_code(lambda: resolve_item_version(TAX_REPORT, "110000", on, mode="proxy")) == "mode_not_offered"
    assert resolve_item_version(TAX_REPORT, "110000", on, mode="online").version == 1


def test_proxy_handover_days_default(catalog):
    assert proxy_handover_days(LICENCE_REISSUE, "230000", dt.date(2024, 1, 1)) == {
        "push": 1,
        "mail": 2,
        "recheck": 1,
        "result_mail": 1,
    }


# --- validate_form ------------------------------------------------------------------------------


def marriage_form(**changes) -> dict:
    form = {
        "male_name": "王杰",
        "male_id_number": MALE_ID,
        "female_name": "林芳",
        "female_id_number": FEMALE_ID.lower(),
        "chosen_region": "320100",
        "phone": "13800138000",
    }
    form.update(changes)
    return {k: v for k, v in form.items() if v is not None}


def test_valid_form_is_cleaned(catalog, fixed_clock):
    cleaned = validate_form(version_of(MARRIAGE, 3), marriage_form())
    assert cleaned["female_id_number"] == FEMALE_ID
    assert cleaned["chosen_region"] == "320100"


def test_validate_form_lists_every_problem(catalog, fixed_clock):
    data = marriage_form(
        male_name=None,
        male_id_number="110105198001010010",
        female_id_number="12345",
        chosen_region="999999",
        phone="12345",
        colour="红",
    )
    with pytest.raises(DomainError) as raised:
        validate_form(version_of(MARRIAGE, 3), data)
    error = raised.value
    assert (error.code, error.status) == ("invalid_form", 422)
    found = {(e["field"], e["code"]) for e in error.extra["errors"]}
    assert found == {
        ("colour", "unknown_field"),
        ("male_name", "required"),
        ("male_id_number", "invalid_id_number"),
        ("female_id_number", "invalid_id_number"),
        ("phone", "invalid_phone"),
        ("chosen_region", "unknown_region"),
    }
    messages = {e["field"]: e["message"] for e in error.extra["errors"]}
    assert messages["male_name"] == "请填写“男方姓名”。"
    assert "公民身份号码" in messages["female_id_number"]
    assert "6 处问题" in error.detail


def test_validate_form_checks_types(catalog, fixed_clock):
    data = {
        "taxpayer_name": "某公司",
        "credit_code": "11100000000013338A",
        "domicile_region": "12345",
        "business_region": "110000",
        "contract_name": "合同",
        "contract_from": "2024-02-30",
        "contract_to": "2024-12-31",
    }
    with pytest.raises(DomainError) as raised:
        validate_form(version_of(TAX_REPORT), data)
    found = {(e["field"], e["code"]) for e in raised.value.extra["errors"]}
    assert found == {
        ("credit_code", "invalid_credit_code"),
        ("domicile_region", "invalid_region"),
        ("contract_from", "invalid_date"),
    }


def test_validate_form_checks_choices_booleans_and_integers(catalog, fixed_clock):
    with pytest.raises(DomainError) as raised:
        validate_form(
            version_of(NEWBORN),
            {
                "newborn_name": "小明",
                "newborn_birth_date": "2025-06-01",
                "birth_certificate_number": "Q370000001",
                "follows": "随祖父",
                "hukou_region": "370100",
                "parent_name": "王杰",
                "parent_id_number": MALE_ID,
                "parents_married": "也许",
                "phone": "0531-88888888",
            },
        )
    found = {(e["field"], e["code"]) for e in raised.value.extra["errors"]}
    assert found == {("follows", "invalid_choice"), ("parents_married", "invalid_boolean")}
    employees = ItemVersion.objects.get(item_id="TB-shuiwu-003")
    form = {
        "employer_name": "某公司",
        "credit_code": "11100000000013338W",
        "domicile_region": "370100",
        "period": "2025-06",
        "employee_count": "12",
    }
    assert validate_form(employees, form)["employee_count"] == 12


# --- materials ----------------------------------------------------------------------------------


def test_required_materials_follow_the_form(catalog):
    version = version_of(MIGRATION)
    spouse = [m.code for m in required_materials(version, {"migration_kind": "夫妻投靠"})]
    assert spouse == ["id_card", "hukou_book", "marriage_cert", "destination_hukou_book"]
    student = [m.code for m in required_materials(version, {"migration_kind": "大中专院校录取"})]
    assert student == ["id_card", "hukou_book", "admission_notice"]


def test_boolean_conditions(catalog):
    version = version_of(NEWBORN)
    assert "marriage_cert" in [m.code for m in required_materials(version, {"parents_married": True})]
    assert "marriage_cert" not in [m.code for m in required_materials(version, {"parents_married": False})]


def test_shared_licence_replaces_a_material(catalog):
    version = version_of(MIGRATION)
    form = {"migration_kind": "夫妻投靠"}
    missing = missing_materials(version, form, {"id_card"}, {"jumin_hukoubu"})
    assert [m.code for m in missing] == ["marriage_cert"]
    assert missing_materials(version, form, {"id_card"}, {"jumin_hukoubu", "jiehunzheng"}) == []
    assert [m.code for m in missing_materials(version, form, set())] == [
        "id_card",
        "hukou_book",
        "marriage_cert",
        "destination_hukou_book",
    ]


# --- jurisdiction -------------------------------------------------------------------------------

ALL_FACTS = {fact: f"{index + 11}0000" for index, fact in enumerate(FACT_LABELS)}


@pytest.mark.parametrize("rule", list(JurisdictionRule))
def test_owner_region_for_each_rule(rule):
    version = ItemVersion(item=Item(code="X", name="测试"), jurisdiction_rule=rule)
    assert owner_region(version, ALL_FACTS) == ALL_FACTS[RULE_FACTS[rule]]
    facts = {k: v for k, v in ALL_FACTS.items() if k != RULE_FACTS[rule]}
    with pytest.raises(DomainError) as raised:
        owner_region(version, facts)
    assert (raised.value.code, raised.value.status) == ("jurisdiction_fact_missing", 422)
    assert FACT_LABELS[RULE_FACTS[rule]] in raised.value.detail


def test_owner_region_refuses_a_malformed_code():
    version = ItemVersion(jurisdiction_rule=JurisdictionRule.HUKOU)
    assert error_code(lambda: owner_region(version, {"hukou_region": "北京"})) == "jurisdiction_fact_invalid"


def test_leg_regions_for_pension_transfer(catalog):
    legs = leg_regions(version_of(PENSION), {"destination_region": "370100", "origin_region": "110101"})
    assert [(leg.order, leg.place, leg.limit, region) for leg, region in legs] == [
        (1, "destination", 15, "370100"),
        (2, "origin", 15, "110101"),
        (3, "destination", 15, "370100"),
    ]
    with pytest.raises(DomainError) as raised:
        leg_regions(version_of(PENSION), {"destination_region": "370100"})
    assert raised.value.code == "jurisdiction_fact_missing" and "迁出地（转出地）" in raised.value.detail
