"""Content quality gates: every item has scenarios, every parameter value has a reference, item codes are unique,
coverage dates are covered by versions, and every rule is bound, dated and tested consistently."""

from __future__ import annotations

import csv
import datetime as dt
import itertools
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import yaml
from django.conf import settings

from tongban.catalog.loader import ContentError, display_path, item_paths, parse_item_file
from tongban.catalog.spec import ItemSpec
from tongban.rules.bindings import read_item_rules
from tongban.rules.content import RulesContentError
from tongban.rules.parameters import UNVERIFIED, read_parameters
from tongban.rules.registry import RULES
from tongban.rules.scenarios import SCENARIOS_DIR, read_rule_tests, read_scenario_file, scenario_paths

CONTENT_DIR = Path(settings.CONTENT_DIR)
ONE_DAY = dt.timedelta(days=1)


def _raw_code(path: Path) -> Any:
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError:
        return None
    return raw.get("code") if isinstance(raw, dict) else None


def _item_specs() -> list[tuple[str, ItemSpec]]:
    """Every item file that validates on its own (the catalog's tests report the ones that do not)."""
    specs = []
    for path in item_paths(CONTENT_DIR):
        display = display_path(CONTENT_DIR, path)
        try:
            specs.append((display, parse_item_file(path, display)))
        except ContentError:
            continue
    return specs


# --- scenarios ----------------------------------------------------------------------------------


def test_every_item_has_a_scenario():
    missing = []
    for path in item_paths(CONTENT_DIR):
        scenario_file = CONTENT_DIR / SCENARIOS_DIR / f"{path.stem}.yaml"
        if not scenario_file.exists():
            missing.append(f"{path.stem}（{_raw_code(path)}）")
    assert not missing, (
        f"以下 {len(missing)} 个事项没有情景测试，请在 content/scenarios/<事项文件名>.yaml 中至少写一个情景"
        f"（格式见 content/scenarios/README.md）：\n" + "\n".join(missing)
    )


def test_every_scenario_file_belongs_to_an_item_file():
    codes = {path.stem: _raw_code(path) for path in item_paths(CONTENT_DIR)}
    problems = []
    for path in scenario_paths(CONTENT_DIR):
        display = display_path(CONTENT_DIR, path)
        if path.stem not in codes:
            problems.append(f"{display}：没有同名的事项文件 content/items/{path.stem}.yaml")
            continue
        try:
            scenarios = read_scenario_file(CONTENT_DIR, path)
        except RulesContentError as exc:
            problems += exc.errors
            continue
        wrong = {s.item for s in scenarios} - {codes[path.stem]}
        if wrong:
            problems.append(f"{display}: item：应为事项文件中的编码“{codes[path.stem]}”，写的是“{'、'.join(wrong)}”")
    assert not problems, "\n".join(problems)


# --- the catalog --------------------------------------------------------------------------------


def test_no_two_items_share_a_code():
    files: dict[Any, list[str]] = {}
    for path in item_paths(CONTENT_DIR):
        files.setdefault(_raw_code(path), []).append(display_path(CONTENT_DIR, path))
    shared = [f"事项编码“{code}”：{'、'.join(paths)}" for code, paths in files.items() if len(paths) > 1]
    assert not shared, "以下事项编码重复：\n" + "\n".join(shared)


def _in_force(version: Any, day: dt.date) -> bool:
    return version.valid_from <= day and (not version.valid_until or day < version.valid_until)


def _uncovered_day(spec: ItemSpec, start: dt.date, end: dt.date | None) -> dt.date | None:
    """The first day in [start, end) on which no version of the item is in force (end None: the last start)."""
    day = start
    last = end or max([start, *[v.valid_from for v in spec.versions]]) + ONE_DAY
    while day < last:
        version = next((v for v in spec.versions if _in_force(v, day)), None)
        if version is None:
            return day
        if version.valid_until is None:
            return None
        day = version.valid_until
    return None


