"""Rule versions with dates and regions, and evaluation with a trace."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from tongban.errors import DomainError
from tongban.rules.parameters import Parameter, ParameterSet, ParameterValue
from tongban.rules.registry import RULES, Registry, RuleContext, evaluate

D = dt.date


def _version(value, start: str, region: str | None = None, document: str = "某文件") -> ParameterValue:
    return ParameterValue("t.days", value, D.fromisoformat(start), None, region, {"document": document}, D(2026, 1, 1))


PARAMETERS = ParameterSet(
    [
        Parameter(
            "t.days",
            "天数",
            "integer",
            "工作日",
            "t.yaml",
            (_version(5, "2020-01-01"),),
            {"420000": (_version(3, "2020-01-01", "420000", "unverified"),)},
        )
    ]
)


def registry_with_versions() -> Registry:
    registry = Registry()

    @registry.rule("t.rule", version=1, effective_from=D(2020, 1, 1), effective_until=D(2022, 1, 1))
    def first(ctx: RuleContext) -> str:
        """第一版。"""
        return "national-1"

    @registry.rule("t.rule", version=2, effective_from=D(2022, 1, 1))
    def second(ctx: RuleContext) -> str:
        return "national-2"

    @registry.rule("t.rule", version=3, effective_from=D(2021, 1, 1), region="420000")
    def hubei(ctx: RuleContext) -> str:
        return "hubei"

    @registry.rule("t.rule", version=4, effective_from=D(2021, 6, 1), region="420100")
    def wuhan(ctx: RuleContext) -> str:
        return "wuhan"

    return registry


@pytest.mark.parametrize(
    ("day", "lineage", "expected"),
    [
        ("2020-01-01", [], 1),
        ("2021-12-31", [], 1),
        ("2022-01-01", [], 2),  # effective_until is excluded
        ("2020-06-01", ["420102", "420100", "420000"], 1),  # no regional version yet
        ("2021-01-01", ["420500", "420000"], 3),  # the province's version overrides the national one
        ("2021-06-01", ["420102", "420100", "420000"], 4),  # the city's is more specific
        ("2023-01-01", ["110101", "110100", "110000"], 2),
    ],
)
def test_the_most_specific_version_in_force_is_selected(day, lineage, expected):
    assert registry_with_versions().select("t.rule", D.fromisoformat(day), lineage).version == expected


def test_unknown_rule_and_no_version_in_force():
    registry = registry_with_versions()
    with pytest.raises(DomainError) as raised:
        registry.select("t.other", D(2022, 1, 1))
    assert (raised.value.code, raised.value.status) == ("rule_unknown", 422)
    with pytest.raises(DomainError) as raised:
        registry.select("t.rule", D(2019, 12, 31))
    assert raised.value.code == "rule_not_in_force" and "2019-12-31" in raised.value.detail


def test_overlapping_or_repeated_versions_are_refused():
    registry = registry_with_versions()
    with pytest.raises(ValueError, match="有效期重叠"):
        registry.rule("t.rule", version=5, effective_from=D(2021, 1, 1), effective_until=D(2023, 1, 1))(lambda c: 0)
    with pytest.raises(ValueError, match="重复登记"):
        registry.rule("t.rule", version=3, effective_from=D(2030, 1, 1), region="420000")(lambda c: 0)
    with pytest.raises(ValueError, match="失效日期必须晚于生效日期"):
        registry.rule("t.new", version=1, effective_from=D(2021, 1, 1), effective_until=D(2021, 1, 1))(lambda c: 0)
    with pytest.raises(ValueError, match="6 位行政区划代码"):
        registry.rule("t.new", version=1, region="湖北")(lambda c: 0)
    # the same function may serve several versions
    decorated = registry.rule("t.new", version=2, effective_from=D(2024, 1, 1))(registry.versions("t.rule")[0].function)
    assert decorated is registry.versions("t.rule")[0].function


def test_the_content_rules_are_registered():
    assert {"marriage.registration_place", "licensing.time_limits", "proxy.handover_days"} <= set(RULES.names())
    versions = [(v.version, v.effective_from, v.effective_until) for v in RULES.versions("marriage.registration_place")]
    assert versions == [
        (0, D(2003, 10, 1), D(2021, 6, 1)),
        (1, D(2021, 6, 1), D(2023, 5, 12)),
        (2, D(2023, 5, 12), D(2025, 5, 10)),
        (3, D(2025, 5, 10), None),
    ]


def test_evaluate_traces_the_version_the_facts_and_the_parameters(loaded):
    registry = Registry()

    @registry.rule("t.days", version=1, effective_from=D(2020, 1, 1), facts={"office_region": "办理地"})
    def days(ctx: RuleContext) -> dict:
        """读取天数。"""
        office = ctx.region_fact("office_region")
        return {"days": ctx.param("t.days", region=office), "same_city": ctx.same_place(office, "420111", 2)}

    facts = {"office_region": "420102", "applicant_name": "王杰", "applicant_id_number": "110105198001010011"}
    evaluation = evaluate("t.days", facts, D(2025, 6, 9), registry=registry, parameters=PARAMETERS)
    assert evaluation.value == {"days": 3, "same_city": True}
    trace = evaluation.trace
    assert trace["rule"] == "t.days" and trace["version"] == 1 and trace["summary"] == "读取天数。"
    assert trace["as_of"] == "2025-06-09" and trace["effective_from"] == "2020-01-01"
    # Only the facts the rule read are kept: no names or ID numbers in a frozen trace.
    assert trace["facts"] == {"office_region": "420102"}
    assert trace["parameters"] == [
        {
            "name": "t.days",
            "value": 3,
            "from": "2020-01-01",
            "until": None,
            "region": "420000",
            "reference": {"document": "unverified"},
            "checked": "2026-01-01",
            "unverified": True,
        }
    ]
    assert json.loads(json.dumps(trace, ensure_ascii=False)) == trace


def test_missing_and_unknown_region_facts(loaded):
    registry = Registry()

    @registry.rule("t.place", version=1, facts={"office_region": "办理地"})
    def place(ctx: RuleContext) -> str:
        return ctx.region_fact("office_region")

    def code_of(facts) -> str:
        with pytest.raises(DomainError) as raised:
            evaluate("t.place", facts, D(2025, 6, 9), registry=registry, parameters=PARAMETERS)
        return f"{raised.value.code}：{raised.value.detail}"

    assert code_of({}) == "jurisdiction_fact_missing：无法确定办理地：缺少“办理地”的行政区划代码（office_region）。"
    assert code_of({"office_region": "武汉"}).startswith("jurisdiction_fact_invalid：“办理地”（office_region）")
    assert code_of({"office_region": "999999"}) == "region_unknown：行政区划代码不存在：999999"


def test_a_value_must_serialise(loaded):
    registry = Registry()
    registry.rule("t.date", version=1)(lambda ctx: ctx.as_of)
    with pytest.raises(TypeError, match="JSON"):
        evaluate("t.date", {}, D(2025, 6, 9), registry=registry, parameters=PARAMETERS)


@pytest.mark.parametrize(
    ("a", "b", "level", "same"),
    [
        ("420102", "420111", 3, False),
        ("420102", "420111", 2, True),
        ("420500", "420502", 3, True),  # a city holds its districts even at county level
        ("420102", "420502", 2, False),
        ("420102", "420502", 1, True),
        ("110101", "110102", 2, True),
    ],
)
def test_same_place(loaded, a, b, level, same):
    registry = Registry()
    registry.rule("t.same", version=1)(lambda ctx: ctx.same_place(a, b, level))
    assert evaluate("t.same", {}, D(2025, 6, 9), registry=registry, parameters=PARAMETERS).value is same


def test_place_names_leave_out_placeholders(loaded):
    registry = Registry()
    registry.rule("t.name", version=1)(lambda ctx: [ctx.place_name("110101"), ctx.place_name("420102")])
    assert evaluate("t.name", {}, D(2025, 6, 9), registry=registry, parameters=PARAMETERS).value == [
        "北京市东城区",
        "湖北省武汉市江岸区",
    ]
