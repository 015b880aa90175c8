"""Load content/items/*.yaml into the catalog.

Every file is validated before anything is written, and the write is one transaction, so a broken
file changes nothing. Loading is idempotent: rows are matched by natural keys (item code, version
number, material code, leg order, coverage node and start date), changed only where the content
changed, and ItemVersion ids stay stable because cases point at them.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import yaml
from django.db import models, transaction
from django.db.models import ProtectedError
from pydantic import BaseModel, ValidationError

from tongban.catalog.models import Coverage, Item, ItemVersion, Leg, Material, Mode
from tongban.catalog.search import SynonymsError, pinyin_keys, read_synonyms
from tongban.catalog.spec import DEFAULT_HANDOVER_DAYS, CoverageSpec, ItemSpec, VersionSpec, check_item
from tongban.content_messages import PYDANTIC_MESSAGES, ContentLoader, location
from tongban.regions.models import Node

if TYPE_CHECKING:
    from tongban.licences.spec import LicenceTypeSpec

ITEMS_DIR = "items"
SpecT = TypeVar("SpecT", bound=BaseModel)

COUNT_LABELS = {
    "files": "文件",
    "items": "事项",
    "versions": "版本",
    "materials": "材料",
    "legs": "联办环节",
    "coverage": "通办范围",
    "synonyms": "搜索同义词",
    "licence_types": "证照类型",
    "created": "新增",
    "updated": "更新",
    "deleted": "删除",
}


class ContentError(Exception):
    """Content that cannot be loaded; `errors` lists every problem, each naming its file and field."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__("\n".join(errors))
        self.errors = errors


@dataclass(frozen=True)
class ItemFile:
    display: str
    spec: ItemSpec


# --- reading and validation ---------------------------------------------------------------------


_Loader = ContentLoader


def item_paths(content_dir: Path) -> list[Path]:
    folder = content_dir / ITEMS_DIR
    return sorted([*folder.glob("*.yaml"), *folder.glob("*.yml")])


def display_path(content_dir: Path, path: Path) -> str:
    """`content/items/x.yaml`: short enough to read, precise enough to find."""
    return f"{content_dir.name}/{path.relative_to(content_dir).as_posix()}"


def read_catalog(content_dir: Path) -> list[ItemFile]:
    """Parse and check every item file; raise ContentError listing all problems in all files."""
    errors: list[str] = []
    files: list[ItemFile] = []
    for path in item_paths(content_dir):
        display = display_path(content_dir, path)
        try:
            files.append(ItemFile(display, parse_item_file(path, display)))
        except ContentError as exc:
            errors.extend(exc.errors)
    errors += _duplicate_codes(files)
    if errors:
        raise ContentError(errors)
    return files


def parse_item_file(path: Path, display: str) -> ItemSpec:
    return read_spec(path, display, ItemSpec, check_item, "描述一个事项")


def read_spec(
    path: Path, display: str, model: type[SpecT], check: Callable[[SpecT], list[tuple[str, str]]], what: str
) -> SpecT:
    """One content file read, validated against `model` and checked, or ContentError naming each problem."""
    try:
        raw = yaml.load(path.read_text(encoding="utf-8"), Loader=_Loader)
    except yaml.YAMLError as exc:
        raise ContentError([f"{display}：YAML 格式错误：{_yaml_problem(exc)}"]) from None
    except UnicodeDecodeError:
        raise ContentError([f"{display}：文件必须使用 UTF-8 编码"]) from None
    if not isinstance(raw, dict):
        raise ContentError([f"{display}：文件内容必须是一个映射（键: 值），{what}"])
    try:
        spec = model.model_validate(raw)
    except ValidationError as exc:
        raise ContentError([f"{display}: {_loc(e['loc'])}：{_message(e)}" for e in exc.errors()]) from None
    problems = check(spec)
    if problems:
        raise ContentError([f"{display}: {where}：{message}" for where, message in problems])
    return spec


def _yaml_problem(exc: yaml.YAMLError) -> str:
    mark = getattr(exc, "problem_mark", None)
    problem = getattr(exc, "problem", None) or str(exc)
    return f"第 {mark.line + 1} 行第 {mark.column + 1} 列：{problem}" if mark else problem


def _loc(loc: tuple[Any, ...]) -> str:
    return location("", loc)