def test_coverage_dates_are_covered_by_versions():
    problems = []
    for display, spec in _item_specs():
        for index, coverage in enumerate(spec.coverage):
            gap = _uncovered_day(spec, coverage.valid_from, coverage.valid_until)
            if gap is not None:
                problems.append(
                    f"{display}: coverage[{index}]：通办期间内 {gap.isoformat()} 没有有效的事项版本"
                    "（通办期间必须全部落在事项版本的有效期内）"
                )
    assert not problems, "\n".join(problems)


# --- parameters and rules -----------------------------------------------------------------------


def test_every_parameter_value_has_a_reference():
    parameters = read_parameters(CONTENT_DIR)  # raises, naming file and path, when a reference is missing
    problems = []
    for parameter in parameters:
        for value in parameter.all_values():
            where = f"{parameter.source}: {parameter.name}（{value.region or '全国'}，自 {value.valid_from}）"
            if not value.reference.get("document", "").strip():
                problems.append(f"{where}：缺少依据文件")
            if value.unverified and not value.reference.get("note"):
                problems.append(f"{where}：未经核实的取值须说明来历")
    assert len(parameters) >= 10
    assert not problems, "\n".join(problems)


def test_unverified_parameter_values_are_marked_as_such():
    unverified = {value.name for value in read_parameters(CONTENT_DIR).unverified()}
    assert {"proxy.handover_days", "warning.yellow_working_days"} <= unverified
    assert all(value.reference["document"] == UNVERIFIED for value in read_parameters(CONTENT_DIR).unverified())


def _known_regions() -> set[str]:
    with (CONTENT_DIR / "regions" / "divisions.csv").open(encoding="utf-8") as handle:
        rows = csv.reader(line for line in handle if not line.startswith("#"))
        return {row[0] for row in rows if row and row[0] != "code"}


def test_parameter_regions_exist():
    known = _known_regions()
    problems = []
    for parameter in read_parameters(CONTENT_DIR):
        problems += [f"{parameter.name}.regions.{code}：区划不存在" for code in parameter.regions if code not in known]
        for value in parameter.all_values():
            if parameter.type == "region_list" and value.value:
                where = f"{parameter.name}（自 {value.valid_from}）"
                problems += [f"{where}：区划 {code} 不存在" for code in value.value if code not in known]
    assert not problems, "\n".join(problems)


def test_item_rules_bind_known_items_and_cover_their_versions():
    specs = {spec.code: (display, spec) for display, spec in _item_specs()}
    problems = []
    for code, bindings in read_item_rules(CONTENT_DIR).items():
        if code not in specs:
            problems.append(f"content/rules/items.yaml：事项 {code} 不存在")
            continue
        display, spec = specs[code]
        for binding in bindings:
            problems += _rule_gaps(binding.rule, spec, display)
    assert not problems, "\n".join(problems)


def _rule_gaps(rule: str, spec: ItemSpec, display: str) -> list[str]:
    """Each day an item version starts or ends, and each day a rule version starts, some rule version is in force."""
    days = {v.valid_from for v in spec.versions} | {v.valid_until - ONE_DAY for v in spec.versions if v.valid_until}
    days |= {r.effective_from for r in RULES.versions(rule) if r.effective_from}
    in_item = [d for d in sorted(days) if any(_in_force(v, d) for v in spec.versions)]
    return [
        f"{display}：{d.isoformat()} 事项有有效版本，但规则 {rule} 没有有效版本"
        for d in in_item
        if not any(r.in_force(d) and r.region is None for r in RULES.versions(rule))
    ]


def test_every_rule_has_a_rule_test():
    tested = Counter(test.spec.rule for test in read_rule_tests(CONTENT_DIR))
    untested = [name for name in RULES.names() if not tested[name]]
    assert not untested, "以下规则没有情景测试（content/rules/tests/*.yaml）：" + "、".join(untested)
    unknown = sorted(set(tested) - set(RULES.names()))
    assert not unknown, "规则测试引用了未登记的规则：" + "、".join(unknown)


@pytest.mark.parametrize("name", RULES.names())
def test_rule_versions_do_not_overlap(name):
    versions = [v for v in RULES.versions(name) if v.region is None]
    ordered = sorted(versions, key=lambda v: v.effective_from or dt.date.min)
    for earlier, later in itertools.pairwise(ordered):
        assert earlier.effective_until is not None and earlier.effective_until <= (later.effective_from or dt.date.min)
