"""Load content/regions into the database: divisions and their edition, nodes, departments, alliances.

Everything is read and validated before the first write, and written in one transaction, so bad content
changes nothing. Loading is idempotent: rows are compared with the content and only differences are
written, so a second run reports no changes. County departments are not loaded here; `department_for`
creates them when first needed, which keeps this under a second for ~3,200 divisions.

divisions.csv is the current edition; former_divisions.csv holds divisions it no longer lists, loaded with
`current` false so that records naming them still resolve. The code lists the identifier validators read
(historical_codes.csv, registration_codes.csv) are checked here too, so bad content fails the load.
"""

from __future__ import annotations

import csv
import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.db import transaction

from tongban.regions.codes import read_code_lists
from tongban.regions.content import RegionContentError, fail, mapping, read_yaml, region_code, sequence, text
from tongban.regions.departments import DepartmentRules, parse_rules, use_rules
from tongban.regions.models import Alliance, Department, DepartmentFunction, DivisionEdition, Node, Region

__all__ = ["RegionContentError", "load_regions"]

DIVISIONS_HEADER = ["code", "name", "level", "parent"]
FORMER_HEADER = ["code", "name", "level", "parent", "delisted", "note"]
EDITION_FIELDS = ("edition", "date", "source")
SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,31}$")
BATCH = 500


@dataclass(frozen=True)
class DivisionRow:
    code: str
    name: str
    level: int
    parent: str | None
    current: bool = True


@dataclass(frozen=True)
class EditionRow:
    name: str
    date: dt.date
    source: str


@dataclass(frozen=True)
class NodeRow:
    code: str
    name: str
    region: str | None
    is_hub: bool
    active: bool


@dataclass(frozen=True)
class AllianceRow:
    code: str
    name: str
    members: frozenset[str]
    department_functions: list[str]
    valid_from: dt.date
    valid_until: dt.date | None
    workflow: str
    source: str


def load_regions(content_dir: Path) -> dict[str, int]:
    """Load the content root's regions/ folder (or a regions folder itself); return counts of what changed.

    Raises RegionContentError, naming the file and entry, when the content is invalid.
    """
    folder = _regions_folder(Path(content_dir))
    divisions = read_divisions(folder / "divisions.csv")
    edition = read_edition(folder / "divisions.csv")
    every = divisions | read_former_divisions(folder / "former_divisions.csv", divisions)
    read_code_lists(folder)
    nodes = read_nodes(folder / "nodes.yaml", divisions)
    rules = read_department_rules(folder / "departments.yaml", every)
    alliances = read_alliances(folder / "alliances.yaml", every)
    with transaction.atomic():
        counts = _sync_regions(every)
        counts |= _sync_edition(edition)
        counts |= _sync_nodes(nodes)
        counts |= _sync_departments(every, rules)
        counts |= _sync_alliances(alliances)
    use_rules(rules)
    return counts


def _regions_folder(content_dir: Path) -> Path:
    if (content_dir / "regions").is_dir():
        return content_dir / "regions"
    if (content_dir / "divisions.csv").is_file():
        return content_dir
    raise fail(content_dir, "", "找不到 regions 目录（应含 divisions.csv 等文件）")


# --- reading and validating ---------------------------------------------------------------------------


def read_divisions(path: Path) -> dict[str, DivisionRow]:
    """The current edition's divisions; every parent must be in the file."""
    divisions, line_of = _read_rows(path, DIVISIONS_HEADER, current=True, known={})
    for division in divisions.values():
        _check_parent(division, divisions, path, f"第 {line_of[division.code]} 行")
    if not any(d.level == Region.Level.PROVINCE for d in divisions.values()):
        raise fail(path, "", "没有省级区划")
    return divisions


def read_former_divisions(path: Path, current: dict[str, DivisionRow]) -> dict[str, DivisionRow]:
    """Divisions the current edition no longer lists; a parent may be current or former itself."""
    former, line_of = _read_rows(path, FORMER_HEADER, current=False, known=current)
    every = current | former
    for division in former.values():
        _check_parent(division, every, path, f"第 {line_of[division.code]} 行")
    return former


