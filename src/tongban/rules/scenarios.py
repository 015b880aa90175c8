"""Scenario tests as content: content/scenarios/<item file>.yaml (eligibility answers) and
content/rules/tests/*.yaml (rule values). The format is described in content/scenarios/README.md and
content/rules/README.md; tests/scenarios runs every scenario against the loaded content.

A failed scenario is reported in Chinese with the file, the scenario's name, each expectation that differed,
and what was expected and what came back, so that a content author can act on it without reading code.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import Field, model_validator

from tongban.rules.content import (
    RegionCode,
    RulesContentError,
    Spec,
    Text,
    display_path,
    read_yaml,
    validate,
    yaml_paths,
)
from tongban.rules.eligibility import eligibility, known_facts
from tongban.rules.registry import evaluate

SCENARIOS_DIR = Path("scenarios")
SCENARIO_DOCS = "content/scenarios/README.md"
RULE_TESTS_DIR = Path("rules") / "tests"
# Keys compared as sets: their order carries no meaning.
SET_KEYS = frozenset({"modes", "materials", "reasons"})


class ExpectSpec(Spec):
    available: bool | None = None
    mode: str | None = None
    modes: list[str] | None = None
    owner_node: str | None = None
    owner_region: str | None = None
    owner_department_function: str | None = None
    materials: list[str] | None = None
    version: int | None = None
    reasons: list[str] | None = None


class ScenarioSpec(Spec):
    name: Text
    as_of: dt.date
    node: RegionCode
    mode: str | None = None
    facts: dict[str, Any] = {}
    expect: ExpectSpec


class ScenarioFileSpec(Spec):
    item: Text
    scenarios: list[ScenarioSpec] = Field(min_length=1)

    @model_validator(mode="before")
    @classmethod
    def _without_anchors(cls, raw: Any) -> Any:
        """Top-level keys starting with `x-` only hold YAML anchors for reuse."""
        if isinstance(raw, dict):
            return {k: v for k, v in raw.items() if not (isinstance(k, str) and k.startswith("x-"))}
        return raw


class RuleTestSpec(Spec):
    name: Text
    rule: Text
    as_of: dt.date
    region: RegionCode | None = None
    facts: dict[str, Any] = {}
    expect: Any


@dataclass(frozen=True)
class Scenario:
    file: str
    item: str
    spec: ScenarioSpec

    @property
    def id(self) -> str:
        return f"{Path(self.file).stem}::{self.spec.name}"


@dataclass(frozen=True)
class RuleTest:
    file: str
    spec: RuleTestSpec

    @property
    def id(self) -> str:
        return f"{Path(self.file).stem}::{self.spec.name}"


# --- reading ------------------------------------------------------------------------------------


def _facts(raw: dict[str, Any]) -> dict[str, Any]:
    """Unquoted region codes in YAML are numbers; a fact ending in _region is always a 6-digit code."""
    return {
        name: f"{value:06d}" if name.endswith("_region") and isinstance(value, int) else value
        for name, value in raw.items()
    }


def scenario_paths(content_dir: Path) -> list[Path]:
    return yaml_paths(Path(content_dir) / SCENARIOS_DIR)


def read_scenario_file(content_dir: Path, path: Path) -> list[Scenario]:
    display = display_path(Path(content_dir), path)
    spec = validate(ScenarioFileSpec, read_yaml(path, display), display, docs=SCENARIO_DOCS)
    names = [s.name for s in spec.scenarios]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise RulesContentError([f"{display}: scenarios：情景名称重复：{'、'.join(duplicates)}"])
    return [Scenario(display, spec.item, s.model_copy(update={"facts": _facts(s.facts)})) for s in spec.scenarios]


def read_scenarios(content_dir: Path) -> list[Scenario]:
    """Every scenario in every file; RulesContentError lists the problems of all files."""
    return _read_all(scenario_paths(content_dir), lambda path: read_scenario_file(content_dir, path))


def rule_test_paths(content_dir: Path) -> list[Path]:
    return yaml_paths(Path(content_dir) / RULE_TESTS_DIR)


def read_rule_test_file(content_dir: Path, path: Path) -> list[RuleTest]:
    display = display_path(Path(content_dir), path)
    raw = read_yaml(path, display)
    if not isinstance(raw, list) or not raw:
        raise RulesContentError([f"{display}：文件内容必须是测试列表（每项含 name、rule、as_of、facts、expect）"])
    tests = [validate(RuleTestSpec, entry, display, f"[{i}]") for i, entry in enumerate(raw)]
    return [RuleTest(display, t.model_copy(update={"facts": _facts(t.facts)})) for t in tests]


def read_rule_tests(content_dir: Path) -> list[RuleTest]:
    """Every rule test in every file; RulesContentError lists the problems of all files."""
    return _read_all(rule_test_paths(content_dir), lambda path: read_rule_test_file(content_dir, path))


def _read_all(paths: list[Path], read: Any) -> list[Any]:
    errors: list[str] = []
    found: list[Any] = []
    for path in paths:
        try:
            found += read(path)
        except RulesContentError as exc:
            errors += exc.errors
    if errors:
        raise RulesContentError(errors)
    return found


# --- running ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Mismatch:
    key: str
    expected: Any
    got: Any


def observed(answer: dict[str, Any]) -> dict[str, Any]:
    """The eligibility answer in the terms of a scenario's `expect`."""
    owner = answer["owner"] or {}
    return {
        "available": answer["available"],
        "mode": answer["mode"],
        "modes": answer["modes"],
        "owner_node": owner.get("node"),
        "owner_region": owner.get("region"),
        "owner_department_function": owner.get("department_function"),
        "materials": [m["code"] for m in answer["materials"]],
        "version": answer["version"],
        "reasons": [r["code"] for r in answer["reasons"]],
    }


