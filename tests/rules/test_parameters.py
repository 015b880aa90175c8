"""Dated parameters: the format, its Chinese errors, and which value holds on a date for a region."""

from __future__ import annotations

import datetime as dt
import textwrap
from pathlib import Path

import pytest
from django.conf import settings
from hypothesis import given
from hypothesis import strategies as st

from tongban.errors import DomainError
from tongban.rules.content import RulesContentError
from tongban.rules.parameters import Parameter, ParameterValue, read_parameters

REF = "reference: {document: 测试文件}, checked: 2026-01-01"
P = "content/rules/parameters/p.yaml: "


def write(tmp_path: Path, text: str, name: str = "p.yaml") -> Path:
    content = tmp_path / "content"
    folder = content / "rules" / "parameters"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(textwrap.dedent(text), encoding="utf-8")
    return content


def errors_of(content: Path) -> list[str]:
    with pytest.raises(RulesContentError) as raised:
        read_parameters(content)
    return raised.value.errors


# --- the real content ---------------------------------------------------------------------------


def test_the_content_parameters_load():
    parameters = read_parameters(Path(settings.CONTENT_DIR))
    assert parameters.value("licensing.acceptance_days", dt.date(2025, 6, 9)).value == 5
    assert parameters.value("licensing.decision_days", dt.date(2025, 6, 9)).value == 20
    handover = parameters.value("proxy.handover_days", dt.date(2025, 6, 9))
    assert handover.value == {"push": 1, "mail": 2, "recheck": 1, "result_mail": 1} and handover.unverified


def test_marriage_pilot_lists_change_on_the_boundary_dates():
    parameters = read_parameters(Path(settings.CONTENT_DIR))

    def pilots(kind: str, day: str):
        return parameters.value(f"marriage.pilot_regions.{kind}", dt.date.fromisoformat(day)).value

    assert "420100" in pilots("marriage", "2021-06-01") and "420000" not in pilots("marriage", "2023-05-11")
    assert "420100" not in pilots("divorce", "2021-06-01")
    assert len(pilots("marriage", "2023-05-12")) == len(pilots("divorce", "2023-05-12")) == 21
    assert pilots("marriage", "2025-05-09") and pilots("marriage", "2025-05-10") is None
    with pytest.raises(DomainError) as raised:
        pilots("marriage", "2021-05-31")
    assert raised.value.code == "parameter_not_in_force"


# --- errors name the file and the field ---------------------------------------------------------


def test_missing_reference_is_named(tmp_path):
    content = write(
        tmp_path,
        """\
        a.days:
          description: 天数
          type: integer
          values:
            - {from: 2020-01-01, value: 5, checked: 2026-01-01}
        """,
    )
    assert errors_of(content) == [P + "a.days.values[0].reference：缺少必填字段"]


def test_every_problem_of_every_file_is_listed(tmp_path):
    content = write(
        tmp_path,
        f"""\
        a.days:
          description: 天数
          type: integer
          values:
            - {{from: 2021-01-01, value: 五, {REF}}}
            - {{from: 2020-01-01, value: 3, {REF}}}
        b.level:
          description: 级别
          type: choice
          choices: [county, province]
          values:
            - {{from: 2020-01-01, value: city, {REF}}}
        c.list:
          description: 地区
          type: region_list
          values:
            - {{from: 2020-01-01, value: null, {REF}}}
            - {{from: 2021-01-01, value: [420100, "420100"], {REF}}}
        d.flag:
          description: 开关
          type: boolean
          colour: 红
          values:
            - {{from: 2020-01-01, value: true, {REF}}}
        """,
    )
    write(tmp_path, "Bad Name:\n  description: x\n  type: text\n  values: []\n", "q.yaml")
    assert errors_of(content) == [
        P + "a.days.values[0].value：类型为整数，取值必须是整数",
        P + "a.days.values[1].from：取值必须按 from 日期从早到晚排列，且日期不能重复",
        P + "b.level.values[0].value：取值必须是 county、province 之一",
        P + "c.list.values[0].value：第一个取值不能为 null（null 只用于结束此前的取值）",
        P + "c.list.values[1].value：区划代码必须是加引号的 6 位代码：420100",
        P + "d.flag.colour：不认识的字段，请检查拼写（格式见 content/rules/README.md）",
        "content/rules/parameters/q.yaml: Bad Name：参数名必须由小写字母、数字、下划线组成，"
        "并用点分段（如 licensing.decision_days）",
    ]


