"""Request validation errors in the user's terms: each names its field by the field's Chinese label.

pydantic reports `{"type": "missing", "loc": ("payload", "password"), "msg": "Field required"}`; the API answers
`{"field": "password", "label": "密码", "code": "missing", "message": "“密码”为必填项。", "loc": [...]}`. The label is
the field's `title`, else its `description` up to the first clause mark, else its name.
"""

from __future__ import annotations

import enum
import re
import types
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel
from pydantic.fields import FieldInfo

# A description's first clause is the label: "统一社会信用代码（18 位）" → "统一社会信用代码".
_CLAUSE_END = re.compile(r"[（(：:；;，,。]")
BODY = "body"


@dataclass(frozen=True)
class Target:
    """What one error is about: the machine name, the label people read, and the field's declaration."""

    field: str
    label: str
    info: FieldInfo | None


def field_label(name: str, info: FieldInfo | None) -> str:
    if info is not None and info.title:
        return info.title
    if info is not None and info.description:
        head = _CLAUSE_END.split(info.description, maxsplit=1)[0].strip()
        if head:
            return head
    return name


def _inner_model(annotation: Any) -> type[BaseModel] | None:
    """The model a field holds, through Optional, unions, lists and Annotated; None for anything else."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType, list, tuple, set, frozenset, typing.Annotated):
        for arg in typing.get_args(annotation):
            found = _inner_model(arg)
            if found is not None:
                return found
    return None


def resolve(model: type[BaseModel], loc: tuple[Any, ...], shown_loc: tuple[Any, ...], source: str) -> Target:
    """The target of an error at `loc` (relative to `model`); `shown_loc` is the location the client sees."""
    current: type[BaseModel] | None = model
    info: FieldInfo | None = None
    label = ""
    for part in loc:
        if isinstance(part, int):
            continue
        fields = current.model_fields if current is not None else {}
        if part in fields:
            info = fields[part]
            label = field_label(str(part), info)
            current = _inner_model(info.annotation)
        else:  # a key of a mapping, or a name the model does not have
            label = f"{label}（{part}）" if label else str(part)
            info, current = None, None
    names = [str(p) for p in shown_loc]
    # A body schema parameter wraps the body: `payload.password` is the body's `password`.
    if source == BODY and len(model.model_fields) == 1 and len(names) > 1:
        names = names[1:]
    if not names:
        return Target(field="", label="请求体" if source == BODY else "请求参数", info=None)
    return Target(field=".".join(names), label=label or names[-1], info=info)


def allowed_values(info: FieldInfo | None) -> list[str]:
    """The values a Literal or Enum field accepts, for the message."""
    if info is None:
        return []
    return _allowed(info.annotation)


def _allowed(annotation: Any) -> list[str]:
    if isinstance(annotation, type) and issubclass(annotation, enum.Enum):
        return [str(member.value) for member in annotation]
    if typing.get_origin(annotation) is typing.Literal:
        return [str(arg) for arg in typing.get_args(annotation)]
    for arg in typing.get_args(annotation):
        found = _allowed(arg)
        if found:
            return found
    return []


def _length(ctx: Mapping[str, Any], key: str) -> Any:
    return ctx.get(key, "?")


def _too_short(label: str, ctx: Mapping[str, Any], info: FieldInfo | None) -> str:
    if ctx.get("min_length") == 1:
        return f"“{label}”不能为空。"
    return f"“{label}”至少需要 {_length(ctx, 'min_length')} 个字符。"


def _choice(label: str, ctx: Mapping[str, Any], info: FieldInfo | None) -> str:
    allowed = allowed_values(info)
    shown = "、".join(allowed) if allowed else str(ctx.get("expected", "")).replace("'", "")
    return f"“{label}”应为以下之一：{shown}。"


def _value_error(label: str, ctx: Mapping[str, Any], info: FieldInfo | None) -> str:
    reason = str(ctx.get("error", "")).strip().rstrip("。")
    return f"“{label}”：{reason}。" if reason else f"“{label}”的取值不符合要求。"


def _fixed(template: str) -> Callable[[str, Mapping[str, Any], FieldInfo | None], str]:
    return lambda label, ctx, info: template.format(label=label, **ctx)


_DATE = "“{label}”应为日期，格式 YYYY-MM-DD。"
_DATETIME = "“{label}”应为日期时间（ISO 8601，如 2026-01-05T09:30:00+08:00）。"
_INTEGER = "“{label}”应为整数。"
_NUMBER = "“{label}”应为数字。"
_BOOLEAN = "“{label}”应为“是”或“否”（true 或 false）。"
_OBJECT = "“{label}”应为对象（字段名: 取值）。"

MESSAGES: dict[str, Callable[[str, Mapping[str, Any], FieldInfo | None], str]] = {
    "missing": _fixed("“{label}”为必填项。"),
    "string_type": _fixed("“{label}”应为文本。"),
    "string_too_short": _too_short,
    "string_too_long": _fixed("“{label}”不能超过 {max_length} 个字符。"),
    "string_pattern_mismatch": _fixed("“{label}”的格式不正确。"),
    "int_type": _fixed(_INTEGER),
    "int_parsing": _fixed(_INTEGER),
    "int_from_float": _fixed(_INTEGER),
    "int_parsing_size": _fixed("“{label}”超出了整数的范围。"),
    "float_type": _fixed(_NUMBER),
    "float_parsing": _fixed(_NUMBER),
    "decimal_parsing": _fixed(_NUMBER),
    "bool_type": _fixed(_BOOLEAN),
    "bool_parsing": _fixed(_BOOLEAN),
    "literal_error": _choice,
    "enum": _choice,
    "greater_than": _fixed("“{label}”应大于 {gt}。"),
    "greater_than_equal": _fixed("“{label}”不能小于 {ge}。"),
    "less_than": _fixed("“{label}”应小于 {lt}。"),
    "less_than_equal": _fixed("“{label}”不能大于 {le}。"),
    "too_short": _fixed("“{label}”至少需要 {min_length} 项。"),
    "too_long": _fixed("“{label}”最多只能有 {max_length} 项。"),
    "list_type": _fixed("“{label}”应为列表。"),
    "dict_type": _fixed(_OBJECT),
    "model_type": _fixed(_OBJECT),
    "model_attributes_type": _fixed(_OBJECT),
    "date_type": _fixed(_DATE),
    "date_parsing": _fixed(_DATE),
    "date_from_datetime_parsing": _fixed(_DATE),
    "date_from_datetime_inexact": _fixed("“{label}”应为日期，不能带时间。"),
    "datetime_type": _fixed(_DATETIME),
    "datetime_parsing": _fixed(_DATETIME),
    "datetime_from_date_parsing": _fixed(_DATETIME),
    "uuid_type": _fixed("“{label}”应为 UUID。"),
    "uuid_parsing": _fixed("“{label}”应为 UUID。"),
    "extra_forbidden": _fixed("不认识的字段“{label}”。"),
    "json_invalid": _fixed("请求体不是合法的 JSON。"),
    "value_error": _value_error,
    "assertion_error": _value_error,
}


def message(kind: str, label: str, ctx: Mapping[str, Any] | None, info: FieldInfo | None) -> str:
    render = MESSAGES.get(kind)
    if render is None:
        return f"“{label}”的取值不符合要求。"
    try:
        return render(label, ctx or {}, info)
    except (KeyError, IndexError):  # a pydantic version that names its context differently
        return f"“{label}”的取值不符合要求。"


def readable_error(
    model: type[BaseModel], source: str, error: Mapping[str, Any], shown_loc: tuple[Any, ...]
) -> dict[str, Any]:
    """One pydantic error of `model` (a request parameter model) as the API reports it."""
    target = resolve(model, tuple(error.get("loc", ())), shown_loc, source)
    kind = str(error.get("type", ""))
    return {
        "field": target.field,
        "label": target.label,
        "code": kind,
        "message": message(kind, target.label, error.get("ctx"), target.info),
        "loc": [source, *shown_loc],
    }


def summary(errors: list[dict[str, Any]], limit: int = 3) -> str:
    """The problem's `detail`: how many problems, and the first few messages."""
    if not errors:
        return "请求参数不符合要求，请检查后重新提交。"
    shown = "；".join(e["message"].rstrip("。") for e in errors[:limit])
    return f"请求有 {len(errors)} 处问题：{shown}" + ("；……" if len(errors) > limit else "。")


MAX_PAGE = 200


def page_window(limit: int, offset: int) -> tuple[int, int]:
    """A list's page: `limit` kept within 1–200, a negative `offset` counted as 0."""
    return max(1, min(limit, MAX_PAGE)), max(0, offset)
