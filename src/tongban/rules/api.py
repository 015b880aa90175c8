"""GET /api/v1/items/{code}/eligibility: can this item be done here, on this date, for these facts — and why."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpRequest
from ninja import Path, Query, Router, Schema

from tongban import clock
from tongban.catalog.api import labelled_choices
from tongban.catalog.models import Mode
from tongban.catalog.services import parse_boolean
from tongban.errors import DomainError
from tongban.problems import problems
from tongban.rules.eligibility import eligibility, form_field_types, known_facts

router = Router(tags=["资格与办理地"])

RESERVED = ("node", "on", "mode")


class ReasonOut(Schema):
    code: str
    detail: str


class OwnerOut(Schema):
    region: str
    node: str
    department_function: str
    department: str


class MaterialOut(Schema):
    code: str
    name: str
    requirement: str
    form: str
    licence_type: str
    condition: str


class LimitOut(Schema):
    value: int
    unit: str
    unit_label: str


class LimitsOut(Schema):
    legal: LimitOut
    promised: LimitOut
    immediate: bool


class LegOut(Schema):
    order: int
    name: str
    place: str
    region: str
    node: str
    department_function: str
    department: str
    limit: LimitOut


class EligibilityOut(Schema):
    item: str
    version: int | None
    on: str
    node: str
    available: bool
    reasons: list[ReasonOut]
    modes: list[str]
    mode: str | None
    owner: OwnerOut | None
    materials: list[MaterialOut]
    limits: LimitsOut | None
    legs: list[LegOut]
    source: str | None
    unverified: list[str]
    trace: list[dict[str, Any]]


DESCRIPTION = """\
按申请人所在节点、日期和申请人情况（事实）回答：该事项能否在此办理、可选的办理模式、由哪个地区的哪个部门办理、
需要提交哪些材料（一次性告知）、办理时限，以及不能办理的原因；`trace` 列出所用的事项版本、通办范围、
规则版本、参数取值及其法律依据。

事实以查询参数传入（`参数名=取值`）：管辖事实（如 `hukou_region`、`insured_region`、`destination_region`，
取值为 6 位行政区划代码）、该事项表单中的字段（用于判断情形必要的材料），以及事项规则需要的事实。
例如婚姻登记：`party_a_hukou_region`（男方户籍地）、`party_b_hukou_region`（女方户籍地）、
`residence_permit_region`（居住证发放地）、`permit_holder`（居住证持有人）、`chosen_region`（婚姻登记机关所在地）。
本事项不认识的参数名返回 422 `invalid_request`；事项不存在返回 404 `item_unknown`。
不能办理不是错误：返回 200，`available` 为 false，`reasons` 说明原因。公开接口，无需登录。
"""

FACTS_PARAMETER = {
    "name": "facts",
    "in": "query",
    "required": False,
    "style": "form",
    "explode": True,
    "description": "申请人情况（事实），每个事实一个查询参数，如 `chosen_region=420102&party_a_hukou_region=430102`。",
    "schema": {"type": "object", "additionalProperties": {"type": "string"}},
}


@router.get(
    "/{code}/eligibility",
    response=EligibilityOut,
    summary="资格与办理地答复（能否在此办理、办理模式、属地部门、一次性告知材料、时限及依据）",
    description=DESCRIPTION,
    openapi_extra=problems(
        {
            404: {"item_unknown": "事项不存在"},
            422: {"invalid_request": "缺少 node，日期或办理模式无效，或有本事项不使用、类型不对的事实"},
        },
        parameters=[FACTS_PARAMETER],
    ),
)
def item_eligibility(
    request: HttpRequest,
    code: str = Path(..., description="事项编码（基本编码），如 TB-minzheng-001"),
    node: str = Query(..., description="申请人所在的平台节点编码（省级区划代码，国家平台为 000000）"),
    on: str | None = Query(None, description="按哪一天的规定回答，格式 YYYY-MM-DD；默认为今天"),
    mode: str | None = Query(None, description=f"办理模式：{labelled_choices(Mode)}"),
) -> dict[str, Any]:
    facts = _facts(code, request)
    return eligibility(code, node, _day(on), facts, _mode(mode))


def _invalid(detail: str, errors: list[dict[str, str]] | None = None) -> DomainError:
    return DomainError("invalid_request", detail, status=422, errors=errors or [])


def _day(on: str | None) -> dt.date:
    if not on:
        return clock.today()
    try:
        return dt.date.fromisoformat(on)
    except ValueError:
        raise _invalid(f"日期“{on}”无效，格式应为 YYYY-MM-DD。") from None


def _mode(mode: str | None) -> str | None:
    if mode and mode not in Mode.values:
        raise _invalid(f"办理模式“{mode}”无效，可选：{labelled_choices(Mode)}。")
    return mode or None


def _facts(code: str, request: HttpRequest) -> dict[str, Any]:
    """The query parameters other than node, on and mode, checked against the facts the item understands."""
    known = known_facts(code)
    types = form_field_types(code)
    facts: dict[str, Any] = {}
    errors: list[dict[str, str]] = []
    for name in request.GET:
        if name in RESERVED:
            continue
        value = request.GET.get(name, "").strip()
        if name not in known:
            errors.append({"field": name, "code": "unknown_fact", "message": f"本事项不使用事实“{name}”。"})
        elif value:
            try:
                facts[name] = _typed(types.get(name, "text"), value)
            except ValueError as exc:
                errors.append({"field": name, "code": "invalid_fact", "message": f"“{known[name]}”：{exc}"})
    if errors:
        raise _invalid(f"查询参数有 {len(errors)} 处问题：" + "；".join(e["message"] for e in errors), errors)
    return facts


def _typed(kind: str, value: str) -> Any:
    if kind == "boolean":
        parsed = parse_boolean(value)
        if parsed is None:
            raise ValueError("应为“是”或“否”（也可填 true 或 false）。")
        return parsed
    if kind == "integer":
        try:
            return int(value)
        except ValueError:
            raise ValueError("应为整数。") from None
    return value
