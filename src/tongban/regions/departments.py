"""Department rules (content/regions/departments.yaml): which level of government has which function, and
what its department is called there. Item content names a function, never a body; these rules turn a
function and a region into a department name.
"""

from __future__ import annotations

import enum
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from django.conf import settings

from tongban.regions.content import RegionContentError, fail, mapping, read_yaml, region_code, sequence, text
from tongban.regions.models import DepartmentFunction, Region

NAME_MAX_LENGTH = 128


class Role(enum.StrEnum):
    """The part a region plays in government, which decides the naming pattern of its departments."""

    PROVINCE = "province"
    MUNICIPALITY = "municipality"
    PREFECTURE = "prefecture"
    COUNTY = "county"
    DISTRICT = "district"
    PLACEHOLDER = "placeholder"


PATTERN_ROLES = (Role.PROVINCE, Role.MUNICIPALITY, Role.PREFECTURE, Role.COUNTY, Role.DISTRICT)
# A 直辖市 is a city with a province's rank; a district is a county unless told otherwise.
_FALLBACK: dict[Role, tuple[Role, ...]] = {
    Role.MUNICIPALITY: (Role.MUNICIPALITY, Role.PREFECTURE, Role.PROVINCE),
    Role.DISTRICT: (Role.DISTRICT, Role.COUNTY),
    Role.PLACEHOLDER: (),
}
_FIELDS: dict[Role, frozenset[str]] = {
    Role.PROVINCE: frozenset({"省"}),
    Role.MUNICIPALITY: frozenset({"省", "市"}),
    Role.PREFECTURE: frozenset({"省", "市"}),
    Role.COUNTY: frozenset({"省", "市", "县"}),
    Role.DISTRICT: frozenset({"省", "市", "县"}),
}


class Division(Protocol):
    """What naming needs from a region; satisfied by Region and by rows read from the CSV."""

    code: str
    name: str
    level: int


@dataclass(frozen=True)
class DepartmentRules:
    # None marks a level that explicitly has no such department, which also stops the fallback.
    patterns: dict[str, dict[Role, str | None]]
    overrides: dict[str, dict[str, str]]
    placeholders: frozenset[str]
    municipality_suffix: str
    district_suffix: str
    not_district_suffixes: tuple[str, ...]

    def is_municipality(self, province: Division) -> bool:
        return province.level == Region.Level.PROVINCE and province.name.endswith(self.municipality_suffix)

    def role(self, lineage: Sequence[Division]) -> Role:
        """The role of lineage[0]; lineage runs from the region up to its province."""
        region, province = lineage[0], lineage[-1]
        if region.level == Region.Level.PROVINCE:
            return Role.MUNICIPALITY if self.is_municipality(region) else Role.PROVINCE
        if region.level == Region.Level.PREFECTURE:
            return Role.PLACEHOLDER if region.name in self.placeholders else Role.PREFECTURE
        if lineage[1].name in self.placeholders and not self.is_municipality(province):
            # 省直辖县级行政区 (济源市, 仙桃市) exercise a prefecture's powers.
            return Role.PREFECTURE
        if region.name.endswith(self.district_suffix) and not region.name.endswith(self.not_district_suffixes):
            return Role.DISTRICT
        return Role.COUNTY

    def template(self, role: Role, function: str) -> str | None:
        patterns = self.patterns.get(function, {})
        for candidate in _FALLBACK.get(role, (role,)):
            if candidate in patterns:
                return patterns[candidate]
        return None

    def name(self, lineage: Sequence[Division], function: str) -> str | None:
        """The department name for `function` in lineage[0], or None where that level has no such department."""
        override = self.overrides.get(lineage[0].code, {}).get(function)
        if override:
            return override
        role = self.role(lineage)
        template = self.template(role, function)
        if template is None:
            return None
        return template.format_map(self._fields(lineage, role))

    def _fields(self, lineage: Sequence[Division], role: Role) -> dict[str, str]:
        region, province = lineage[0], lineage[-1]
        fields = {"省": province.name}
        if role in (Role.MUNICIPALITY, Role.PREFECTURE):
            fields["市"] = region.name
        elif role in (Role.COUNTY, Role.DISTRICT):
            parent = lineage[1]
            fields["市"] = province.name if parent.name in self.placeholders else parent.name
            fields["县"] = region.name
        return fields


