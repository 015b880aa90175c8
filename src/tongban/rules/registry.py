"""Rule functions with effective dates, and their evaluation with a trace.

A rule is a plain function of a `RuleContext`, registered under a dotted name and a version with the dates it
is in force (`effective_until` excluded) and optionally a region:

    @rule("marriage.registration_place", version=1, effective_from=date(2021, 6, 1), effective_until=date(2023, 5, 12))
    def pilot(ctx: RuleContext) -> dict: ...

A version registered for a region overrides the national one (region None) for that region and everything under
it; the most specific region wins. Two versions of one rule for the same region may not overlap in time.

`evaluate(name, facts, as_of, region)` picks the version in force, runs it and returns its value with a trace:
which version ran, which facts it read, which parameter values it read (with their dates and references).
Nothing is stored; the trace is a plain dict a case can freeze with its decision.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from tongban.errors import DomainError
from tongban.regions import queries as regions
from tongban.regions.models import Region
from tongban.rules import parameters as parameter_store
from tongban.rules.content import REGION_CODE_RE
from tongban.rules.parameters import ParameterSet, ParameterValue

RuleFunction = Callable[["RuleContext"], Any]


@dataclass(frozen=True)
class RuleVersion:
    name: str
    version: int
    function: RuleFunction
    effective_from: dt.date | None = None
    effective_until: dt.date | None = None
    region: str | None = None
    facts: Mapping[str, str] = field(default_factory=dict)  # the facts it reads: name → Chinese label

    def in_force(self, on: dt.date) -> bool:
        starts = self.effective_from is None or self.effective_from <= on
        return starts and (self.effective_until is None or on < self.effective_until)

    @property
    def summary(self) -> str:
        doc = (self.function.__doc__ or "").strip()
        return doc.splitlines()[0] if doc else ""

    def describe(self) -> dict[str, Any]:
        return {
            "rule": self.name,
            "version": self.version,
            "region": self.region,
            "effective_from": _iso(self.effective_from),
            "effective_until": _iso(self.effective_until),
            "summary": self.summary,
        }


def _iso(day: dt.date | None) -> str | None:
    return day.isoformat() if day else None


def _overlap(a: RuleVersion, b: RuleVersion) -> bool:
    a_from, b_from = a.effective_from or dt.date.min, b.effective_from or dt.date.min
    a_until, b_until = a.effective_until or dt.date.max, b.effective_until or dt.date.max
    return a_from < b_until and b_from < a_until


class Registry:
    """Rule versions by name."""

    def __init__(self) -> None:
        self._rules: dict[str, list[RuleVersion]] = {}

    def rule(
        self,
        name: str,
        *,
        version: int,
        effective_from: dt.date | None = None,
        effective_until: dt.date | None = None,
        region: str | None = None,
        facts: Mapping[str, str] | None = None,
    ) -> Callable[[RuleFunction], RuleFunction]:
        """Register the decorated function as `version` of rule `name`; returns the function unchanged."""

        def register(function: RuleFunction) -> RuleFunction:
            self.add(RuleVersion(name, version, function, effective_from, effective_until, region, dict(facts or {})))
            return function

        return register

    def add(self, candidate: RuleVersion) -> None:
        if candidate.region is not None and not REGION_CODE_RE.match(candidate.region):
            raise ValueError(f"规则 {candidate.name} 的地区必须是 6 位行政区划代码：{candidate.region}")
        starts, ends = candidate.effective_from, candidate.effective_until
        if starts and ends and ends <= starts:
            raise ValueError(f"规则 {candidate.name} 版本 {candidate.version}：失效日期必须晚于生效日期")
        for existing in self._rules.get(candidate.name, []):
            if existing.version == candidate.version and existing.region == candidate.region:
                raise ValueError(f"规则 {candidate.name} 版本 {candidate.version} 重复登记")
            if existing.region == candidate.region and _overlap(existing, candidate):
                raise ValueError(
                    f"规则 {candidate.name} 版本 {candidate.version} 与版本 {existing.version} 的有效期重叠"
                    f"（地区：{candidate.region or '全国'}）"
                )
        self._rules.setdefault(candidate.name, []).append(candidate)

    def names(self) -> list[str]:
        return sorted(self._rules)

    def versions(self, name: str) -> list[RuleVersion]:
        if name not in self._rules:
            raise DomainError("rule_unknown", f"规则“{name}”不存在。", status=422)
        return sorted(self._rules[name], key=lambda r: (r.region or "", r.effective_from or dt.date.min))

    def facts(self, name: str) -> dict[str, str]:
        """Every fact any version of the rule reads, with its label."""
        found: dict[str, str] = {}
        for version in self.versions(name):
            found.update(version.facts)
        return found

    def select(self, name: str, on: dt.date, lineage: Sequence[str] = ()) -> RuleVersion:
        """The version in force on `on` for the most specific region of `lineage`, else the national one."""
        in_force = [r for r in self.versions(name) if r.in_force(on)]
        for code in lineage:
            for candidate in in_force:
                if candidate.region == code:
                    return candidate
        for candidate in in_force:
            if candidate.region is None:
                return candidate
        raise DomainError("rule_not_in_force", f"规则“{name}”于 {on.isoformat()} 没有有效的版本。", status=422)


RULES = Registry()
rule = RULES.rule


# --- evaluation ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Evaluation:
    value: Any
    trace: dict[str, Any]


class RuleContext:
    """What a rule function may read: facts, parameters and divisions, on the evaluation date. Records each read."""

    def __init__(
        self,
        version: RuleVersion,
        facts: Mapping[str, Any],
        as_of: dt.date,
        region: str | None,
        parameters: ParameterSet,
    ) -> None:
        self.version = version
        self.as_of = as_of
        self.region = region
        self._facts = facts
        self._parameters = parameters
        self._lineages: dict[str, list[Region]] = {}
        self.facts_read: dict[str, Any] = {}
        self.parameters_read: list[ParameterValue] = []

    # facts

    def label(self, name: str) -> str:
        return self.version.facts.get(name, name)

    def fact(self, name: str, default: Any = None) -> Any:
        value = self._facts.get(name, default)
        self.facts_read[name] = value
        return value

    def region_fact(self, name: str) -> str:
        """A fact holding the 6-digit code of an existing division; raises when it is missing or unknown."""
        code = self.optional_region_fact(name)
        if code is None:
            raise DomainError(
                "jurisdiction_fact_missing",
                f"无法确定办理地：缺少“{self.label(name)}”的行政区划代码（{name}）。",
                status=422,
            )
        return code

    def optional_region_fact(self, name: str) -> str | None:
        value = self.fact(name)
        if value is None or (isinstance(value, str) and not value.strip()):
            return None
        code = value.strip() if isinstance(value, str) else ""
        if not REGION_CODE_RE.match(code):
            raise DomainError(
                "jurisdiction_fact_invalid",
                f"“{self.label(name)}”（{name}）应为 6 位行政区划代码，收到的是“{value}”。",
                status=422,
            )
        self.lineage(code)  # raises region_unknown for a code that does not exist
        return code

    # parameters

    def param(self, name: str, region: str | None = None) -> Any:
        """The parameter's value on the evaluation date, regional values for `region` (default: the rule's)."""
        code = region or self.region
        lineage = [r.code for r in self.lineage(code)] if code else []
        found = self._parameters.value(name, self.as_of, lineage)
        self.parameters_read.append(found)
        return found.value

    # divisions

    def lineage(self, code: str) -> list[Region]:
        """The division and its ancestors, most specific first."""
        if code not in self._lineages:
            self._lineages[code] = regions.lineage(code)
        return self._lineages[code]

    def within(self, code: str, area: str) -> bool:
        return any(r.code == area for r in self.lineage(code))

    def level(self, code: str) -> int:
        return self.lineage(code)[0].level

    def area_at(self, code: str, level: int) -> str:
        """The division at `level` that holds `code` (the code itself when it is at that level or above)."""
        for region in self.lineage(code):
            if region.level <= level:
                return region.code
        return self.lineage(code)[-1].code

    def same_place(self, a: str, b: str, level: int) -> bool:
        """Whether `a` and `b` lie in one division of `level` (compared no finer than either code)."""
        common = min(level, self.level(a), self.level(b))
        return self.area_at(a, common) == self.area_at(b, common)

    def place_name(self, code: str) -> str:
        """A readable full name: 湖北省武汉市江岸区 (placeholder divisions such as 市辖区 are left out)."""
        names = [r.name for r in reversed(self.lineage(code))]
        kept = [n for n in names if n not in PLACEHOLDER_NAMES] or names
        return "".join(dict.fromkeys(kept))

    # the trace

    def trace(self, value: Any) -> dict[str, Any]:
        return {
            "type": "rule",
            **self.version.describe(),
            "as_of": self.as_of.isoformat(),
            "evaluated_for_region": self.region,
            "facts": dict(self.facts_read),
            "parameters": [p.trace() for p in _unique(self.parameters_read)],
            "value": value,
        }


PLACEHOLDER_NAMES = frozenset({"市辖区", "县", "省直辖县级行政区划", "自治区直辖县级行政区划"})


def _unique(values: list[ParameterValue]) -> list[ParameterValue]:
    seen: dict[tuple[str, str | None, dt.date], ParameterValue] = {}
    for value in values:
        seen.setdefault((value.name, value.region, value.valid_from), value)
    return list(seen.values())


def evaluate(
    rule_name: str,
    facts: Mapping[str, Any],
    as_of: dt.date,
    region: str | None = None,
    *,
    registry: Registry | None = None,
    parameters: ParameterSet | None = None,
) -> Evaluation:
    """Run the version of `rule_name` in force on `as_of` (for `region`, if given) on `facts`."""
    registry = registry or RULES
    parameters = parameters or parameter_store.current()
    lineage = [r.code for r in regions.lineage(region)] if region else []
    version = registry.select(rule_name, as_of, lineage)
    context = RuleContext(version, facts, as_of, region, parameters)
    value = version.function(context)
    _check_serialisable(version, value)
    return Evaluation(value, context.trace(value))


def _check_serialisable(version: RuleVersion, value: Any) -> None:
    try:
        json.dumps(value, ensure_ascii=False)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"规则 {version.name} 版本 {version.version} 的结果必须可以序列化为 JSON：{exc}") from None