def _read_rows(
    path: Path, header: list[str], *, current: bool, known: dict[str, DivisionRow]
) -> tuple[dict[str, DivisionRow], dict[str, int]]:
    if not path.is_file():
        raise fail(path, "", "文件不存在")
    lines = path.read_text(encoding="utf-8").splitlines()
    # Keep line numbers right for messages while skipping the comment lines.
    numbered = [(n, line) for n, line in enumerate(lines, start=1) if line.strip() and not line.startswith("#")]
    rows = list(csv.reader(line for _, line in numbered))
    if not rows or rows[0] != header:
        raise fail(path, "表头", f"应为 {','.join(header)}")
    divisions: dict[str, DivisionRow] = {}
    line_of: dict[str, int] = {}
    for (number, _), row in zip(numbered[1:], rows[1:], strict=True):
        where = f"第 {number} 行"
        division = _division(row, header, path, where, current=current)
        if division.code in divisions:
            raise fail(path, where, f"区划代码 {division.code} 重复")
        if division.code in known:
            raise fail(path, where, f"区划代码 {division.code} 在现行版本中仍然列有，不能同时列为旧区划")
        divisions[division.code] = division
        line_of[division.code] = number
    return divisions, line_of


def _division(row: list[str], header: list[str], path: Path, where: str, *, current: bool) -> DivisionRow:
    if len(row) != len(header):
        raise fail(path, where, f"应有 {len(header)} 列，实际 {len(row)} 列")
    code, name, level, parent = row[:4]
    region_code(code, path, where)
    if level not in {"1", "2", "3"}:
        raise fail(path, where, f"级别应为 1、2 或 3，实际为 {level!r}")
    text(name, path, where, max_length=64)
    return DivisionRow(code, name.strip(), int(level), parent or None, current)


def read_edition(path: Path) -> EditionRow:
    """The edition named in the comment lines at the top of divisions.csv (`# edition: …`, `# date: …`)."""
    found: dict[str, str] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.startswith("#"):
            break
        key, colon, value = line[1:].partition(":")
        if colon and key.strip() in EDITION_FIELDS:
            found[key.strip()] = value.strip()
    missing = [key for key in EDITION_FIELDS if not found.get(key)]
    if missing:
        raise fail(path, "文件头", f"缺少版本说明：{', '.join(f'# {key}: …' for key in missing)}")
    try:
        date = dt.date.fromisoformat(found["date"])
    except ValueError:
        raise fail(path, "文件头", f"# date 应为 YYYY-MM-DD 格式的日期，实际为 {found['date']!r}") from None
    name = text(found["edition"], path, "文件头 # edition", max_length=128)
    return EditionRow(name=name, date=date, source=text(found["source"], path, "文件头 # source", max_length=255))


def _check_parent(division: DivisionRow, divisions: dict[str, DivisionRow], path: Path, where: str) -> None:
    if division.level == Region.Level.PROVINCE:
        if division.parent is not None or not division.code.endswith("0000"):
            raise fail(path, where, f"省级区划 {division.code} 应以 0000 结尾且没有上级")
        return
    parent = divisions.get(division.parent or "")
    if parent is None:
        raise fail(path, where, f"{division.code} 的上级 {division.parent} 不存在")
    prefix = 2 if division.level == Region.Level.PREFECTURE else 4
    if parent.level != division.level - 1 or division.code[:prefix] != parent.code[:prefix]:
        raise fail(path, where, f"{division.code} 不能隶属于 {parent.code}（级别或代码前缀不符）")


def read_nodes(path: Path, divisions: dict[str, DivisionRow]) -> list[NodeRow]:
    entries = sequence(mapping(read_yaml(path), path, "").get("nodes"), path, "nodes")
    nodes = [
        _node(mapping(entry, path, f"nodes[{i}]"), path, f"nodes[{i}]", divisions) for i, entry in enumerate(entries)
    ]
    _unique([n.code for n in nodes], path, "节点编码")
    hubs = [n for n in nodes if n.is_hub]
    if len(hubs) != 1:
        raise fail(path, "nodes", f"应恰有一个国家平台节点（is_hub: true），实际 {len(hubs)} 个")
    covered = {n.region for n in nodes if not n.is_hub}
    missing = sorted(c for c, d in divisions.items() if d.level == Region.Level.PROVINCE and c not in covered)
    if missing:
        raise fail(path, "nodes", f"以下省级区划没有平台节点：{', '.join(missing)}")
    return nodes


