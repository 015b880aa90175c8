"""The eligibility answer built on the catalog, and the guard the cases app calls."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from tongban.errors import DomainError, NotFound
from tongban.rules.eligibility import check_eligibility, eligibility, known_facts

pytestmark = pytest.mark.usefixtures("loaded")

D = dt.date
TODAY = D(2025, 6, 9)
KEYS = {
    "item",
    "version",
    "on",
    "node",
    "available",
    "reasons",
    "modes",
    "mode",
    "owner",
    "materials",
    "limits",
    "legs",
    "source",
    "unverified",
    "trace",
}
PENSION = "TB-renshe-001"
MARRIAGE = "TB-minzheng-001"
MIGRATION = "TB-gongan-001"


def test_the_answer_has_its_shape_and_serialises():
    answer = eligibility(MARRIAGE, "620000", TODAY, {"chosen_region": "620102"})
    assert set(answer) == KEYS
    assert answer["on"] == "2025-06-09" and answer["node"] == "620000" and answer["version"] == 3
    assert answer["available"] and answer["reasons"] == []
    assert answer["modes"] == ["proxy"] and answer["mode"] == "proxy"
    assert answer["owner"] == {
        "region": "620102",
        "node": "620000",
        "department_function": "minzheng",
        "department": answer["owner"]["department"],
    }
    assert answer["owner"]["department"].endswith("民政局")
    assert answer["materials"][0] == {
        "code": "male_id_card",
        "name": "男方居民身份证",
        "requirement": "required",
        "form": "original",
        "licence_type": "jumin_shenfenzheng",
        "condition": "",
    }
    assert answer["limits"] == {
        "legal": {"value": 1, "unit": "1", "unit_label": "工作日"},
        "promised": {"value": 1, "unit": "1", "unit_label": "工作日"},
        "immediate": True,
    }
    assert answer["source"] == "婚姻登记条例（国务院令第804号）"
    assert "code" in answer["unverified"]
    assert [entry["type"] for entry in answer["trace"]] == ["item_version", "coverage", "rule"]
    assert json.loads(json.dumps(answer, ensure_ascii=False)) == answer


def test_multi_place_answers_list_the_legs():
    facts = {"destination_region": "370102", "origin_region": "110101", "applicant_kind": "参保人员本人申请"}
    answer = eligibility(PENSION, "370000", TODAY, facts)
    assert answer["available"] and answer["mode"] == "multi_place"
    assert answer["owner"]["region"] == "370102" and answer["owner"]["node"] == "370000"
    assert [(leg["order"], leg["place"], leg["node"], leg["limit"]["value"]) for leg in answer["legs"]] == [
        (1, "destination", "370000", 15),
        (2, "origin", "110000", 15),
        (3, "destination", "370000", 15),
    ]
    assert "coverage.valid_from" in answer["unverified"]


def test_missing_facts_become_reasons():
    answer = eligibility(PENSION, "370000", TODAY, {"destination_region": "370102"})
    assert not answer["available"] and answer["legs"] == []
    assert [r["code"] for r in answer["reasons"]] == ["jurisdiction_fact_missing"]
    assert "迁出地（转出地）" in answer["reasons"][0]["detail"]


def test_conditional_materials_follow_the_facts():
    def codes(kind: str) -> list[str]:
        facts = {"migration_kind": kind, "destination_region": "370102", "origin_region": "110101"}
        return [m["code"] for m in eligibility(MIGRATION, "370000", TODAY, facts)["materials"]]

    assert codes("夫妻投靠") == ["id_card", "hukou_book", "marriage_cert", "destination_hukou_book"]
    assert codes("大中专院校录取") == ["id_card", "hukou_book", "admission_notice"]


@pytest.mark.parametrize(
    ("node", "on", "mode", "codes"),
    [
        ("990000", TODAY, None, ["node_unknown"]),
        ("370000", D(2009, 6, 1), None, ["item_not_in_force"]),
        ("370000", D(2019, 6, 1), None, ["item_not_offered"]),
        ("370000", TODAY, "online", ["mode_not_offered"]),
    ],
)
def test_catalog_errors_become_reasons(node, on, mode, codes):
    facts = {"destination_region": "370102", "origin_region": "110101"}
    answer = eligibility(PENSION, node, on, facts, mode)
    assert [r["code"] for r in answer["reasons"]] == codes and answer["available"] is False


def test_unknown_item_stays_an_error():
    with pytest.raises(NotFound) as raised:
        eligibility("NO-SUCH-ITEM", "370000", TODAY, {})
    assert raised.value.code == "item_unknown"


def test_check_eligibility_guards_with_every_reason():
    facts = {
        "party_a_hukou_region": "430102",
        "party_b_hukou_region": "520102",
        "permit_holder": "女方",
        "residence_permit_region": "420500",
        "chosen_region": "420500",
    }
    with pytest.raises(DomainError) as raised:
        check_eligibility(MARRIAGE, "420000", D(2021, 6, 1), facts)
    error = raised.value
    assert (error.code, error.status) == ("not_eligible", 422)
    assert [r["code"] for r in error.extra["reasons"]] == ["not_hukou_place", "not_pilot_place"]
    assert error.detail.startswith("该事项不能在此办理：结婚登记须到一方当事人常住户口所在地的婚姻登记机关办理")
    assert error.detail.endswith("不能凭居住证在此登记。")
    answer = check_eligibility(MARRIAGE, "420000", D(2023, 5, 12), facts)
    assert answer["available"] and answer["trace"][-1]["version"] == 2


def test_known_facts_come_from_jurisdiction_forms_and_rules():
    facts = known_facts(MARRIAGE)
    wanted = {"chosen_region", "party_a_hukou_region", "residence_permit_region", "permit_holder", "hukou_region"}
    assert wanted <= set(facts)
    assert "kind" not in facts and "node" not in facts
    assert facts["party_a_hukou_region"] == "男方户籍地"
