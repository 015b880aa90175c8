"""Public catalog API: the item list with filters and pinyin search, and each item's 办事指南."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from typing import Any

from django.db.models import Q
from django.http import HttpRequest
from ninja import Field, Path, Query, Router, Schema

from tongban import clock
from tongban.catalog.models import (
    ApplicantType,
    Coverage,
    Item,
    ItemType,
    ItemVersion,
    JurisdictionRule,
    Leg,
    LimitUnit,
    Material,
    Mode,
    Theme,
)
from tongban.catalog.search import item_filter
from tongban.catalog.services import get_item, version_in_force
from tongban.catalog.spec import DELIVERY_LABELS, FIELD_TYPE_LABELS
from tongban.errors import DomainError
from tongban.problems import problems
from tongban.regions.models import DepartmentFunction, Node

router = Router(tags=["事项目录"])


class CodeLabel(Schema):
    code: str
    label: str


class LimitOut(Schema):
    value: int
    unit: str
    unit_label: str
    text: str


class ItemSummary(Schema):
    code: str
    name: str
    theme: str
    applicant_type: CodeLabel
    department_function: CodeLabel
    item_type: CodeLabel
    version: int
    is_immediate: bool
    modes: list[CodeLabel]
    promised_limit: LimitOut


class ThemeCount(Schema):
    theme: str
    count: int


class ItemList(Schema):
    on: dt.date
    count: int
    theme_counts: list[ThemeCount]
    items: list[ItemSummary]


class FormFieldOut(Schema):
    name: str
    label: str
    type: CodeLabel
    required: bool
    choices: list[str]
    help: str


class MaterialOut(Schema):
    code: str
    name: str
    requirement: CodeLabel
    condition: str
    when: dict[str, Any]
    form: CodeLabel
    licence_type: str


class LegOut(Schema):
    order: int
    name: str
    place: CodeLabel
    department_function: CodeLabel
    limit: LimitOut


class CoverageOut(Schema):
    node: str
    node_name: str
    modes: list[CodeLabel]
    valid_from: dt.date
    valid_until: dt.date | None
    proxy_handover_days: dict[str, int]
    note: str
    source: str
    unverified: list[str]


class VersionRef(Schema):
    version: int
    valid_from: dt.date
    valid_until: dt.date | None


class ItemGuide(Schema):
    code: str
    name: str
    theme: str
    applicant_type: CodeLabel
    department_function: CodeLabel
    item_type: CodeLabel
    on: dt.date
    version: int
    valid_from: dt.date
    valid_until: dt.date | None
    is_immediate: bool
    modes: list[CodeLabel]
    jurisdiction_rule: CodeLabel
    legal_limit: LimitOut
    promised_limit: LimitOut
    conditions: str
    form_fields: list[FormFieldOut]
    materials: list[MaterialOut]
    legs: list[LegOut]
    fees: str
    result_type: str
    result_licences: list[CodeLabel] = Field(..., description="办结（准予）时签发的电子证照类型")
    result_delivery: list[CodeLabel]
    legal_basis: str
    source: str
    unverified: list[str]
    notes: str
    coverage: list[CoverageOut]
    versions: list[VersionRef]


# --- helpers ------------------------------------------------------------------------------------


def _result_licences(version: ItemVersion) -> list[dict[str, str]]:
    from tongban.licences.models import LicenceType

    chosen = version.result_licence
    codes = list(chosen["types"].values()) if isinstance(chosen, dict) else [chosen] if chosen else []
    names = dict(LicenceType.objects.filter(code__in=codes).values_list("code", "name"))
    # Sorted: a JSON object's key order is not kept by every database (PostgreSQL's jsonb reorders).
    return [{"code": code, "label": names.get(code, code)} for code in sorted(set(codes))]


def labelled_choices(choices: Any) -> str:
    """`online 全程网办、proxy 异地代收代办、…` for a parameter's description (codes with their Chinese names)."""
    return "、".join(code if code == label else f"{code} {label}" for code, label in choices.choices)


