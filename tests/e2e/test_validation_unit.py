"""How pydantic's errors become the API's: the field's Chinese label, a Chinese message per error type."""

from __future__ import annotations

import enum
import string
from typing import Literal

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import BaseModel, Field, ValidationError

from tongban.validation import MESSAGES, field_label, message, readable_error, summary


class Kind(enum.Enum):
    FIRST = "first"
    SECOND = "second"


class Person(BaseModel):
    name: str = Field(..., max_length=8, description="申请人（经办人）姓名")
    id_number: str = Field(..., title="公民身份号码", description="18 位号码")


class Payload(BaseModel):
    applicant: Person | None = Field(None, description="申请人；网上申请时为本人")
    kind: Literal["marriage", "divorce"] = Field("marriage", description="登记类型：marriage 结婚，divorce 离婚")
    order: Kind = Field(Kind.FIRST, description="顺序")
    count: int = Field(1, ge=1, le=15, description="延长工作日数")
    form: dict[str, int] = Field(default_factory=dict, description="申请表单")
    tags: list[str] = Field(default_factory=list, max_length=2)


class Body(BaseModel):
    """What ninja builds for a view with one body parameter: the body under the parameter's name."""

    payload: Payload


def errors_for(data: dict) -> list[dict]:
    with pytest.raises(ValidationError) as raised:
        Body.model_validate({"payload": data})
    return [readable_error(Body, "body", e, tuple(e["loc"])) for e in raised.value.errors(include_url=False)]


def only(data: dict) -> dict:
    [error] = errors_for(data)
    return error


def test_label_is_the_title_or_the_description_up_to_its_first_clause():
    assert field_label("id_number", Person.model_fields["id_number"]) == "公民身份号码"
    assert field_label("name", Person.model_fields["name"]) == "申请人"
    assert field_label("tags", Payload.model_fields["tags"]) == "tags"
    assert field_label("kind", Payload.model_fields["kind"]) == "登记类型"


def test_nested_fields_are_named_by_the_inner_label_and_a_dotted_field():
    error = only({"applicant": {"name": "张三"}})
    assert error == {
        "field": "applicant.id_number",
        "label": "公民身份号码",
        "code": "missing",
        "message": "“公民身份号码”为必填项。",
        "loc": ["body", "payload", "applicant", "id_number"],
    }


def test_a_mapping_key_is_named_inside_its_field():
    error = only({"form": {"age": "x"}})
    assert (error["field"], error["label"], error["code"]) == ("form.age", "申请表单（age）", "int_parsing")
    assert error["message"] == "“申请表单（age）”应为整数。"


def test_choices_list_the_allowed_values():
    assert only({"kind": "engagement"})["message"] == "“登记类型”应为以下之一：marriage、divorce。"
    assert only({"order": "third"})["message"] == "“顺序”应为以下之一：first、second。"


def test_bounds_and_lengths():
    assert only({"count": 0})["message"] == "“延长工作日数”不能小于 1。"
    assert only({"count": 16})["message"] == "“延长工作日数”不能大于 15。"
    assert only({"tags": ["a", "b", "c"]})["message"] == "“tags”最多只能有 2 项。"


def test_the_whole_body_missing_is_the_body():
    with pytest.raises(ValidationError) as raised:
        Body.model_validate({})
    [error] = [readable_error(Body, "body", e, tuple(e["loc"])) for e in raised.value.errors()]
    assert (error["field"], error["message"]) == ("payload", "“payload”为必填项。")


@given(st.text(alphabet=string.ascii_letters + "张王李", min_size=9, max_size=40))
def test_any_too_long_name_says_the_limit(name):
    error = only({"applicant": {"name": name, "id_number": "x"}})
    assert error["message"] == "“申请人”不能超过 8 个字符。"


@pytest.mark.parametrize("kind", sorted(MESSAGES))
def test_every_message_is_chinese_and_fully_formatted(kind):
    ctx = {"min_length": 2, "max_length": 9, "gt": 1, "ge": 1, "lt": 9, "le": 9, "expected": "'a' or 'b'"}
    ctx["error"] = "原因"
    text = message(kind, "字段", ctx, None)
    assert "{" not in text and "}" not in text
    assert any("\u4e00" <= ch <= "\u9fff" for ch in text)


def test_an_unknown_error_type_still_reads_as_chinese():
    assert message("something_new", "字段", {}, None) == "“字段”的取值不符合要求。"


def test_summary_counts_and_shows_the_first_messages():
    errors = [{"message": f"第{i}项有误。"} for i in range(1, 6)]
    assert summary(errors) == "请求有 5 处问题：第1项有误；第2项有误；第3项有误；……"
    assert summary(errors[:1]) == "请求有 1 处问题：第1项有误。"
