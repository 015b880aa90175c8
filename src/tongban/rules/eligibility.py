"""The eligibility answer: can this item be done at this node on this date for these facts — in which mode,
owned by whom, with which materials and limits, and why (or why not), with the legal references.

The catalog decides what it can (the version in force, the node's coverage and modes, the owning region by the
version's jurisdiction rule, the materials whose conditions match); an item with a rule of its own
(content/rules/items.yaml) then runs it. A rule's value is a mapping with `allowed` and may give `reasons`
and `owner_region` (which replaces the catalog's jurisdiction answer when the binding says `owner_from_rule`).
Every DomainError on the way becomes a reason; only an unknown item raises (the API answers 404).

The answer (a plain dict, JSON-serialisable):
    item, version (None: no version in force), on (YYYY-MM-DD), node,
    available (no reasons), reasons [{code, detail}] (Chinese, why not),
    modes (offered at the node on the date), mode (the requested one, or the only one, if offered),
    owner {region, node, department_function, department} | None,
    materials [{code, name, requirement, form, licence_type, condition}] (required + conditional whose `when` matches),
    limits {legal: {value, unit, unit_label}, promised: {…}, immediate} | None,
    legs [{order, name, place, region, node, department_function, department, limit}] (多地联办),
    source, unverified (version fields, `coverage.<field>`, `parameters.<name>`),
    trace [item_version, coverage…, rule evaluations with their parameters and references].
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from tongban.catalog.models import Coverage, Item, ItemVersion, LimitUnit, Material, Mode
from tongban.catalog.services import (
    FACT_LABELS,
    coverage_in_force,
    get_item,
    leg_regions,
    owner_region,
    required_materials,
    resolve_item_version,
    version_in_force,
)
from tongban.errors import DomainError
from tongban.regions.models import Region
from tongban.regions.queries import department_for, node_for_region
from tongban.rules.bindings import ItemRuleSpec, item_rules
from tongban.rules.registry import RULES, evaluate

T = TypeVar("T")
NODE_FACT = "node"


class _Answer:
    """Collects reasons and trace entries while the answer is built."""

    def __init__(self) -> None:
        self.reasons: list[dict[str, str]] = []
        self.trace: list[dict[str, Any]] = []

    def attempt(self, call: Callable[[], T]) -> T | None:
        try:
            return call()
        except DomainError as exc:
            self.refuse(exc.code, exc.detail)
            return None

    def refuse(self, code: str, detail: str) -> None:
        reason = {"code": code, "detail": detail}
        if reason not in self.reasons:
            self.reasons.append(reason)


def eligibility(item_code: str, node: str, on: dt.date, facts: Mapping[str, Any], mode: str | None = None) -> dict:
    """The eligibility answer for `item_code` at `node` on `on` (see the module docstring for its shape)."""
    item = get_item(item_code)  # item_unknown stays an error
    facts = dict(facts)
    answer = _Answer()
    version = answer.attempt(lambda: version_in_force(item, on))
    modes = _modes_here(answer, item, version, node, on, mode) if version else []
    chosen = mode if mode else (modes[0] if len(modes) == 1 else None)
    rule_owner, rule_decided = _run_item_rules(answer, item, node, on, facts)
    owner = None
    materials: list[dict[str, Any]] = []
    legs: list[dict[str, Any]] = []
    if version is not None:
        region = rule_owner if rule_decided else answer.attempt(lambda: owner_region(version, facts))
        owner = answer.attempt(lambda: _owner(region, item.department_function)) if region else None
        materials = [_material(m) for m in required_materials(version, facts)]
        if Mode.MULTI_PLACE in ([chosen] if chosen else modes):
            legs = answer.attempt(lambda: _legs(version, facts)) or []
    return {
        "item": item.code,
        "version": version.version if version else None,
        "on": on.isoformat(),
        "node": node,
        "available": not answer.reasons,
        "reasons": answer.reasons,
        "modes": modes,
        "mode": chosen if chosen in modes else None,
        "owner": owner,
        "materials": materials,
        "limits": _limits(version) if version else None,
        "legs": legs,
        "source": version.source if version else None,
        "unverified": _unverified(version, node, on, answer.trace) if version else [],
        "trace": answer.trace,
    }


def check_eligibility(
    item_code: str, node: str, on: dt.date, facts: Mapping[str, Any], mode: str | None = None
) -> dict:
    """The eligibility answer, or DomainError("not_eligible", 422) listing every reason (guards POST /cases)."""
    answer = eligibility(item_code, node, on, facts, mode)
    if not answer["available"]:
        details = "；".join(reason["detail"].rstrip("。") for reason in answer["reasons"])
        raise DomainError("not_eligible", f"该事项不能在此办理：{details}。", status=422, reasons=answer["reasons"])
    return answer


# --- the catalog's part -------------------------------------------------------------------------


def _modes_here(
    answer: _Answer, item: Item, version: ItemVersion, node: str, on: dt.date, mode: str | None
) -> list[str]:
    """The modes this node offers on `on` (refusing with the catalog's reason when it offers none)."""
    answer.trace.append(_version_entry(version))
    if answer.attempt(lambda: resolve_item_version(item.code, node, on)) is None:
        return []
    coverage = coverage_in_force(item, node, on)
    answer.trace += [_coverage_entry(c) for c in coverage]
    offered = {m for c in coverage for m in c.modes} & set(version.modes)
    modes = [m for m in Mode.values if m in offered]
    if mode is not None and mode not in modes:
        answer.attempt(lambda: resolve_item_version(item.code, node, on, mode))
    return modes


def _version_entry(version: ItemVersion) -> dict[str, Any]:
    return {
        "type": "item_version",
        "item": version.item_id,
        "version": version.version,
        "valid_from": version.valid_from.isoformat(),
        "valid_until": version.valid_until.isoformat() if version.valid_until else None,
        "legal_basis": version.legal_basis,
        "source": version.source,
    }


def _coverage_entry(coverage: Coverage) -> dict[str, Any]:
    return {
        "type": "coverage",
        "node": coverage.node_id,
        "modes": coverage.modes,
        "valid_from": coverage.valid_from.isoformat(),
        "valid_until": coverage.valid_until.isoformat() if coverage.valid_until else None,
        "source": coverage.source,
        "note": coverage.note,
    }


def _owner(region: str, function: str) -> dict[str, str]:
    department = department_for(region, function)
    return {
        "region": region,
        "node": node_for_region(region).code,
        "department_function": function,
        "department": department.name,
    }


def _material(material: Material) -> dict[str, str]:
    return {
        "code": material.code,
        "name": material.name,
        "requirement": material.requirement,
        "form": material.form,
        "licence_type": material.licence_type,
        "condition": material.condition,
    }


def _limit(value: int, unit: str) -> dict[str, Any]:
    return {"value": value, "unit": unit, "unit_label": LimitUnit(unit).label}


def _limits(version: ItemVersion) -> dict[str, Any]:
    return {
        "legal": _limit(version.legal_limit, version.legal_limit_unit),
        "promised": _limit(version.promised_limit, version.promised_limit_unit),
        "immediate": version.is_immediate,
    }


def _legs(version: ItemVersion, facts: dict[str, Any]) -> list[dict[str, Any]]:
    legs = []
    for leg, region in leg_regions(version, facts):
        legs.append(
            {
                "order": leg.order,
                "name": leg.name,
                "place": leg.place,
                "region": region,
                "node": node_for_region(region).code,
                "department_function": leg.department_function,
                "department": department_for(region, leg.department_function).name,
                "limit": _limit(leg.limit, LimitUnit.WORKING_DAY),
            }
        )
    return legs


def _unverified(version: ItemVersion, node: str, on: dt.date, trace: list[dict[str, Any]]) -> list[str]:
    found = list(version.unverified)
    for coverage in coverage_in_force(version.item, node, on):
        found += [f"coverage.{name}" for name in coverage.unverified]
    for entry in trace:
        found += [f"parameters.{p['name']}" for p in entry.get("parameters", []) if p.get("unverified")]
    return list(dict.fromkeys(found))


# --- the item's own rules -----------------------------------------------------------------------


def _run_item_rules(
    answer: _Answer, item: Item, node: str, on: dt.date, facts: dict[str, Any]
) -> tuple[str | None, bool]:
    """Run each rule bound to the item; return (the owner region a rule named, whether a rule names it)."""
    owner: str | None = None
    decided = False
    for binding in item_rules(item.code):
        value = _evaluate_binding(answer, binding, node, on, facts)
        if binding.owner_from_rule:
            decided = True
            owner = value.get("owner_region") if value else None
        if value is not None and not value.get("allowed", False):
            for reason in value.get("reasons") or [_unsatisfied(binding)]:
                answer.refuse(reason["code"], reason["detail"])
    return owner, decided


def _evaluate_binding(
    answer: _Answer, binding: ItemRuleSpec, node: str, on: dt.date, facts: dict[str, Any]
) -> dict[str, Any] | None:
    rule_facts = {**facts, **binding.facts, NODE_FACT: node}
    region = _rule_region(binding, node, facts)
    evaluation = answer.attempt(lambda: evaluate(binding.rule, rule_facts, on, region))
    if evaluation is None:
        return None
    answer.trace.append(evaluation.trace)
    value = evaluation.value
    return value if isinstance(value, dict) else {"allowed": bool(value)}


def _rule_region(binding: ItemRuleSpec, node: str, facts: dict[str, Any]) -> str | None:
    wanted = facts.get(binding.region_fact) if binding.region_fact else None
    if isinstance(wanted, str) and Region.objects.filter(code=wanted).exists():
        return wanted
    return node if Region.objects.filter(code=node).exists() else None


def _unsatisfied(binding: ItemRuleSpec) -> dict[str, str]:
    return {"code": "rule_not_satisfied", "detail": f"不符合规则“{binding.rule}”的条件。"}


# --- which facts an item understands ------------------------------------------------------------


def known_facts(item_code: str) -> dict[str, str]:
    """Fact name → Chinese label: jurisdiction facts, the item's form fields (any version) and its rules' facts."""
    item = get_item(item_code)
    found = dict(FACT_LABELS)
    for version in item.versions.all():
        for field in version.form_fields:
            found.setdefault(field["name"], field["label"])
    for binding in item_rules(item.code):
        for name, label in RULES.facts(binding.rule).items():
            if name != NODE_FACT and name not in binding.facts:
                found.setdefault(name, label)
    return found


def form_field_types(item_code: str) -> dict[str, str]:
    """Form field name → its type, from the item's versions (the newest version wins)."""
    types: dict[str, str] = {}
    for version in get_item(item_code).versions.order_by("version"):
        for field in version.form_fields:
            types[field["name"]] = field["type"]
    return types