def parse_rules(data: Any, source: Path | str) -> DepartmentRules:
    """Validate departments.yaml; raise RegionContentError naming the entry at fault."""
    root = mapping(data, source, "")
    placeholders = frozenset(
        text(v, source, f"placeholders[{i}]", max_length=64)
        for i, v in enumerate(sequence(root.get("placeholders"), source, "placeholders"))
    )
    not_district = tuple(
        text(v, source, f"not_district_suffixes[{i}]", max_length=8)
        for i, v in enumerate(sequence(root.get("not_district_suffixes", []), source, "not_district_suffixes"))
    )
    return DepartmentRules(
        patterns=_parse_patterns(root.get("functions"), source),
        overrides=_parse_overrides(root.get("overrides", {}), source),
        placeholders=placeholders,
        municipality_suffix=text(root.get("municipality_suffix"), source, "municipality_suffix", max_length=8),
        district_suffix=text(root.get("district_suffix"), source, "district_suffix", max_length=8),
        not_district_suffixes=not_district,
    )


def _function(value: Any, source: Path | str, where: str) -> str:
    if value not in DepartmentFunction.values:
        raise fail(source, where, f"未知职能 {value!r}，可用：{', '.join(DepartmentFunction.values)}")
    return value


def _parse_patterns(value: Any, source: Path | str) -> dict[str, dict[Role, str | None]]:
    patterns: dict[str, dict[Role, str | None]] = {}
    for function, levels in mapping(value, source, "functions").items():
        where = f"functions.{function}"
        _function(function, source, where)
        patterns[function] = {}
        for role_name, template in mapping(levels, source, where).items():
            if role_name not in {r.value for r in PATTERN_ROLES}:
                raise fail(source, f"{where}.{role_name}", f"未知层级，可用：{', '.join(PATTERN_ROLES)}")
            role = Role(role_name)
            patterns[function][role] = (
                None if template is None else _check_template(template, role, source, f"{where}.{role_name}")
            )
    return patterns


def _check_template(value: Any, role: Role, source: Path | str, where: str) -> str:
    template = text(value, source, where, max_length=NAME_MAX_LENGTH)
    try:
        template.format_map({field: "某" for field in _FIELDS[role]})
    except KeyError as exc:
        raise fail(source, where, f"该层级不能使用占位符 {{{exc.args[0]}}}") from exc
    except (ValueError, IndexError) as exc:
        raise fail(source, where, f"名称模板格式错误：{exc}") from exc
    return template


def _parse_overrides(value: Any, source: Path | str) -> dict[str, dict[str, str]]:
    overrides: dict[str, dict[str, str]] = {}
    for code, names in mapping(value, source, "overrides").items():
        where = f"overrides.{code}"
        overrides[region_code(code, source, where)] = {
            _function(function, source, f"{where}.{function}"): text(
                name, source, f"{where}.{function}", max_length=NAME_MAX_LENGTH
            )
            for function, name in mapping(names, source, where).items()
        }
    return overrides


def read_rules(path: Path) -> DepartmentRules:
    return parse_rules(read_yaml(path), path)


_lock = threading.Lock()
_current: DepartmentRules | None = None


def use_rules(rules: DepartmentRules) -> None:
    """Make `rules` the ones on-demand departments are named by (the loader calls this after loading)."""
    global _current
    with _lock:
        _current = rules


def current_rules() -> DepartmentRules:
    """The rules last loaded in this process, else those in the configured content folder."""
    global _current
    with _lock:
        if _current is None:
            _current = read_rules(Path(settings.CONTENT_DIR) / "regions" / "departments.yaml")
        return _current


__all__ = [
    "DepartmentRules",
    "Division",
    "RegionContentError",
    "Role",
    "current_rules",
    "parse_rules",
    "read_rules",
    "use_rules",
]
