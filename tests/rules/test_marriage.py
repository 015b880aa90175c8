"""Marriage and divorce registration places across the three rule versions, against an independent table."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

import pytest
from django.conf import settings
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from tongban.catalog.models import Coverage
from tongban.errors import DomainError
from tongban.rules import parameters as parameter_store
from tongban.rules.eligibility import eligibility
from tongban.rules.parameters import ParameterSet, ParameterValue, read_parameters
from tongban.rules.registry import evaluate

pytestmark = pytest.mark.usefixtures("loaded")

D = dt.date
FIRST_PILOT, SECOND_PILOT, NATIONWIDE = D(2021, 6, 1), D(2023, 5, 12), D(2025, 5, 10)
ITEMS = {"marriage": "TB-minzheng-001", "divorce": "TB-minzheng-002"}
# office → (node, in the first marriage pilot, in the first divorce pilot, in the 21 provinces)
OFFICES = {
    "420102": ("420000", True, False, True),  # 武汉江岸：marriage-only city pilot
    "420500": ("420000", False, False, True),  # 宜昌
    "610113": ("610000", True, False, True),  # 西安雁塔：marriage-only city pilot
    "610300": ("610000", False, False, True),  # 宝鸡
    "210202": ("210000", True, True, True),  # 大连中山：marriage and divorce province
    "320102": ("320000", True, False, True),  # 南京玄武：marriage-only province
    "110101": ("110000", False, False, True),  # 北京东城：from the 2023 extension
    "620102": ("620000", False, False, False),  # 兰州城关：only nationwide
}


def couple(office: str, kind: str) -> dict[str, str]:
    """Neither party's hukou is near the office; the woman holds a residence permit issued there."""
    return {
        "kind": kind,
        "party_a_hukou_region": "430102",
        "party_b_hukou_region": "520102",
        "permit_holder": "女方",
        "residence_permit_region": office,
        "chosen_region": office,
    }


def expected_allowed(office: str, kind: str, day: dt.date) -> bool:
    _, first_marriage, first_divorce, extended = OFFICES[office]
    if day < FIRST_PILOT:
        return False
    if day < SECOND_PILOT:
        return first_marriage if kind == "marriage" else first_divorce
    if day < NATIONWIDE:
        return extended
    return True


@hypothesis_settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    office=st.sampled_from(sorted(OFFICES)),
    kind=st.sampled_from(sorted(ITEMS)),
    day=st.dates(D(2020, 1, 1), D(2027, 12, 31)),
)
def test_the_answer_follows_the_policy_table(office, kind, day):
    node = OFFICES[office][0]
    facts = couple(office, kind)
    del facts["kind"]
    answer = eligibility(ITEMS[kind], node, day, facts)
    assert answer["available"] is expected_allowed(office, kind, day), answer["reasons"]
    value = evaluate("marriage.registration_place", {**facts, "kind": kind, "node": node}, day, office).value
    assert value["allowed"] is expected_allowed(office, kind, day)
    if answer["available"]:
        assert answer["owner"]["region"] == office and answer["owner"]["node"] == node
        assert ("residence_permit" in [m["code"] for m in answer["materials"]]) is (day < NATIONWIDE)


@pytest.mark.parametrize("day", [FIRST_PILOT, SECOND_PILOT - dt.timedelta(days=1), SECOND_PILOT, NATIONWIDE])
@pytest.mark.parametrize("kind", sorted(ITEMS))
def test_coverage_matches_the_pilot_parameter(day, kind):
    """The catalog's coverage and the rule's pilot list name the same provinces on every boundary date."""
    pilots = read_parameters(Path(settings.CONTENT_DIR)).value(f"marriage.pilot_regions.{kind}", day).value
    in_force = Coverage.objects.filter(item_id=ITEMS[kind], valid_from__lte=day).exclude(valid_until__lte=day)
    nodes = set(in_force.values_list("node_id", flat=True))
    if pilots is None:
        assert len(nodes) == 32  # every provincial node and the hub
    else:
        assert nodes == {code[:2] + "0000" for code in pilots}


def test_the_version_decides_the_basis():
    facts = {**couple("420502", "marriage"), "party_a_hukou_region": "420502"}
    del facts["residence_permit_region"]

    def basis(day: dt.date) -> str | None:
        return evaluate("marriage.registration_place", facts, day).value["basis"]

    assert [basis(D(2021, 5, 31)), basis(FIRST_PILOT), basis(SECOND_PILOT), basis(NATIONWIDE)] == [
        "hukou",
        "hukou",
        "hukou",
        "anywhere",
    ]
    before = evaluate("marriage.registration_place", facts, D(2021, 5, 31)).trace
    assert before["version"] == 0
    assert before["parameters"][0]["reference"]["article"] == "第二条、第四条第一款、第十条第一款"


def test_a_regional_level_overrides_the_national_one():
    """A province that registers province-wide sets marriage.hukou_place_level for itself."""
    facts = {**couple("420111", "marriage"), "party_a_hukou_region": "420502"}
    day = D(2020, 6, 1)
    assert not evaluate("marriage.registration_place", facts, day).value["allowed"]
    real = read_parameters(Path(settings.CONTENT_DIR))
    level = real.get("marriage.hukou_place_level")
    hubei = ParameterValue(level.name, "province", D(2019, 1, 1), None, "420000", {"document": "某省文件"}, day)
    others = [p for p in real if p.name != level.name]
    patched = ParameterSet([*others, dataclasses.replace(level, regions={"420000": (hubei,)})])
    previous = parameter_store.install(patched)
    try:
        value = evaluate("marriage.registration_place", facts, day).value
        trace = evaluate("marriage.registration_place", facts, day).trace
    finally:
        parameter_store.install(previous)
    assert value["allowed"] and value["basis"] == "hukou"
    assert trace["parameters"][0]["region"] == "420000"


def test_kind_must_be_marriage_or_divorce():
    with pytest.raises(DomainError) as raised:
        evaluate("marriage.registration_place", couple("420102", "remarriage"), D(2024, 1, 1))
    assert raised.value.code == "rule_fact_invalid" and "marriage（结婚登记）" in raised.value.detail


def test_reasons_are_told_in_chinese():
    facts = couple("420102", "divorce")
    del facts["kind"]  # the item decides the kind
    answer = eligibility("TB-minzheng-002", "420000", FIRST_PILOT, facts)
    details = {r["code"]: r["detail"] for r in answer["reasons"]}
    assert details["not_pilot_place"] == (
        "湖北省武汉市江岸区于 2021-06-01 不在离婚登记“跨省通办”试点地区，不能凭居住证在此登记。"
    )
    assert details["not_hukou_place"] == (
        "离婚登记须到一方当事人常住户口所在地的婚姻登记机关办理：双方户籍地（湖南省长沙市芙蓉区、贵州省贵阳市南明区）"
        "均不在湖北省武汉市江岸区。"
    )
