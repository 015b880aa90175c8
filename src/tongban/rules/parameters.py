"""Dated parameters: content/rules/parameters/*.yaml.

Each parameter has a dated list of values; a value holds from its `from` date until the next value's, and a
value of `null` ends the parameter. Every value carries its reference (document, article, link) and the date
it was last checked; a value whose document is `unverified` is reported as such. A parameter may list
regional values under `regions`: for a division and everything under it, a regional value in force overrides
the national one (a regional `null` ends the override, and the national value applies again).

The whole set is read once per process from settings.CONTENT_DIR; `install` swaps it (tests).
"""

from __future__ import annotations

import datetime as dt
import re
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from django.conf import settings
from pydantic import Field

from tongban.errors import DomainError
from tongban.rules.content import (
    REGION_CODE_RE,
    RegionCode,
    RulesContentError,
    Spec,
    Text,
    display_path,
    read_yaml,
    validate,
    yaml_paths,
)

PARAMETERS_DIR = Path("rules") / "parameters"
UNVERIFIED = "unverified"
NAME_RE = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z0-9_]+)+$")
TYPE_LABELS = {
    "integer": "整数",
    "number": "数值",
    "text": "文本",
    "boolean": "是/否",
    "choice": "选项",
    "region_list": "行政区划代码列表",
    "mapping": "映射（名称: 取值）",
}
ParameterType = Literal["integer", "number", "text", "boolean", "choice", "region_list", "mapping"]


# --- the format ---------------------------------------------------------------------------------


class ReferenceSpec(Spec):
    document: Text
    article: str = ""
    url: str = ""
    note: str = ""


class DatedValueSpec(Spec):
    valid_from: dt.date = Field(alias="from")
    value: Any
    reference: ReferenceSpec
    checked: dt.date


class ParameterSpec(Spec):
    description: Text
    type: ParameterType
    unit: str = ""
    choices: list[Text] = []
    values: list[DatedValueSpec] = Field(min_length=1)
    regions: dict[RegionCode, list[DatedValueSpec]] = {}


# --- the values ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class ParameterValue:
    """One dated value as read by a rule: what it was, from when, for which region, on whose authority."""

    name: str
    value: Any
    valid_from: dt.date
    valid_until: dt.date | None
    region: str | None
    reference: dict[str, str]
    checked: dt.date

    @property
    def unverified(self) -> bool:
        return self.reference.get("document", "").strip() == UNVERIFIED

    def trace(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "value": self.value,
            "from": self.valid_from.isoformat(),
            "until": self.valid_until.isoformat() if self.valid_until else None,
            "region": self.region,
            "reference": dict(self.reference),
            "checked": self.checked.isoformat(),
            "unverified": self.unverified,
        }


@dataclass(frozen=True)
class Parameter:
    name: str
    description: str
    type: str
    unit: str
    source: str  # the file it was read from
    values: tuple[ParameterValue, ...]
    regions: dict[str, tuple[ParameterValue, ...]] = field(default_factory=dict)

    def at(self, on: dt.date, lineage: Sequence[str] = ()) -> ParameterValue:
        """The value in force on `on` for the most specific region of `lineage` (most specific first)."""
        for code in lineage:
            regional = _in_force(self.regions.get(code, ()), on)
            if regional is not None and regional.value is not None:
                return regional
        national = _in_force(self.values, on)
        if national is None:
            raise DomainError(
                "parameter_not_in_force",
                f"参数“{self.name}”（{self.description[:40]}）于 {on.isoformat()} 尚无取值。",
                status=422,
            )
        return national

    def all_values(self) -> Iterable[ParameterValue]:
        yield from self.values
        for values in self.regions.values():
            yield from values


def _in_force(values: Sequence[ParameterValue], on: dt.date) -> ParameterValue | None:
    found = None
    for value in values:
        if value.valid_from <= on:
            found = value
    return found


class ParameterSet:
    """All parameters, by name."""

    def __init__(self, parameters: Iterable[Parameter] = ()) -> None:
        self._parameters = {p.name: p for p in parameters}

    def __contains__(self, name: str) -> bool:
        return name in self._parameters

    def __iter__(self):
        return iter(self._parameters.values())

    def __len__(self) -> int:
        return len(self._parameters)

    def get(self, name: str) -> Parameter:
        try:
            return self._parameters[name]
        except KeyError:
            raise DomainError("parameter_unknown", f"参数“{name}”不存在（见 content/rules/parameters/）。") from None

    def value(self, name: str, on: dt.date, lineage: Sequence[str] = ()) -> ParameterValue:
        return self.get(name).at(on, lineage)

    def unverified(self) -> list[ParameterValue]:
        return [value for parameter in self for value in parameter.all_values() if value.unverified]


# --- reading and checking -----------------------------------------------------------------------


def read_parameters(content_dir: Path) -> ParameterSet:
    """Parse and check every parameter file; raise RulesContentError listing all problems in all files."""
    content_dir = Path(content_dir)
    errors: list[str] = []
    parameters: list[Parameter] = []
    seen: dict[str, str] = {}
    for path in yaml_paths(content_dir / PARAMETERS_DIR):
        display = display_path(content_dir, path)
        try:
            found = parse_parameter_file(path, display)
        except RulesContentError as exc:
            errors.extend(exc.errors)
            continue
        for parameter in found:
            if parameter.name in seen:
                errors.append(f"{display}: {parameter.name}：参数名与 {seen[parameter.name]} 中的参数重复")
            seen.setdefault(parameter.name, display)
            parameters.append(parameter)
    if errors:
        raise RulesContentError(errors)
    return ParameterSet(parameters)