def _node(entry: dict[str, Any], path: Path, where: str, divisions: dict[str, DivisionRow]) -> NodeRow:
    code = region_code(entry.get("code"), path, f"{where}.code")
    is_hub = _bool(entry.get("is_hub", False), path, f"{where}.is_hub")
    region = entry.get("region")
    if is_hub:
        if region is not None:
            raise fail(path, f"{where}.region", "国家平台节点不属于任何区划，应为 null")
    else:
        region = region_code(region, path, f"{where}.region")
        if divisions.get(region) is None or divisions[region].level != Region.Level.PROVINCE:
            raise fail(path, f"{where}.region", f"{region} 不是已知的省级区划")
        if code != region:
            raise fail(path, f"{where}.code", f"省级节点编码应等于其区划代码 {region}")
    name = text(entry.get("name"), path, f"{where}.name", max_length=64)
    return NodeRow(code, name, region, is_hub, _bool(entry.get("active", True), path, f"{where}.active"))


def read_department_rules(path: Path, divisions: dict[str, DivisionRow]) -> DepartmentRules:
    rules = parse_rules(read_yaml(path), path)
    for code in rules.overrides:
        if code not in divisions:
            raise fail(path, f"overrides.{code}", "区划代码不存在")
    return rules


def read_alliances(path: Path, divisions: dict[str, DivisionRow]) -> list[AllianceRow]:
    entries = sequence(mapping(read_yaml(path), path, "").get("alliances", []), path, "alliances")
    alliances = [
        _alliance(mapping(entry, path, f"alliances[{i}]"), path, f"alliances[{i}]", divisions)
        for i, entry in enumerate(entries)
    ]
    _unique([a.code for a in alliances], path, "联盟编码")
    return alliances


def _alliance(entry: dict[str, Any], path: Path, where: str, divisions: dict[str, DivisionRow]) -> AllianceRow:
    code = entry.get("code")
    if not isinstance(code, str) or not SLUG.match(code):
        raise fail(path, f"{where}.code", "编码应为小写字母、数字和连字符，最长 32 个字符")
    listed = sequence(entry.get("members"), path, f"{where}.members")
    members = [region_code(m, path, f"{where}.members") for m in listed]
    unknown = [m for m in members if m not in divisions]
    if len(members) < 2 or unknown:
        raise fail(path, f"{where}.members", f"应至少有两个已知区划；未知区划：{', '.join(unknown) or '无'}")
    _unique(members, path, f"{where}.members 成员")
    functions = sequence(entry.get("department_functions", []), path, f"{where}.department_functions")
    for function in functions:
        if function not in DepartmentFunction.values:
            raise fail(path, f"{where}.department_functions", f"未知职能 {function!r}")
    valid_from = _date(entry.get("valid_from"), path, f"{where}.valid_from")
    until = entry.get("valid_until")
    valid_until = None if until is None else _date(until, path, f"{where}.valid_until")
    if valid_until is not None and valid_until <= valid_from:
        raise fail(path, f"{where}.valid_until", "失效日期应晚于生效日期")
    return AllianceRow(
        code=code,
        name=text(entry.get("name"), path, f"{where}.name", max_length=64),
        members=frozenset(members),
        department_functions=list(functions),
        valid_from=valid_from,
        valid_until=valid_until,
        workflow=text(entry.get("workflow", ""), path, f"{where}.workflow", max_length=128, blank=True),
        # A date or fact nobody could confirm must say so rather than pass as sourced.
        source=text(entry.get("source"), path, f"{where}.source", max_length=255),
    )


def _bool(value: Any, path: Path, where: str) -> bool:
    if not isinstance(value, bool):
        raise fail(path, where, "应为 true 或 false")
    return value


def _date(value: Any, path: Path, where: str) -> dt.date:
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            pass
    raise fail(path, where, f"应为 YYYY-MM-DD 格式的日期，实际为 {value!r}")


def _unique(values: Iterable[str], path: Path, what: str) -> None:
    seen: set[str] = set()
    for value in values:
        if value in seen:
            raise fail(path, "", f"{what} {value} 重复")
        seen.add(value)


# --- writing ----------------------------------------------------------------------------------------------