_MESSAGES = {
    **PYDANTIC_MESSAGES,
    "extra_forbidden": "不认识的字段，请检查拼写（格式见 content/items/README.md）",
}


def _message(error: Any) -> str:
    kind, ctx = error["type"], error.get("ctx") or {}
    if kind in _MESSAGES:
        return _MESSAGES[kind]
    if kind in ("value_error", "assertion_error") and "error" in ctx:
        return str(ctx["error"])
    if kind == "greater_than_equal":
        return f"不能小于 {ctx.get('ge')}"
    if kind == "string_too_short":
        return "不能为空"
    if kind == "string_too_long":
        return f"不能超过 {ctx.get('max_length')} 个字符"
    if kind == "too_short":
        return f"至少需要 {ctx.get('min_length')} 项"
    return f"取值无效（{error.get('msg', kind)}）"


def _duplicate_codes(files: list[ItemFile]) -> list[str]:
    first: dict[str, str] = {}
    errors: list[str] = []
    for f in files:
        if f.spec.code in first:
            errors.append(f"{f.display}: code：事项编码“{f.spec.code}”与 {first[f.spec.code]} 重复")
        first.setdefault(f.spec.code, f.display)
    return errors


# --- writing ------------------------------------------------------------------------------------


@transaction.atomic
def load_catalog(content_dir: Path) -> dict[str, int]:
    """Validate and load every item file; return counts. Re-running with unchanged content writes nothing.

    The search synonyms (content/catalog/synonyms.yaml) are read where they are, not loaded; they are checked here
    so that a broken file fails the load rather than the first search."""
    try:
        synonyms = read_synonyms(Path(content_dir))
    except SynonymsError as exc:
        raise ContentError(exc.errors) from None
    files = read_catalog(Path(content_dir))
    nodes = list(Node.objects.filter(active=True).values_list("code", flat=True))
    errors = _missing_nodes(files, set(nodes))
    if errors:
        raise ContentError(errors)
    errors += _licence_references(files, Path(content_dir))
    if errors:
        raise ContentError(errors)
    stats: Counter[str] = Counter()
    for f in files:
        errors += _sync_item(f, nodes, stats)
    errors += _remove_items_not_in({f.spec.code for f in files}, stats)
    if errors:
        raise ContentError(errors)  # rolls the whole load back
    counts = {
        "files": len(files),
        "items": len(files),
        "versions": sum(len(f.spec.versions) for f in files),
        "materials": sum(len(v.materials) for f in files for v in f.spec.versions),
        "legs": sum(len(v.legs) for f in files for v in f.spec.versions),
        "coverage": Coverage.objects.count(),
        "synonyms": len(synonyms),
    }
    return counts | {key: stats[key] for key in ("created", "updated", "deleted")}


def _plain(value: Any) -> Any:
    return value.model_dump() if isinstance(value, BaseModel) else value


def _result_licences(version: VersionSpec) -> list[str]:
    chosen = version.result_licence
    if chosen is None:
        return []
    return list(chosen.types.values()) if isinstance(chosen, BaseModel) else [chosen]


def _licence_references(files: list[ItemFile], content_dir: Path) -> list[str]:
    """Every licence an item issues or a material accepts is a known type, each type's produced_by lists
    exactly the items that issue it, and each issuing version's form holds what the licence's face needs."""
    from tongban.licences.loader import read_types

    types = {t.code: t for t in read_types(content_dir).types}
    issuing: dict[str, set[str]] = {code: set() for code in types}
    errors: list[str] = []
    for f in files:
        for index, version in enumerate(f.spec.versions):
            where = f"{f.display}: versions[{index}]"
            for code in _result_licences(version):
                if code not in types:
                    errors.append(f"{where}.result_licence：证照类型 {code} 不存在（见 content/licences/types.yaml）")
                    continue
                issuing[code].add(f.spec.code)
                errors += [f"{where}.result_licence：{why}" for why in _face_gaps(types[code], version)]
            for position, material in enumerate(version.materials):
                if material.licence_type and material.licence_type not in types:
                    errors.append(
                        f"{where}.materials[{position}].licence_type：证照类型 {material.licence_type} 不存在"
                        "（见 content/licences/types.yaml）"
                    )
    for code, licence_type in types.items():
        items = set(licence_type.produced_by)
        for item in sorted(items - issuing[code]):
            errors.append(f"licences/types.yaml: {code}.produced_by：事项 {item} 的版本都没有以 result_licence 指向它")
        for item in sorted(issuing[code] - items):
            errors.append(f"licences/types.yaml: {code}.produced_by：缺少以 result_licence 指向它的事项 {item}")
    return errors


