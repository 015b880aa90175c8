from __future__ import annotations

import datetime as dt
from dataclasses import replace

import pytest

from tongban.errors import DomainError, NotFound
from tongban.regions import queries
from tongban.regions.departments import current_rules, use_rules
from tongban.regions.models import Alliance, Department, DepartmentFunction

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("regions_loaded")]

DONGBEI = "dongbei-sansheng-yishi"


def codes(regions) -> list[str]:
    return [region.code for region in regions]


def test_children_of_nothing_are_the_provinces():
    provinces = queries.children(None)
    assert len(provinces) == 31
    assert provinces[0].code == "110000"


def test_children_of_a_province_and_a_prefecture():
    assert "370100" in codes(queries.children("370000"))
    assert codes(queries.children("370100"))[:2] == ["370102", "370103"]
    assert queries.children("370102") == []


def test_unknown_or_malformed_codes_are_region_unknown():
    for code in ("999999", "37010", "abcdef", ""):
        with pytest.raises(NotFound) as error:
            queries.children(code)
        assert error.value.code == "region_unknown"


def test_ancestors_run_from_the_province_down():
    assert codes(queries.ancestors("370102")) == ["370000", "370100"]
    assert codes(queries.ancestors("370100")) == ["370000"]
    assert queries.ancestors("370000") == []


def test_province_code_accepts_padded_codes():
    assert queries.province_code("370102") == "370000"
    assert queries.province_code("370102000000") == "370000"
    assert queries.normalize_code("340100000000") == "340100"


def test_node_for_region_is_the_provincial_node():
    node = queries.node_for_region("370102")
    assert node.code == "370000" and not node.is_hub
    assert queries.node_for_region("110000").code == "110000"
    assert queries.hub_node().code == "000000"


def test_department_for_a_loaded_level_returns_the_loaded_row():
    before = Department.objects.count()
    department = queries.department_for("370100", DepartmentFunction.HUMAN_RESOURCES)
    assert department.name == "济南市人力资源和社会保障局"
    assert Department.objects.count() == before


def test_county_department_is_created_once_on_demand():
    before = Department.objects.count()
    first = queries.department_for("370124", "gongan")
    assert (first.name, first.region_id, first.node_id) == ("平阴县公安局", "370124", "370000")
    assert queries.department_for("370124", "gongan") == first
    assert Department.objects.count() == before + 1


def test_district_departments_follow_the_district_pattern():
    assert queries.department_for("370102", "gongan").name == "济南市公安局历下区分局"
    assert queries.department_for("370102", "shuiwu").name == "国家税务总局济南市历下区税务局"
    assert queries.department_for("110101", "gongan").name == "北京市公安局东城区分局"


def test_housing_fund_at_county_falls_back_to_the_prefecture_centre():
    before = Department.objects.count()
    department = queries.department_for("370124", DepartmentFunction.HOUSING_FUND)
    assert (department.region_id, department.name) == ("370100", "济南市住房公积金管理中心")
    assert Department.objects.count() == before


def test_fallback_skips_placeholder_prefectures():
    # 直辖市: 东城区 → 市辖区 (no government) → 北京市, whose centre has its own name.
    assert queries.department_for("110101", "gongjijin").name == "北京住房公积金管理中心"


def test_county_directly_under_the_province_acts_as_a_prefecture():
    department = queries.department_for("419001", "gongjijin")
    assert department.region_id == "419001"
    assert (department.name, department.node_id) == ("济源市住房公积金管理中心", "410000")


def test_unknown_function_is_rejected():
    with pytest.raises(DomainError) as error:
        queries.department_for("370102", "police")
    assert (error.value.code, error.value.status) == ("department_function_unknown", 422)


def test_function_absent_at_every_level_is_department_unknown():
    rules = current_rules()
    patterns = {f: p for f, p in rules.patterns.items() if f != "shenpi"}
    use_rules(replace(rules, patterns=patterns))
    try:
        # 直辖市 have no 行政审批服务局 (municipality: null), so nothing was loaded above 东城区.
        with pytest.raises(NotFound) as error:
            queries.department_for("110101", "shenpi")
        assert error.value.code == "department_unknown"
    finally:
        use_rules(rules)


def test_alliance_membership_includes_descendants_of_members():
    start = Alliance.objects.get(code=DONGBEI).valid_from
    assert codes_of(queries.alliances_in_force("210202", start)) == [DONGBEI]  # a district of 大连
    assert codes_of(queries.alliances_in_force("230102", start)) == [DONGBEI]  # a district of 哈尔滨
    assert queries.alliances_in_force("370102", start) == []


def test_alliance_is_not_in_force_before_its_start():
    start = Alliance.objects.get(code=DONGBEI).valid_from
    assert queries.alliances_in_force("210000", start - dt.timedelta(days=1)) == []
    assert queries.same_alliance("210202", "230102", start - dt.timedelta(days=1), "shuiwu") is None
    assert queries.same_alliance("210202", "230102", start, "shuiwu").code == DONGBEI


def test_alliance_ends_on_its_valid_until():
    alliance = Alliance.objects.get(code=DONGBEI)
    alliance.valid_until = alliance.valid_from + dt.timedelta(days=365)
    alliance.save()
    assert queries.alliances_in_force("210000", alliance.valid_until - dt.timedelta(days=1))
    assert queries.alliances_in_force("210000", alliance.valid_until) == []


def test_same_alliance_respects_the_function():
    start = Alliance.objects.get(code=DONGBEI).valid_from
    assert queries.same_alliance("210202", "230102", start, "yibao") is None
    assert queries.same_alliance("331024", "520324", start, "yibao").code == "xianju-zhengan-yibao"
    assert queries.same_alliance("331024", "520324", start, "shuiwu") is None
    assert queries.same_alliance("331024", "330102", start, "yibao") is None


def test_alliances_default_to_today(fixed_clock):
    fixed_clock.set(dt.datetime(1999, 1, 1, 9, 0))
    assert queries.alliances_in_force("210000") == []
    fixed_clock.set(dt.datetime(2030, 1, 1, 9, 0))
    assert codes_of(queries.alliances_in_force("210000")) == [DONGBEI]


def codes_of(alliances) -> list[str]:
    return [alliance.code for alliance in alliances]