def _sync_regions(divisions: dict[str, DivisionRow]) -> dict[str, int]:
    rows = Region.objects.values_list("code", "name", "level", "parent_id", "current")
    existing = {code: (name, level, parent, current) for code, name, level, parent, current in rows}
    created, updated = [], []
    # Parents first, so every foreign key points at a row that already exists.
    for d in sorted(divisions.values(), key=lambda d: (d.level, d.code)):
        region = Region(code=d.code, name=d.name, level=d.level, parent_id=d.parent, current=d.current)
        if d.code not in existing:
            created.append(region)
        elif existing[d.code] != (d.name, d.level, d.parent, d.current):
            updated.append(region)
    Region.objects.bulk_create(created, batch_size=BATCH)
    Region.objects.bulk_update(updated, ["name", "level", "parent", "current"], batch_size=BATCH)
    # Codes in neither file stay as they are: old cases and accounts still point at them.
    return {
        "regions": len(divisions),
        "regions_created": len(created),
        "regions_updated": len(updated),
        "regions_obsolete": len(set(existing) - set(divisions)),
    }


def _sync_edition(edition: EditionRow) -> dict[str, int]:
    values = {"name": edition.name, "date": edition.date, "source": edition.source}
    row = DivisionEdition.objects.filter(id=DivisionEdition.SINGLETON).first()
    if row is not None and all(getattr(row, key) == value for key, value in values.items()):
        return {"edition_updated": 0}
    DivisionEdition.objects.update_or_create(id=DivisionEdition.SINGLETON, defaults=values)
    return {"edition_updated": 1}


def _sync_nodes(nodes: list[NodeRow]) -> dict[str, int]:
    existing = {n.code: n for n in Node.objects.all()}
    created = updated = 0
    for row in nodes:
        values = {"name": row.name, "region_id": row.region, "is_hub": row.is_hub, "active": row.active}
        node = existing.get(row.code)
        if node is None:
            Node.objects.create(code=row.code, **values)
            created += 1
        elif any(getattr(node, field) != value for field, value in values.items()):
            Node.objects.filter(code=row.code).update(**values)
            updated += 1
    return {"nodes": len(nodes), "nodes_created": created, "nodes_updated": updated}


def _lineage(code: str, divisions: dict[str, DivisionRow]) -> list[DivisionRow]:
    lineage = [divisions[code]]
    while lineage[-1].parent:
        lineage.append(divisions[lineage[-1].parent])
    return lineage


def _sync_departments(divisions: dict[str, DivisionRow], rules: DepartmentRules) -> dict[str, int]:
    nodes = dict(Node.objects.filter(region__isnull=False).values_list("region_id", "code"))
    wanted: dict[tuple[str, str], tuple[str, str]] = {}
    # Departments are made ahead only for current divisions; a former one gets its own on first use.
    eager = {d.code for d in divisions.values() if d.level != Region.Level.COUNTY and d.current}
    existing = {(d.region_id, d.function): d for d in Department.objects.all()}
    # County departments made on demand are renamed too when the rules change.
    on_demand = {region for region, _ in existing if region in divisions and region not in eager}
    for code in sorted(eager | on_demand):
        lineage = _lineage(code, divisions)
        for function in DepartmentFunction.values:
            name = rules.name(lineage, function)
            if name is not None and (code in eager or (code, function) in existing):
                wanted[(code, function)] = (name, nodes[lineage[-1].code])
    created, updated = [], []
    for (code, function), (name, node) in wanted.items():
        department = existing.get((code, function))
        if department is None:
            created.append(Department(region_id=code, function=function, name=name, node_id=node))
        elif (department.name, department.node_id) != (name, node):
            department.name, department.node_id = name, node
            updated.append(department)
    Department.objects.bulk_create(created, batch_size=BATCH)
    Department.objects.bulk_update(updated, ["name", "node"], batch_size=BATCH)
    return {"departments": len(wanted), "departments_created": len(created), "departments_updated": len(updated)}


def _sync_alliances(alliances: list[AllianceRow]) -> dict[str, int]:
    existing = {a.code: a for a in Alliance.objects.prefetch_related("members")}
    created = updated = 0
    for row in alliances:
        values = {
            "name": row.name,
            "department_functions": row.department_functions,
            "valid_from": row.valid_from,
            "valid_until": row.valid_until,
            "workflow": row.workflow,
            "source": row.source,
        }
        alliance = existing.get(row.code)
        if alliance is None:
            alliance = Alliance.objects.create(code=row.code, **values)
            alliance.members.set(row.members)
            created += 1
            continue
        changed = any(getattr(alliance, field) != value for field, value in values.items())
        if changed:
            Alliance.objects.filter(code=row.code).update(**values)
        if {m.code for m in alliance.members.all()} != row.members:
            alliance.members.set(row.members)
            changed = True
        updated += changed
    return {"alliances": len(alliances), "alliances_created": created, "alliances_updated": updated}