def parse_parameter_file(path: Path, display: str) -> list[Parameter]:
    raw = read_yaml(path, display)
    if not isinstance(raw, dict) or not raw:
        raise RulesContentError([f"{display}：文件内容必须是映射（参数名: 参数定义）"])
    errors: list[str] = []
    parameters: list[Parameter] = []
    for name, body in raw.items():
        if not isinstance(name, str) or not NAME_RE.match(name):
            errors.append(
                f"{display}: {name}：参数名必须由小写字母、数字、下划线组成，并用点分段（如 licensing.decision_days）"
            )
            continue
        try:
            spec = validate(ParameterSpec, body, display, name)
        except RulesContentError as exc:
            errors.extend(exc.errors)
            continue
        problems = check_parameter(name, spec)
        if problems:
            errors.extend(f"{display}: {where}：{what}" for where, what in problems)
            continue
        parameters.append(_parameter(name, spec, display))
    if errors:
        raise RulesContentError(errors)
    return parameters


def check_parameter(name: str, spec: ParameterSpec) -> list[tuple[str, str]]:
    problems: list[tuple[str, str]] = []
    if spec.type == "choice" and not spec.choices:
        problems.append((f"{name}.choices", "选项类参数必须列出 choices"))
    if spec.type != "choice" and spec.choices:
        problems.append((f"{name}.choices", "只有 type 为 choice 的参数才能填写 choices"))
    problems += _check_values(f"{name}.values", spec.values, spec)
    for code, values in spec.regions.items():
        if not values:
            problems.append((f"{name}.regions.{code}", "地区取值列表不能为空"))
        problems += _check_values(f"{name}.regions.{code}", values, spec)
    return problems


def _check_values(path: str, values: list[DatedValueSpec], spec: ParameterSpec) -> list[tuple[str, str]]:
    problems: list[tuple[str, str]] = []
    for index, value in enumerate(values):
        where = f"{path}[{index}]"
        if index and value.valid_from <= values[index - 1].valid_from:
            problems.append((f"{where}.from", "取值必须按 from 日期从早到晚排列，且日期不能重复"))
        if index == 0 and value.value is None:
            problems.append((f"{where}.value", "第一个取值不能为 null（null 只用于结束此前的取值）"))
        if value.value is not None:
            problem = _type_problem(value.value, spec)
            if problem:
                problems.append((f"{where}.value", problem))
        if value.reference.document.strip() == UNVERIFIED and not value.reference.note.strip():
            problems.append((f"{where}.reference.note", "未经核实（unverified）的取值须在 note 中说明其来历"))
    return problems


def _type_problem(value: Any, spec: ParameterSpec) -> str:
    label = TYPE_LABELS[spec.type]
    if spec.type == "integer" and not (isinstance(value, int) and not isinstance(value, bool)):
        return f"类型为{label}，取值必须是整数"
    if spec.type == "number" and not (isinstance(value, int | float) and not isinstance(value, bool)):
        return f"类型为{label}，取值必须是数字"
    if spec.type in ("text", "choice") and not isinstance(value, str):
        return f"类型为{label}，取值必须是文本"
    if spec.type == "choice" and value not in spec.choices:
        return f"取值必须是 {'、'.join(spec.choices)} 之一"
    if spec.type == "boolean" and not isinstance(value, bool):
        return f"类型为{label}，取值必须是 true 或 false"
    if spec.type == "region_list":
        return _region_list_problem(value)
    if spec.type == "mapping" and not (isinstance(value, dict) and all(isinstance(k, str) for k in value)):
        return f"类型为{label}，取值必须是映射（名称: 取值）"
    return ""


def _region_list_problem(value: Any) -> str:
    if not isinstance(value, list):
        return "类型为行政区划代码列表，取值必须是列表"
    bad = [str(v) for v in value if not (isinstance(v, str) and REGION_CODE_RE.match(v))]
    if bad:
        return f"区划代码必须是加引号的 6 位代码：{'、'.join(bad)}"
    if len(set(value)) != len(value):
        return "区划代码重复"
    return ""


def _parameter(name: str, spec: ParameterSpec, source: str) -> Parameter:
    return Parameter(
        name=name,
        description=" ".join(spec.description.split()),
        type=spec.type,
        unit=spec.unit,
        source=source,
        values=_dated(name, spec.values, None),
        regions={code: _dated(name, values, code) for code, values in spec.regions.items()},
    )


def _dated(name: str, specs: list[DatedValueSpec], region: str | None) -> tuple[ParameterValue, ...]:
    values = []
    for index, spec in enumerate(specs):
        until = specs[index + 1].valid_from if index + 1 < len(specs) else None
        reference = {k: v for k, v in spec.reference.model_dump().items() if v}
        values.append(ParameterValue(name, spec.value, spec.valid_from, until, region, reference, spec.checked))
    return tuple(values)


# --- the set in use -----------------------------------------------------------------------------

_lock = threading.Lock()
_current: ParameterSet | None = None


def current() -> ParameterSet:
    """The parameters under settings.CONTENT_DIR, read on first use."""
    global _current
    with _lock:
        if _current is None:
            _current = read_parameters(Path(settings.CONTENT_DIR))
        return _current


def install(parameters: ParameterSet | None) -> ParameterSet | None:
    """Use `parameters` from now on (None: read the content again on next use); return the previous set."""
    global _current
    with _lock:
        previous, _current = _current, parameters
        return previous