def _face_gaps(licence_type: LicenceTypeSpec, version: VersionSpec) -> list[str]:
    """What would keep an approval from issuing the licence: a required KZ_ field no source of which this
    version's form (a required field) or its establishment fills, or a validity field it lacks."""
    fields = {f.name: f for f in version.form_fields}

    def fills(source: str) -> bool:
        kind, _, name = source.partition(".")
        if kind == "established":
            return version.establishes_enterprise
        return name in fields and fields[name].required

    gaps = [
        f"证照类型 {licence_type.code} 的扩展字段 {e.name}（{e.label}）为必填，但本版本的申请表没有可取值的必填字段"
        f"（来源：{'、'.join(e.source)}）"
        for e in licence_type.extensions
        if e.required and e.source and not any(fills(source) for source in e.source)
    ]
    rule = licence_type.validity
    when = rule.years_when.field if rule.years_when else ""
    name, field_type = {"until_field": (rule.field, "date"), "years": (when, "boolean")}.get(rule.kind, ("", ""))
    if name and (name not in fields or fields[name].type != field_type):
        shown = {"date": "日期", "boolean": "是/否"}[field_type]
        gaps.append(f"证照类型 {licence_type.code} 的有效期取决于字段“{name}”，本版本的申请表没有这个{shown}字段")
    return gaps


def _missing_nodes(files: list[ItemFile], nodes: set[str]) -> list[str]:
    errors: list[str] = []
    for f in files:
        for index, coverage in enumerate(f.spec.coverage):
            where = f"{f.display}: coverage[{index}].nodes"
            if coverage.nodes == "all" and not nodes:
                errors.append(f"{where}：尚未装载任何平台节点，请先装载区划与节点（content/regions）")
            elif coverage.nodes != "all":
                errors += [f"{where}：节点 {code} 不存在或未启用" for code in coverage.nodes if code not in nodes]
    return errors


def _upsert(model: type[models.Model], lookup: dict[str, Any], values: dict[str, Any], stats: Counter[str]) -> Any:
    row = model.objects.filter(**lookup).first()
    if row is None:
        stats["created"] += 1
        return model.objects.create(**lookup, **values)
    return _update(row, values, stats)


def _update(row: Any, values: dict[str, Any], stats: Counter[str]) -> Any:
    changed = [name for name, value in values.items() if getattr(row, name) != value]
    if changed:
        for name in changed:
            setattr(row, name, values[name])
        row.save(update_fields=changed)
        stats["updated"] += 1
    return row


def _ordered_modes(modes: list[str]) -> list[str]:
    """One spelling per set of modes, so that reordering the YAML list is not a change."""
    return [m for m in Mode.values if m in modes]


def _sync_item(f: ItemFile, nodes: list[str], stats: Counter[str]) -> list[str]:
    spec = f.spec
    initials, full = pinyin_keys(spec.name)
    item = _upsert(
        Item,
        {"code": spec.code},
        {
            "name": spec.name,
            "theme": spec.theme,
            "applicant_type": spec.applicant_type,
            "department_function": spec.department_function,
            "item_type": spec.item_type,
            "name_initials": initials,
            "name_pinyin": full,
            "content_file": f.display,
        },
        stats,
    )
    for version in spec.versions:
        row = _upsert(ItemVersion, {"item": item, "version": version.version}, _version_values(version), stats)
        _sync_materials(row, version, stats)
        _sync_legs(row, version, stats)
    _sync_coverage(item, spec.coverage, nodes, stats)
    return _remove_versions_not_in(f, item, stats)


