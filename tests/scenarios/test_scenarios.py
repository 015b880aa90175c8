"""Every scenario in content/scenarios/*.yaml and every rule test in content/rules/tests/*.yaml, run against the
loaded content. A failure names the file, the scenario and each expectation that differed, in Chinese."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import settings

from tongban.errors import DomainError
from tongban.rules.content import RulesContentError
from tongban.rules.scenarios import (
    RuleTest,
    Scenario,
    read_rule_test_file,
    read_scenario_file,
    report,
    rule_test_paths,
    run_rule_test,
    run_scenario,
    scenario_paths,
)

CONTENT_DIR = Path(settings.CONTENT_DIR)


def _scenario_params() -> list:
    params = []
    for path in scenario_paths(CONTENT_DIR):
        try:
            scenarios = read_scenario_file(CONTENT_DIR, path)
        except RulesContentError as exc:
            params.append(pytest.param(exc, id=f"{path.stem}-格式"))
            continue
        params += [pytest.param(s, id=f"{path.stem}-{i + 1}") for i, s in enumerate(scenarios)]
    return params


def _rule_test_params() -> list:
    params = []
    for path in rule_test_paths(CONTENT_DIR):
        try:
            tests = read_rule_test_file(CONTENT_DIR, path)
        except RulesContentError as exc:
            params.append(pytest.param(exc, id=f"{path.stem}-格式"))
            continue
        params += [pytest.param(t, id=f"{path.stem}-{i + 1}") for i, t in enumerate(tests)]
    return params


def _fail_on_format(item: object) -> None:
    if isinstance(item, RulesContentError):
        pytest.fail("情景文件格式有误：\n" + "\n".join(item.errors), pytrace=False)


@pytest.mark.parametrize("scenario", _scenario_params())
def test_item_scenario(scenario: Scenario, loaded):
    _fail_on_format(scenario)
    try:
        mismatches, answer = run_scenario(scenario)
    except DomainError as exc:
        mismatches, answer, error = [], {}, exc
    else:
        error = None
    if error is not None:
        where = f"{scenario.file} 中的情景“{scenario.spec.name}”"
        pytest.fail(f"{where}无法运行：{error.code}：{error.detail}", pytrace=False)
    if mismatches:
        pytest.fail(report(scenario.file, scenario.spec.name, mismatches, answer), pytrace=False)


@pytest.mark.parametrize("test", _rule_test_params())
def test_rule_scenario(test: RuleTest, loaded):
    _fail_on_format(test)
    try:
        mismatches, value = run_rule_test(test)
    except DomainError as exc:
        mismatches, value, error = [], None, exc
    else:
        error = None
    if error is not None:
        pytest.fail(f"{test.file} 中的测试“{test.spec.name}”无法运行：{error.code}：{error.detail}", pytrace=False)
    if mismatches:
        pytest.fail(report(test.file, test.spec.name, mismatches, value), pytrace=False)
