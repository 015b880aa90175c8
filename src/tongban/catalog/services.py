"""Catalog queries used by the cases app: which version applies, whether a form is complete,
which materials are still missing and which region owns a case."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterable
from typing import Any

from django.db.models import Q

from tongban.catalog.models import Coverage, Item, ItemVersion, JurisdictionRule, Leg, Material, Mode
from tongban.catalog.spec import DEFAULT_HANDOVER_DAYS, RULE_FACTS
from tongban.errors import DomainError, NotFound
from tongban.identity.validators import validate_citizen_id, validate_credit_code
from tongban.regions.models import Node, Region

FACT_LABELS = {
    "hukou_region": "户籍地",
    "insured_region": "参保地",
    "fund_region": "住房公积金缴存地",
    "domicile_region": "住所地",
    "property_region": "不动产所在地",
    "residence_permit_region": "居住证发放地",
    "destination_region": "迁入地（转入地）",
    "origin_region": "迁出地（转出地）",
    "chosen_region": "申请人选择的办理地",
}
# What a yes/no answer may be given as, in a form and in the eligibility query alike.
TRUE_WORDS = ("true", "1", "是", "yes")
FALSE_WORDS = ("false", "0", "否", "no")
REGION_CODE_RE = re.compile(r"^\d{6}$")
DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
MOBILE_RE = re.compile(r"^1[3-9]\d{9}$")
LANDLINE_RE = re.compile(r"^0\d{2,3}-?\d{7,8}$")


# --- which version applies ----------------------------------------------------------------------


def _in_force(on: dt.date) -> Q:
    return Q(valid_from__lte=on) & (Q(valid_until__isnull=True) | Q(valid_until__gt=on))


def get_item(code: str) -> Item:
    item = Item.objects.filter(code=code).first()
    if item is None:
        raise NotFound("item_unknown", f"事项不存在：{code}")
    return item


def version_in_force(item: Item, on: dt.date) -> ItemVersion:
    version = item.versions.filter(_in_force(on)).first()
    if version is None:
        raise DomainError("item_not_in_force", f"事项“{item.name}”于 {on.isoformat()} 没有有效的版本。", status=422)
    return version


def coverage_in_force(item: Item, node: str, on: dt.date) -> list[Coverage]:
    return list(Coverage.objects.filter(_in_force(on), item=item, node_id=node))


def resolve_item_version(code: str, node: str, on: dt.date, mode: str | None = None) -> ItemVersion:
    """The version a case submitted at `node` on `on` must use; refuses what the node does not offer."""
    item = get_item(code)
    version = version_in_force(item, on)
    node_row = Node.objects.filter(code=node).first()
    if node_row is None:
        raise NotFound("node_unknown", f"节点不存在：{node}")
    coverage = coverage_in_force(item, node, on)
    if not coverage:
        raise DomainError(
            "item_not_offered",
            f"该事项在{node_row.name}（{node}）于 {on.isoformat()} 不提供跨省通办。",
            status=422,
        )
    if mode is not None:
        offered = {m for c in coverage for m in c.modes} & set(version.modes)
        if mode not in offered:
            label = Mode(mode).label if mode in Mode.values else mode
            shown = "、".join(Mode(m).label for m in Mode.values if m in offered) or "无"
            raise DomainError(
                "mode_not_offered",
                f"该事项在{node_row.name}（{node}）于 {on.isoformat()} 不提供“{label}”办理模式（可选：{shown}）。",
                status=422,
            )
    return version


def proxy_handover_days(code: str, node: str, on: dt.date) -> dict[str, int]:
    """Working days for each 异地代收代办 handover step at the accepting node (push, mail, recheck, result_mail)."""
    for coverage in coverage_in_force(get_item(code), node, on):
        if Mode.PROXY in coverage.modes:
            return DEFAULT_HANDOVER_DAYS | coverage.proxy_handover_days
    return dict(DEFAULT_HANDOVER_DAYS)


# --- forms --------------------------------------------------------------------------------------


def _error(field: str, code: str, message: str) -> dict[str, str]:
    return {"field": field, "code": code, "message": message}


def _is_empty(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def validate_form(version: ItemVersion, data: dict[str, Any]) -> dict[str, Any]:
    """Return the cleaned form data, or raise `invalid_form` listing every problem at once."""
    if not isinstance(data, dict):
        raise DomainError(
            "invalid_form",
            "表单数据必须是对象（字段名: 取值）。",
            status=422,
            errors=[_error("", "not_an_object", "表单数据必须是对象（字段名: 取值）。")],
        )
    fields = {f["name"]: f for f in version.form_fields}
    errors = [_error(name, "unknown_field", f"本事项的表单没有“{name}”这一项。") for name in data if name not in fields]
    cleaned: dict[str, Any] = {}
    for name, field in fields.items():
        value = data.get(name)
        if _is_empty(value):
            if field.get("required"):
                errors.append(_error(name, "required", f"请填写“{field['label']}”。"))
            continue
        try:
            cleaned[name] = _clean(field, value)
        except DomainError as exc:
            errors.append(_error(name, exc.code, f"“{field['label']}”：{exc.detail}"))
    errors += _unknown_regions(fields, cleaned)
    if errors:
        raise DomainError(
            "invalid_form", f"表单有 {len(errors)} 处问题，请逐项修改后重新提交。", status=422, errors=errors
        )
    return cleaned


def _clean(field: dict[str, Any], value: Any) -> Any:
    return _CLEANERS[field["type"]](field, value)


def _text(field: dict[str, Any], value: Any) -> str:
    if not isinstance(value, str):
        raise DomainError("invalid_type", "应填写文本。")
    return value.strip()


def _date(field: dict[str, Any], value: Any) -> str:
    text = value.isoformat() if isinstance(value, dt.date) else value
    if isinstance(text, str) and DATE_RE.match(text.strip()):
        try:
            return dt.date.fromisoformat(text.strip()).isoformat()
        except ValueError:
            pass
    raise DomainError("invalid_date", "应为有效日期，格式 YYYY-MM-DD。")


def _id_number(field: dict[str, Any], value: Any) -> str:
    return validate_citizen_id(_text(field, value))


def _credit_code(field: dict[str, Any], value: Any) -> str:
    return validate_credit_code(_text(field, value))


def _region(field: dict[str, Any], value: Any) -> str:
    code = value.strip() if isinstance(value, str) else ""
    if not REGION_CODE_RE.match(code):
        raise DomainError("invalid_region", "应为 6 位行政区划代码。")
    return code


def _choice(field: dict[str, Any], value: Any) -> str:
    choices = field.get("choices") or []
    if value not in choices:
        raise DomainError("invalid_choice", "应从以下选项中选择：" + "、".join(choices) + "。")
    return value


def _phone(field: dict[str, Any], value: Any) -> str:
    phone = _text(field, value).replace(" ", "")
    if not (MOBILE_RE.match(phone) or LANDLINE_RE.match(phone)):
        raise DomainError("invalid_phone", "应为 11 位手机号码或带区号的固定电话号码。")
    return phone


def _integer(field: dict[str, Any], value: Any) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and re.fullmatch(r"-?\d+", value.strip()):
        return int(value.strip())
    raise DomainError("invalid_integer", "应为整数。")


def parse_boolean(value: Any) -> bool | None:
    """True or False for a yes/no answer (true/false, 1/0, 是/否, yes/no, or a JSON boolean); None otherwise."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        word = value.strip().lower()
        if word in TRUE_WORDS:
            return True
        if word in FALSE_WORDS:
            return False
    return None