def _version_values(v: VersionSpec) -> dict[str, Any]:
    return {
        "valid_from": v.valid_from,
        "valid_until": v.valid_until,
        "is_immediate": v.is_immediate,
        "modes": _ordered_modes(v.modes),
        "jurisdiction_rule": v.jurisdiction_rule,
        "legal_limit": v.legal_limit.value,
        "legal_limit_unit": v.legal_limit.unit,
        "promised_limit": v.promised_limit.value,
        "promised_limit_unit": v.promised_limit.unit,
        "form_fields": [field.model_dump() for field in v.form_fields],
        "fees": v.fees,
        "establishes_enterprise": v.establishes_enterprise,
        "establishment_kind": v.establishment_kind,
        "result_type": v.result_type,
        "result_licence": _plain(v.result_licence),
        "result_operation": v.result_operation,
        "result_delivery": list(v.result_delivery),
        "legal_basis": v.legal_basis.strip(),
        "conditions": v.conditions.strip(),
        "source": v.source,
        "unverified": list(v.unverified),
        "notes": v.notes.strip(),
    }


def _sync_materials(row: ItemVersion, version: VersionSpec, stats: Counter[str]) -> None:
    existing = {m.code: m for m in row.materials.all()}
    for order, m in enumerate(version.materials):
        values = {
            "name": m.name,
            "requirement": m.requirement,
            "condition": m.condition,
            "when": dict(m.when),
            "form": m.form,
            "licence_type": m.licence_type,
            "order": order,
        }
        if m.code in existing:
            _update(existing.pop(m.code), values, stats)
        else:
            Material.objects.create(item_version=row, code=m.code, **values)
            stats["created"] += 1
    _delete(existing.values(), stats)


def _sync_legs(row: ItemVersion, version: VersionSpec, stats: Counter[str]) -> None:
    existing = {leg.order: leg for leg in row.legs.all()}
    for leg in version.legs:
        values = {
            "name": leg.name,
            "place": leg.place,
            "department_function": leg.department_function,
            "limit": leg.limit,
        }
        if leg.order in existing:
            _update(existing.pop(leg.order), values, stats)
        else:
            Leg.objects.create(item_version=row, order=leg.order, **values)
            stats["created"] += 1
    _delete(existing.values(), stats)


def _sync_coverage(item: Item, specs: list[CoverageSpec], nodes: list[str], stats: Counter[str]) -> None:
    wanted: dict[tuple[str, Any, tuple[str, ...]], dict[str, Any]] = {}
    for spec in specs:
        modes = _ordered_modes(spec.modes)
        values = {
            "valid_until": spec.valid_until,
            "proxy_handover_days": DEFAULT_HANDOVER_DAYS | spec.proxy_handover_days if "proxy" in modes else {},
            "note": spec.note,
            "source": spec.source,
            "unverified": list(spec.unverified),
        }
        for node in nodes if spec.nodes == "all" else spec.nodes:
            wanted[(node, spec.valid_from, tuple(modes))] = values
    existing = {(c.node_id, c.valid_from, tuple(c.modes)): c for c in item.coverage.all()}
    new_rows = []
    for key, values in wanted.items():
        if key in existing:
            _update(existing.pop(key), values, stats)
        else:
            node, valid_from, modes = key
            new_rows.append(Coverage(item=item, node_id=node, valid_from=valid_from, modes=list(modes), **values))
    Coverage.objects.bulk_create(new_rows)
    stats["created"] += len(new_rows)
    _delete(existing.values(), stats)


def _delete(rows: Any, stats: Counter[str]) -> None:
    for row in rows:
        row.delete()
        stats["deleted"] += 1


def _remove_versions_not_in(f: ItemFile, item: Item, stats: Counter[str]) -> list[str]:
    errors: list[str] = []
    wanted = [v.version for v in f.spec.versions]
    for row in item.versions.exclude(version__in=wanted):
        try:
            _delete([row], stats)
        except ProtectedError:
            errors.append(
                f"{f.display}: versions：版本 {row.version} 已被办件引用，不能从内容中删除；"
                "请保留该版本并用 valid_until 结束其有效期"
            )
    return errors


def _remove_items_not_in(codes: set[str], stats: Counter[str]) -> list[str]:
    """An item whose file was removed disappears, unless cases refer to it."""
    errors: list[str] = []
    for item in Item.objects.exclude(code__in=codes):
        try:
            stats["deleted"] += item.coverage.all().delete()[0]
            _delete(list(item.versions.all()), stats)
            _delete([item], stats)
        except ProtectedError:
            errors.append(f"事项 {item.code}（{item.name}）的内容文件已删除，但已有办件引用它，不能从目录中删除")
    return errors