def choice_query(choices: Any, description: str) -> Any:
    """An optional query parameter taking one of `choices` (422 invalid_query otherwise), described with their
    Chinese names."""
    return Query(None, description=f"{description}：{labelled_choices(choices)}")


ON_QUERY = Query(None, description="按哪一天的目录回答，格式 YYYY-MM-DD；默认为今天（北京时间）")
INVALID_QUERY = {"invalid_query": "主题、申请人类型、办理模式、节点或日期无效"}


def _cl(choices: Any, code: str) -> dict[str, str]:
    labels = dict(choices.choices) if hasattr(choices, "choices") else dict(choices)
    return {"code": code, "label": labels.get(code, code)}


def _modes(modes: list[str]) -> list[dict[str, str]]:
    return [_cl(Mode, m) for m in Mode.values if m in modes]


def _limit(value: int, unit: str) -> dict[str, Any]:
    label = LimitUnit(unit).label
    text = f"{value}年" if unit == LimitUnit.YEAR else f"{value}个{label}"
    return {"value": value, "unit": unit, "unit_label": label, "text": text}


def _invalid_query(detail: str) -> DomainError:
    return DomainError("invalid_query", detail, status=422)


def _parse_on(on: str | None) -> dt.date:
    if not on:
        return clock.today()
    try:
        return dt.date.fromisoformat(on)
    except ValueError:
        raise _invalid_query(f"日期“{on}”无效，格式应为 YYYY-MM-DD。") from None


def _require_choice(value: str | None, allowed: list[str], what: str) -> None:
    if value is not None and value not in allowed:
        raise _invalid_query(f"{what}“{value}”无效，可选：{'、'.join(allowed)}。")


def _in_force(on: dt.date) -> Q:
    return Q(valid_from__lte=on) & (Q(valid_until__isnull=True) | Q(valid_until__gt=on))


def _offered_modes(on: dt.date, node: str | None) -> dict[str, set[str]]:
    """Item code → modes offered on `on` (at `node`, or anywhere when no node is given)."""
    rows = Coverage.objects.filter(_in_force(on))
    if node:
        rows = rows.filter(node_id=node)
    offered: dict[str, set[str]] = {}
    for item_id, modes in rows.values_list("item_id", "modes"):
        offered.setdefault(item_id, set()).update(modes)
    return offered


def _summary(item: Item, version: ItemVersion, modes: list[str]) -> dict[str, Any]:
    return {
        "code": item.code,
        "name": item.name,
        "theme": item.theme,
        "applicant_type": _cl(ApplicantType, item.applicant_type),
        "department_function": _cl(DepartmentFunction, item.department_function),
        "item_type": _cl(ItemType, item.item_type),
        "version": version.version,
        "is_immediate": version.is_immediate,
        "modes": _modes(modes),
        "promised_limit": _limit(version.promised_limit, version.promised_limit_unit),
    }


# --- endpoints ----------------------------------------------------------------------------------


@router.get(
    "",
    response=ItemList,
    summary="事项目录（可按主题、申请人类型、办理模式、节点筛选，支持拼音首字母、简称和常用说法搜索）",
    openapi_extra=problems({422: INVALID_QUERY}),
)
def list_items(
    request: HttpRequest,
    theme: str | None = choice_query(Theme, "主题"),
    applicant_type: str | None = choice_query(ApplicantType, "申请人类型"),
    mode: str | None = choice_query(Mode, "办理模式"),
    node: str | None = Query(None, description="节点编码（如 370000）：只列在该节点跨省通办的事项及其在该节点的模式"),
    q: str | None = Query(
        None,
        description="搜索：事项名称或编码的一部分；也可用拼音、拼音首字母（ylbx）或常用简称（医保、公积金、社保）",
    ),
    on: str | None = ON_QUERY,
) -> dict[str, Any]:
    day = _parse_on(on)
    _require_choice(theme, Theme.values, "主题")
    _require_choice(applicant_type, ApplicantType.values, "申请人类型")
    _require_choice(mode, Mode.values, "办理模式")
    if node and not Node.objects.filter(code=node).exists():
        raise _invalid_query(f"节点“{node}”不存在。")

    items = Item.objects.all()
    if applicant_type:
        items = items.filter(applicant_type=applicant_type)
    if q and q.strip():
        items = items.filter(item_filter(q))
    versions = {v.item_id: v for v in ItemVersion.objects.filter(_in_force(day), item__in=items)}
    offered = _offered_modes(day, node)

    rows = []
    for item in items.order_by("code"):
        version = versions.get(item.code)
        if version is None:
            continue
        modes = [m for m in version.modes if m in offered.get(item.code, set())]
        if (node and not modes) or (mode and mode not in modes):
            continue
        rows.append((item, version, modes))

    # Counts per theme ignore the theme filter itself, so the client can show every theme's count.
    counts = Counter(item.theme for item, _, _ in rows)
    if theme:
        rows = [row for row in rows if row[0].theme == theme]
    return {
        "on": day,
        "count": len(rows),
        "theme_counts": [{"theme": t, "count": counts[t]} for t in Theme.values if counts[t]],
        "items": [_summary(*row) for row in rows],
    }


