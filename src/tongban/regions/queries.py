"""Read-side questions about divisions, nodes, departments and alliances.

Region codes are 6-digit GB/T 2260 codes; the 12-digit padded form seen in feeds (340100000000) is accepted.
Unknown or malformed codes raise NotFound("region_unknown"). Former divisions (渝北区) are found by code.
"""

from __future__ import annotations

import datetime as dt

from django.db.models import Q

from tongban import clock
from tongban.errors import DomainError, NotFound
from tongban.regions.departments import current_rules
from tongban.regions.models import Alliance, Department, DepartmentFunction, DivisionEdition, Node, Region


def normalize_code(code: str) -> str:
    """The 6-digit code for `code`, accepting the 12-digit form padded with zeros."""
    value = (code or "").strip()
    if len(value) == 12 and value.endswith("000000"):
        value = value[:6]
    if len(value) != 6 or not value.isascii() or not value.isdigit():
        raise _unknown(code)
    return value


def _unknown(code: str | None) -> NotFound:
    return NotFound("region_unknown", f"行政区划代码不存在：{code}")


def get_region(code: str) -> Region:
    try:
        return Region.objects.select_related("parent__parent").get(code=normalize_code(code))
    except Region.DoesNotExist:
        raise _unknown(code) from None


def children(code: str | None) -> list[Region]:
    """The current divisions directly under `code`; None gives the provinces.

    A former division (no longer in the current edition) is still found by code, but not listed.
    """
    if code is None:
        return list(Region.objects.filter(level=Region.Level.PROVINCE, current=True))
    return list(get_region(code).children.filter(current=True))


def edition() -> DivisionEdition | None:
    """The edition of the loaded division table; None before the first load."""
    return DivisionEdition.objects.filter(id=DivisionEdition.SINGLETON).first()


def lineage(code: str) -> list[Region]:
    """The region and its ancestors, from the region itself up to its province."""
    region = get_region(code)
    chain = [region]
    while chain[-1].parent is not None:
        chain.append(chain[-1].parent)
    return chain


def ancestors(code: str) -> list[Region]:
    """The ancestors of `code`, from its province down to its parent (empty for a province)."""
    return lineage(code)[:0:-1]


def province_code(code: str) -> str:
    """The province code of a division, e.g. 370102 → 370000 (the code must exist)."""
    return get_region(code).province_code


def node_for_region(code: str) -> Node:
    """The provincial platform node that serves a division."""
    province = province_code(code)
    try:
        return Node.objects.get(region_id=province)
    except Node.DoesNotExist:
        raise NotFound("node_unknown", f"区划 {province} 没有对应的省级平台节点") from None


def hub_node() -> Node:
    """The national hub node (国家政务服务平台)."""
    node = Node.objects.filter(is_hub=True).first()
    if node is None:
        raise NotFound("node_unknown", "尚未装载国家政务服务平台节点")
    return node


def _function(function: str) -> str:
    if function not in DepartmentFunction.values:
        raise DomainError("department_function_unknown", f"未知的部门职能：{function}", status=422)
    return str(function)


def department_for(region_code: str, function: str) -> Department:
    """The department of `function` serving a division.

    Looks at the division first, then up its ancestors: a county without a housing-fund centre is served
    by its prefecture's. A county department that the rules provide for is created on first use.
    """
    function = _function(function)
    chain = lineage(region_code)
    rules = current_rules()
    for index, region in enumerate(chain):
        existing = Department.objects.filter(region=region, function=function).first()
        if existing is not None:
            return existing
        name = rules.name(chain[index:], function)
        if name is not None:
            department, _ = Department.objects.get_or_create(
                region=region, function=function, defaults={"name": name, "node": node_for_region(region.code)}
            )
            return department
    label = DepartmentFunction(function).label
    raise NotFound("department_unknown", f"区划 {chain[0].code} 及其上级均没有{label}部门")


def alliances_in_force(region_code: str, on: dt.date | None = None) -> list[Alliance]:
    """Alliances in force on `on` (default: today) whose members include the division or an ancestor."""
    on = on or clock.today()
    codes = [region.code for region in lineage(region_code)]
    in_force = Q(valid_from__lte=on) & (Q(valid_until__isnull=True) | Q(valid_until__gt=on))
    return list(Alliance.objects.filter(in_force, members__code__in=codes).distinct().order_by("code"))


def same_alliance(a: str, b: str, on: dt.date | None = None, function: str | None = None) -> Alliance | None:
    """The first alliance in force on `on` that holds both divisions and covers `function`, else None.

    An alliance with no functions listed covers every function.
    """
    if function is not None:
        function = _function(function)
    theirs = {alliance.code for alliance in alliances_in_force(b, on)}
    for alliance in alliances_in_force(a, on):
        covers = function is None or not alliance.department_functions or function in alliance.department_functions
        if alliance.code in theirs and covers:
            return alliance
    return None