def test_unverified_values_need_a_note_and_regions_need_codes(tmp_path):
    content = write(
        tmp_path,
        """\
        a.days:
          description: 天数
          type: integer
          values:
            - {from: 2020-01-01, value: 1, reference: {document: unverified}, checked: 2026-01-01}
        b.days:
          description: 天数
          type: integer
          values:
            - {from: 2020-01-01, value: 1, reference: {document: 某文件}, checked: 2026-01-01}
          regions:
            hubei:
              - {from: 2020-01-01, value: 2, reference: {document: 某文件}, checked: 2026-01-01}
        """,
    )
    assert errors_of(content) == [
        P + "a.days.values[0].reference.note：未经核实（unverified）的取值须在 note 中说明其来历",
        P + 'b.days.regions.hubei（键名）：必须是 6 位行政区划代码（加引号，如 "420100"）',
    ]


def test_duplicate_names_across_files_and_broken_yaml(tmp_path):
    body = f"a.days:\n  description: 天数\n  type: integer\n  values:\n    - {{from: 2020-01-01, value: 1, {REF}}}\n"
    content = write(tmp_path, body, "one.yaml")
    write(tmp_path, body, "two.yaml")
    write(tmp_path, "a: [1, 2\n", "three.yaml")
    assert errors_of(content) == [
        "content/rules/parameters/three.yaml：YAML 格式错误：第 2 行第 1 列："
        "expected ',' or ']', but got '<stream end>'",
        "content/rules/parameters/two.yaml: a.days：参数名与 content/rules/parameters/one.yaml 中的参数重复",
    ]


# --- which value holds --------------------------------------------------------------------------


def _value(value, start: str, until: str | None = None, region: str | None = None) -> ParameterValue:
    end = dt.date.fromisoformat(until) if until else None
    start_day, checked = dt.date.fromisoformat(start), dt.date(2026, 1, 1)
    return ParameterValue("a.days", value, start_day, end, region, {"document": "文件"}, checked)


PARAMETER = Parameter(
    name="a.days",
    description="天数",
    type="integer",
    unit="工作日",
    source="x.yaml",
    values=(_value(5, "2020-01-01", "2024-01-01"), _value(None, "2024-01-01")),
    regions={
        "420000": (_value(7, "2021-01-01", "2022-01-01", "420000"), _value(None, "2022-01-01", None, "420000")),
        "420100": (_value(9, "2021-06-01", None, "420100"),),
    },
)


@pytest.mark.parametrize(
    ("day", "lineage", "expected", "region"),
    [
        ("2020-01-01", [], 5, None),  # from is inclusive
        ("2023-12-31", [], 5, None),
        ("2024-01-01", [], None, None),  # null ends the parameter
        ("2021-03-01", ["420102", "420100", "420000"], 7, "420000"),  # the province's value
        ("2021-06-01", ["420102", "420100", "420000"], 9, "420100"),  # the city's is more specific
        ("2021-06-01", ["420500", "420000"], 7, "420000"),
        ("2022-01-01", ["420500", "420000"], 5, None),  # a regional null ends the override
        ("2021-03-01", ["110000"], 5, None),
    ],
)
def test_value_on_a_date_for_a_region(day, lineage, expected, region):
    found = PARAMETER.at(dt.date.fromisoformat(day), lineage)
    assert (found.value, found.region) == (expected, region)


def test_before_the_first_value_there_is_none():
    with pytest.raises(DomainError) as raised:
        PARAMETER.at(dt.date(2019, 12, 31))
    assert raised.value.code == "parameter_not_in_force" and "2019-12-31" in raised.value.detail


@given(
    starts=st.lists(st.dates(dt.date(2000, 1, 1), dt.date(2030, 1, 1)), min_size=1, max_size=6, unique=True),
    day=st.dates(dt.date(2000, 1, 1), dt.date(2031, 1, 1)),
)
def test_the_value_in_force_is_the_last_one_started(starts, day):
    starts = sorted(starts)
    values = tuple(_value(index, s.isoformat()) for index, s in enumerate(starts))
    parameter = Parameter("a.days", "天数", "integer", "", "x.yaml", values)
    started = [index for index, s in enumerate(starts) if s <= day]
    if not started:
        with pytest.raises(DomainError):
            parameter.at(day)
    else:
        found = parameter.at(day)
        assert found.value == started[-1] and found.valid_from <= day
