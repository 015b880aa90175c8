"""The scenario formats and the messages a content author reads when a scenario fails."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from tongban.rules.content import RulesContentError
from tongban.rules.scenarios import (
    read_rule_test_file,
    read_scenario_file,
    report,
    run_rule_test,
    run_scenario,
)


def write(tmp_path: Path, folder: str, text: str, name: str = "x.yaml") -> tuple[Path, Path]:
    content = tmp_path / "content"
    path = content / folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return content, path


SCENARIO = """\
item: TB-minzheng-001
x-place: &place {chosen_region: 620102}
scenarios:
  - name: 甘肃全国通办
    as_of: 2025-06-09
    node: "620000"
    facts: *place
    expect: {available: true, mode: proxy, materials: [declaration, male_id_card, female_id_card]}
"""


def test_anchors_are_ignored_and_unquoted_regions_are_read_as_codes(tmp_path):
    content, path = write(tmp_path, "scenarios", SCENARIO)
    (scenario,) = read_scenario_file(content, path)
    assert scenario.file == "content/scenarios/x.yaml" and scenario.item == "TB-minzheng-001"
    assert scenario.spec.facts == {"chosen_region": "620102"}
    assert scenario.spec.expect.model_fields_set == {"available", "mode", "materials"}


def test_format_errors_name_the_file_and_the_field(tmp_path):
    content, path = write(
        tmp_path,
        "scenarios",
        """\
        item: TB-minzheng-001
        scenarios:
          - {name: 甲, as_of: 2025-02-30, node: 北京, expect: {availabel: true}}
          - {name: 甲, as_of: 2025-06-09, node: "110000", expect: {}}
        """,
    )
    with pytest.raises(RulesContentError) as raised:
        read_scenario_file(content, path)
    assert raised.value.errors == [
        "content/scenarios/x.yaml: scenarios[0].as_of：必须是日期，格式 YYYY-MM-DD",
        'content/scenarios/x.yaml: scenarios[0].node：必须是 6 位行政区划代码（加引号，如 "420100"）',
        "content/scenarios/x.yaml: scenarios[0].expect.availabel："
        "不认识的字段，请检查拼写（格式见 content/scenarios/README.md）",
    ]


def test_duplicate_scenario_names(tmp_path):
    content, path = write(
        tmp_path,
        "scenarios",
        """\
        item: TB-minzheng-001
        scenarios:
          - {name: 甲, as_of: 2025-06-09, node: "110000", expect: {}}
          - {name: 甲, as_of: 2025-06-09, node: "110000", expect: {}}
        """,
    )
    with pytest.raises(RulesContentError) as raised:
        read_scenario_file(content, path)
    assert raised.value.errors == ["content/scenarios/x.yaml: scenarios：情景名称重复：甲"]


@pytest.mark.usefixtures("loaded")
def test_a_failing_scenario_says_what_differed(tmp_path):
    content, path = write(
        tmp_path,
        "scenarios",
        """\
        item: TB-minzheng-002
        scenarios:
          - name: 武汉 2021-06-01 离婚登记
            as_of: 2021-06-01
            node: "420000"
            facts: {party_a_hukou_region: "430102", party_b_hukou_region: "520102", chosen_region: "420102"}
            expect: {available: true, version: 1, reasons: []}
        """,
    )
    (scenario,) = read_scenario_file(content, path)
    mismatches, answer = run_scenario(scenario)
    assert [(m.key, m.expected, m.got) for m in mismatches] == [
        ("available", True, False),
        ("reasons", [], ["item_not_offered", "not_hukou_place", "not_pilot_place"]),
    ]
    text = report(scenario.file, scenario.spec.name, mismatches, answer)
    assert text.splitlines()[:3] == [
        "content/scenarios/x.yaml 中的情景“武汉 2021-06-01 离婚登记”与期望不符：",
        "  available：期望 true，实际 false",
        '  reasons：期望 []，实际 ["item_not_offered", "not_hukou_place", "not_pilot_place"]',
    ]
    assert "    item_not_offered：该事项在湖北省政务服务平台（420000）于 2021-06-01 不提供跨省通办。" in text


@pytest.mark.usefixtures("loaded")
def test_unknown_facts_fail_the_scenario(tmp_path):
    content, path = write(tmp_path, "scenarios", SCENARIO.replace("{chosen_region: 620102}", "{office: 620102}"))
    (scenario,) = read_scenario_file(content, path)
    mismatches, _ = run_scenario(scenario)
    assert [(m.key, m.got) for m in mismatches] == [("facts", "不认识的事实：office")]


@pytest.mark.usefixtures("loaded")
def test_rule_tests_compare_only_the_listed_keys(tmp_path):
    content, path = write(
        tmp_path,
        "rules/tests",
        """\
        - name: 全国通办
          rule: marriage.registration_place
          as_of: 2025-05-10
          facts: {kind: marriage, chosen_region: 620102}
          expect: {allowed: true, basis: hukou}
        - name: 黄灯
          rule: warning.yellow_working_days
          as_of: 2025-05-10
          expect: 3
        """,
    )
    first, second = read_rule_test_file(content, path)
    mismatches, value = run_rule_test(first)
    assert [(m.key, m.expected, m.got) for m in mismatches] == [("basis", "hukou", "anywhere")]
    assert value["allowed"] is True
    assert [(m.key, m.expected, m.got) for m in run_rule_test(second)[0]] == [("value", 3, 2)]


def test_a_rule_test_file_is_a_list(tmp_path):
    content, path = write(tmp_path, "rules/tests", "rule: x\n")
    with pytest.raises(RulesContentError) as raised:
        read_rule_test_file(content, path)
    assert raised.value.errors == [
        "content/rules/tests/x.yaml：文件内容必须是测试列表（每项含 name、rule、as_of、facts、expect）"
    ]