def _boolean(field: dict[str, Any], value: Any) -> bool:
    parsed = parse_boolean(value)
    if parsed is None:
        raise DomainError("invalid_boolean", "应为“是”或“否”（也可填 true 或 false）。")
    return parsed


_CLEANERS: dict[str, Callable[[dict[str, Any], Any], Any]] = {
    "text": _text,
    "date": _date,
    "id_number": _id_number,
    "credit_code": _credit_code,
    "region": _region,
    "choice": _choice,
    "phone": _phone,
    "integer": _integer,
    "boolean": _boolean,
}


def _unknown_regions(fields: dict[str, dict[str, Any]], cleaned: dict[str, Any]) -> list[dict[str, str]]:
    """One query for all region fields: each code must be a known division."""
    wanted = {name: cleaned[name] for name, f in fields.items() if f["type"] == "region" and name in cleaned}
    known = set(Region.objects.filter(code__in=set(wanted.values())).values_list("code", flat=True))
    return [
        _error(name, "unknown_region", f"“{fields[name]['label']}”：行政区划代码 {code} 不存在。")
        for name, code in wanted.items()
        if code not in known
    ]


# --- materials ----------------------------------------------------------------------------------


def _matches(when: dict[str, Any], form_data: dict[str, Any]) -> bool:
    for name, expected in when.items():
        allowed = expected if isinstance(expected, list) else [expected]
        if name not in form_data or form_data[name] not in allowed:
            return False
    return True


def required_materials(version: ItemVersion, form_data: dict[str, Any]) -> list[Material]:
    """Required materials plus the conditional ones whose `when` matches the form."""
    return [
        m
        for m in version.materials.all()
        if m.requirement == Material.Requirement.REQUIRED or (m.when and _matches(m.when, form_data))
    ]


def missing_materials(
    version: ItemVersion,
    form_data: dict[str, Any],
    provided_codes: set[str],
    licence_types_available: Iterable[str] = frozenset(),
) -> list[Material]:
    """What the applicant must still supply; a material whose e-licence can be fetched by sharing is not
    missing (国务院令第716号: what can be shared must not be asked for again)."""
    shared = set(licence_types_available)
    return [
        m
        for m in required_materials(version, form_data)
        if m.code not in provided_codes and not (m.licence_type and m.licence_type in shared)
    ]


# --- jurisdiction -------------------------------------------------------------------------------


def _fact(facts: dict[str, Any], key: str) -> str:
    value = facts.get(key)
    label = FACT_LABELS.get(key, key)
    if _is_empty(value):
        raise DomainError(
            "jurisdiction_fact_missing", f"无法确定办理地：缺少“{label}”的行政区划代码（{key}）。", status=422
        )
    if not isinstance(value, str) or not REGION_CODE_RE.match(value.strip()):
        raise DomainError(
            "jurisdiction_fact_invalid", f"“{label}”（{key}）应为 6 位行政区划代码，收到的是“{value}”。", status=422
        )
    return value.strip()


def owner_region(version: ItemVersion, facts: dict[str, Any]) -> str:
    """The region whose department decides, per the version's jurisdiction rule."""
    return _fact(facts, RULE_FACTS[JurisdictionRule(version.jurisdiction_rule)])


def leg_regions(version: ItemVersion, facts: dict[str, Any]) -> list[tuple[Leg, str]]:
    """Each 多地联办 leg with the region that handles it."""
    result = []
    for leg in version.legs.all():
        if leg.place == Leg.Place.DESTINATION:
            region = _fact(facts, "destination_region")
        elif leg.place == Leg.Place.ORIGIN:
            region = _fact(facts, "origin_region")
        else:
            region = owner_region(version, facts)
        result.append((leg, region))
    return result
