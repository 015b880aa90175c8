"""Which items have a rule of their own: content/rules/items.yaml.

An item rule runs in the eligibility answer for its item, after the catalog's checks. Its facts are the
applicant's facts, the constant facts written here (e.g. `kind: divorce`) and `node`. It is selected for the
region in `region_fact` when that fact is given (else the node's region), so a regional rule version applies.
With `owner_from_rule`, the rule's `owner_region` names the owning region instead of the version's
jurisdiction rule (none when the rule fails or refuses).
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from django.conf import settings
from pydantic import Field

from tongban.rules.content import RulesContentError, Spec, Text, display_path, read_yaml, validate
from tongban.rules.registry import RULES, Registry

ITEM_RULES_FILE = Path("rules") / "items.yaml"


class ItemRuleSpec(Spec):
    item: Text
    rule: Text
    facts: dict[str, Any] = {}
    region_fact: str = ""
    # The rule's value names the owning region (`owner_region`) in place of the version's jurisdiction rule.
    owner_from_rule: bool = False
    note: str = ""


class ItemRulesSpec(Spec):
    items: list[ItemRuleSpec] = Field(default_factory=list)


def read_item_rules(content_dir: Path, registry: Registry | None = None) -> dict[str, list[ItemRuleSpec]]:
    """Item code → its rules; raise RulesContentError naming every problem."""
    registry = registry or RULES
    content_dir = Path(content_dir)
    path = content_dir / ITEM_RULES_FILE
    if not path.exists():
        return {}
    display = display_path(content_dir, path)
    spec = validate(ItemRulesSpec, read_yaml(path, display) or {}, display)
    errors: list[str] = []
    result: dict[str, list[ItemRuleSpec]] = {}
    known = set(registry.names())
    for index, entry in enumerate(spec.items):
        if entry.rule not in known:
            shown = "、".join(sorted(known))
            errors.append(f"{display}: items[{index}].rule：规则“{entry.rule}”未登记（已登记：{shown}）")
        if "node" in entry.facts:
            errors.append(f"{display}: items[{index}].facts.node：node 由办理节点给出，不能写在这里")
        if any(e.rule == entry.rule for e in result.get(entry.item, [])):
            errors.append(f"{display}: items[{index}]：事项 {entry.item} 重复绑定规则 {entry.rule}")
        result.setdefault(entry.item, []).append(entry)
    if errors:
        raise RulesContentError(errors)
    return result


_lock = threading.Lock()
_current: dict[str, list[ItemRuleSpec]] | None = None


def item_rules(item_code: str) -> list[ItemRuleSpec]:
    """The rules bound to an item (read from settings.CONTENT_DIR on first use)."""
    global _current
    with _lock:
        if _current is None:
            _current = read_item_rules(Path(settings.CONTENT_DIR))
        return list(_current.get(item_code, []))


def install(bindings: dict[str, list[ItemRuleSpec]] | None) -> dict[str, list[ItemRuleSpec]] | None:
    """Use `bindings` from now on (None: read the content again); return the previous ones."""
    global _current
    with _lock:
        previous, _current = _current, bindings
        return previous
