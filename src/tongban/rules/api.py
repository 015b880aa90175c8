"""GET /api/v1/items/{code}/eligibility: can this item be done here, on this date, for these facts — and why."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpRequest
from ninja import Field, Path, Query, Router, Schema

from tongban import clock
from tongban.catalog.api import labelled_choices
from tongban.catalog.models import Leg, LimitUnit, Material, Mode
from tongban.catalog.services import parse_boolean
from tongban.errors import DomainError
from tongban.problems import problems
from tongban.rules.eligibility import eligibility, form_field_types, known_facts

router = Router(tags=["资格与办理地"])

RESERVED = ("node", "on", "mode")


MODES = labelled_choices(Mode)
FUNCTION = "部门职能代码，如 yibao 医疗保障、renshe 人力资源社会保障、gongjijin 住房公积金"


class ReasonOut(Schema):
    code: str = Field(..., description="原因代码（见 docs/api.md 的 Eligibility reasons）")
    detail: str = Field(..., description="给申请人的中文说明")


class OwnerOut(Schema):
    region: str = Field(..., description="属地区划代码")
    node: str = Field(..., description="属地节点")
    department_function: str = Field(..., description=FUNCTION)
    department: str = Field(..., description="办理部门名称")


class MaterialOut(Schema):
    code: str = Field(..., description="材料编码")
    name: str = Field(..., description="材料名称")
    requirement: str = Field(..., description=f"要求：{labelled_choices(Material.Requirement)}（已按事实判断为需要）")
    form: str = Field(..., description=f"形式：{labelled_choices(Material.Form)}")
    licence_type: str = Field(..., description="可由电子证照代替时的证照类型")
    condition: str = Field(..., description="需要提交的情形")


class LimitOut(Schema):
    value: int = Field(..., description="时限数值")
    unit: str = Field(..., description=f"单位代码：{labelled_choices(LimitUnit)}")
    unit_label: str = Field(..., description="单位名称")


class LimitsOut(Schema):
    legal: LimitOut = Field(..., description="法定时限")
    promised: LimitOut = Field(..., description="承诺时限")
    immediate: bool = Field(..., description="是否即办件")


class LegOut(Schema):
    order: int = Field(..., description="顺序")
    name: str = Field(..., description="环节名称")
    place: str = Field(..., description=f"办理地：{labelled_choices(Leg.Place)}")
    region: str = Field(..., description="办理地区划代码")
    node: str = Field(..., description="办理节点")
    department_function: str = Field(..., description=FUNCTION)
    department: str = Field(..., description="办理部门名称")
    limit: LimitOut = Field(..., description="本环节时限")


class EligibilityOut(Schema):
    item: str = Field(..., description="事项编码")
    version: int | None = Field(..., description="当日有效的事项版本；没有则为空")
    on: str = Field(..., description="按哪一天的规定回答（YYYY-MM-DD）")
    node: str = Field(..., description="申请人所在节点")
    available: bool = Field(..., description="能否在此办理（没有不能办理的原因）")
    reasons: list[ReasonOut] = Field(..., description="不能办理的每个原因")
    modes: list[str] = Field(..., description=f"该节点当日提供的办理模式代码：{MODES}")
    mode: str | None = Field(..., description=f"所请求或唯一提供的办理模式代码（{MODES}）；否则为空")
    owner: OwnerOut | None = Field(..., description="属地（由哪个地区的哪个部门办理）；无法确定时为空")
    materials: list[MaterialOut] = Field(..., description="一次性告知的申请材料")
    limits: LimitsOut | None = Field(..., description="办理时限；没有有效版本时为空")
    legs: list[LegOut] = Field(..., description="多地联办的各环节")
    source: str | None = Field(..., description="事项版本的公开来源")
    unverified: list[str] = Field(..., description="未取自公开来源的要素（事项版本字段、coverage.…、parameters.…）")
    trace: list[dict[str, Any]] = Field(..., description="答复依据：事项版本、通办范围、规则版本及其参数与法律依据")


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
    mode: str | None = Query(None, description=f"办理模式：{MODES}"),
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
        raise _invalid(f"办理模式“{mode}”无效，可选：{MODES}。")
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