@router.get(
    "/{code}",
    response=ItemGuide,
    summary="办事指南（默认为今天有效的版本，可用 on=YYYY-MM-DD 查询历史版本）",
    openapi_extra=problems(
        {
            404: {"item_unknown": "事项不存在"},
            422: {"item_not_in_force": "事项在该日期没有有效的版本", "invalid_query": "日期 on 无效"},
        }
    ),
)
def item_guide(
    request: HttpRequest,
    code: str = Path(..., description="事项编码（基本编码），如 TB-minzheng-001"),
    on: str | None = ON_QUERY,
) -> dict[str, Any]:
    day = _parse_on(on)
    item = get_item(code)
    version = version_in_force(item, day)
    coverage = Coverage.objects.filter(_in_force(day), item=item).select_related("node").order_by("node_id")
    return {
        **_summary(item, version, version.modes),
        "on": day,
        "valid_from": version.valid_from,
        "valid_until": version.valid_until,
        "jurisdiction_rule": _cl(JurisdictionRule, version.jurisdiction_rule),
        "legal_limit": _limit(version.legal_limit, version.legal_limit_unit),
        "conditions": version.conditions,
        "form_fields": [_form_field(f) for f in version.form_fields],
        "materials": [_material(m) for m in version.materials.all()],
        "legs": [_leg(leg) for leg in version.legs.all()],
        "fees": version.fees,
        "result_type": version.result_type,
        "result_licences": _result_licences(version),
        "result_delivery": [_cl(DELIVERY_LABELS, d) for d in version.result_delivery],
        "legal_basis": version.legal_basis,
        "source": version.source,
        "unverified": version.unverified,
        "notes": version.notes,
        "coverage": [_coverage(c) for c in coverage],
        "versions": list(item.versions.values("version", "valid_from", "valid_until")),
    }


def _form_field(field: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": field["name"],
        "label": field["label"],
        "type": _cl(FIELD_TYPE_LABELS, field["type"]),
        "required": field.get("required", False),
        "choices": field.get("choices", []),
        "help": field.get("help", ""),
    }


def _material(m: Material) -> dict[str, Any]:
    return {
        "code": m.code,
        "name": m.name,
        "requirement": _cl(Material.Requirement, m.requirement),
        "condition": m.condition,
        "when": m.when,
        "form": _cl(Material.Form, m.form),
        "licence_type": m.licence_type,
    }


def _leg(leg: Leg) -> dict[str, Any]:
    return {
        "order": leg.order,
        "name": leg.name,
        "place": _cl(Leg.Place, leg.place),
        "department_function": _cl(DepartmentFunction, leg.department_function),
        "limit": _limit(leg.limit, LimitUnit.WORKING_DAY),
    }


def _coverage(c: Coverage) -> dict[str, Any]:
    return {
        "node": c.node_id,
        "node_name": c.node.name,
        "modes": _modes(c.modes),
        "valid_from": c.valid_from,
        "valid_until": c.valid_until,
        "proxy_handover_days": c.proxy_handover_days,
        "note": c.note,
        "source": c.source,
        "unverified": c.unverified,
    }