def _same(key: str, expected: Any, got: Any) -> bool:
    if key in SET_KEYS and isinstance(expected, list) and isinstance(got, list):
        return set(map(str, expected)) == set(map(str, got))
    return expected == got


def run_scenario(scenario: Scenario) -> tuple[list[Mismatch], dict[str, Any]]:
    """Compare each expectation the scenario states with the answer; return the mismatches and the answer."""
    spec = scenario.spec
    unknown = sorted(set(spec.facts) - set(known_facts(scenario.item)))
    if unknown:
        return [Mismatch("facts", "本事项使用的事实", "不认识的事实：" + "、".join(unknown))], {}
    answer = eligibility(scenario.item, spec.node, spec.as_of, spec.facts, spec.mode)
    got = observed(answer)
    mismatches = [
        Mismatch(key, getattr(spec.expect, key), got[key])
        for key in sorted(spec.expect.model_fields_set)
        if not _same(key, getattr(spec.expect, key), got[key])
    ]
    return mismatches, answer


def run_rule_test(test: RuleTest) -> tuple[list[Mismatch], Any]:
    """A mapping in `expect` is compared key by key (only the keys it lists); anything else exactly."""
    spec = test.spec
    value = evaluate(spec.rule, spec.facts, spec.as_of, spec.region).value
    if isinstance(spec.expect, dict) and isinstance(value, dict):
        mismatches = [Mismatch(k, v, value.get(k)) for k, v in spec.expect.items() if value.get(k) != v]
    else:
        mismatches = [] if value == spec.expect else [Mismatch("value", spec.expect, value)]
    return mismatches, value


# --- reporting ----------------------------------------------------------------------------------


def _shown(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=str)


def report(where: str, name: str, mismatches: list[Mismatch], answer: Any = None) -> str:
    lines = [f"{where} 中的情景“{name}”与期望不符："]
    for m in mismatches:
        lines.append(f"  {m.key}：期望 {_shown(m.expected)}，实际 {_shown(m.got)}")
    reasons = answer.get("reasons") if isinstance(answer, dict) else None
    if reasons:
        lines.append("  不能办理的原因：")
        lines += [f"    {r['code']}：{r['detail']}" for r in reasons]
    return "\n".join(lines)
