"""Loading content: idempotent, updates in place, and refuses broken files with Chinese errors that name the
file and the field."""

from __future__ import annotations

import copy
import io
from pathlib import Path
from typing import Any

import pytest
import yaml
from django.core.management import call_command

from tongban.catalog.loader import ContentError, load_catalog
from tongban.catalog.models import Coverage, Item, ItemVersion, Leg, Material

from .conftest import CONTENT_DIR

VALID_ITEM: dict[str, Any] = {
    "code": "TEST-001",
    "name": "测试事项",
    "theme": "社保",
    "applicant_type": "自然人",
    "department_function": "renshe",
    "item_type": "公共服务",
    "versions": [
        {
            "version": 1,
            "valid_from": "2021-01-01",
            "modes": ["multi_place", "online"],
            "jurisdiction_rule": "destination",
            "legal_limit": {"value": 20, "unit": "工作日"},
            "promised_limit": {"value": 10, "unit": "工作日"},
            "form_fields": [
                {"name": "kind", "label": "类别", "type": "choice", "required": True, "choices": ["甲", "乙"]},
                {"name": "destination_region", "label": "转入地", "type": "region", "required": True},
                {"name": "origin_region", "label": "转出地", "type": "region", "required": True},
            ],
            "materials": [
                {"code": "id_card", "name": "居民身份证", "requirement": "required", "form": "original"},
                {
                    "code": "proof",
                    "name": "证明",
                    "requirement": "conditional",
                    "condition": "类别为乙的",
                    "when": {"kind": "乙"},
                    "form": "copy",
                },
            ],
            "legs": [
                {"order": 1, "name": "转出", "place": "origin", "department_function": "renshe", "limit": 10},
                {"order": 2, "name": "转入", "place": "destination", "department_function": "renshe", "limit": 5},
            ],
            "result_type": "办结告知",
            "result_delivery": ["online"],
            "source": "测试",
        }
    ],
    "coverage": [{"nodes": ["110000"], "modes": ["multi_place"], "valid_from": "2021-01-01"}],
}


def write_items(root: Path, *items: dict[str, Any], name: str = "x.yaml") -> Path:
    """A content dir named `content` under `root` holding the given items (one file each)."""
    folder = root / "content" / "items"
    folder.mkdir(parents=True, exist_ok=True)
    for index, item in enumerate(items):
        filename = name if index == 0 else f"extra{index}.yaml"
        (folder / filename).write_text(yaml.safe_dump(item, allow_unicode=True), encoding="utf-8")
    licences = root / "content" / "licences"
    licences.mkdir(exist_ok=True)
    (licences / "types.yaml").write_text(yaml.safe_dump(LICENCE_TYPES, allow_unicode=True), encoding="utf-8")
    return root / "content"


# The licence types the test items name: one a material accepts, none an item issues.
LICENCE_TYPES = {
    "types": [
        {
            "code": "jumin_shenfenzheng",
            "name": "居民身份证",
            "type_code": "11100000MA00011D26001",
            "department_function": "gongan",
            "holder": "person",
            "validity": {"kind": "open"},
            "source": "测试",
        }
    ]
}


def broken(change) -> dict[str, Any]:
    item = copy.deepcopy(VALID_ITEM)
    change(item)
    return item


def _version(item: dict[str, Any]) -> dict[str, Any]:
    return item["versions"][0]


def test_load_catalog_counts_rows(catalog):
    assert catalog["items"] == Item.objects.count() >= 20
    assert catalog["versions"] == ItemVersion.objects.count()
    assert catalog["materials"] == Material.objects.count()
    assert catalog["legs"] == Leg.objects.count()
    assert catalog["coverage"] == Coverage.objects.count()
    assert catalog["created"] > 0 and catalog["updated"] == 0 and catalog["deleted"] == 0


def test_reloading_unchanged_content_changes_nothing(catalog):
    ids = dict(ItemVersion.objects.values_list("id", "version"))
    material_ids = set(Material.objects.values_list("id", flat=True))
    again = load_catalog(CONTENT_DIR)
    assert (again["created"], again["updated"], again["deleted"]) == (0, 0, 0)
    assert dict(ItemVersion.objects.values_list("id", "version")) == ids
    assert set(Material.objects.values_list("id", flat=True)) == material_ids


def test_pinyin_keys_are_stored(catalog):
    item = Item.objects.get(name="内地居民结婚登记")
    assert "jhdj" in item.name_initials
    assert "jiehundengji" in item.name_pinyin
    assert item.content_file == "content/items/minzheng-jiehun-dengji.yaml"


def test_changed_content_updates_rows_and_keeps_version_ids(nodes, tmp_path):
    content = write_items(tmp_path, VALID_ITEM)
    load_catalog(content)
    version = ItemVersion.objects.get(item_id="TEST-001")

    changed = broken(lambda i: _version(i).update(promised_limit={"value": 5, "unit": "工作日"}))
    _version(changed)["materials"] = _version(changed)["materials"][:1]
    changed["coverage"][0]["nodes"] = ["110000", "120000"]
    write_items(tmp_path, changed)
    counts = load_catalog(content)

    version.refresh_from_db()
    assert version.promised_limit == 5
    assert list(version.materials.values_list("code", flat=True)) == ["id_card"]
    assert set(Coverage.objects.filter(item_id="TEST-001").values_list("node_id", flat=True)) == {"110000", "120000"}
    assert counts["updated"] == 1 and counts["deleted"] == 1 and counts["created"] == 1


def test_removed_item_file_removes_the_item(nodes, tmp_path):
    other = broken(lambda i: i.update(code="TEST-002", name="另一事项"))
    content = write_items(tmp_path, VALID_ITEM, other)
    load_catalog(content)
    (content / "items" / "extra1.yaml").unlink()
    load_catalog(content)
    assert list(Item.objects.values_list("code", flat=True)) == ["TEST-001"]


def test_coverage_all_expands_to_every_active_node_with_default_handover(nodes, tmp_path):
    item = broken(lambda i: _version(i).update(modes=["proxy"], legs=[]))
    item["coverage"] = [
        {"nodes": "all", "modes": ["proxy"], "valid_from": "2021-01-01", "proxy_handover_days": {"mail": 3}}
    ]
    load_catalog(write_items(tmp_path, item))
    rows = Coverage.objects.filter(item_id="TEST-001")
    assert rows.count() == len(nodes) == 32
    assert rows.first().proxy_handover_days == {"push": 1, "mail": 3, "recheck": 1, "result_mail": 1}


BROKEN_CASES = [
    (
        "material form",
        lambda i: _version(i)["materials"][1].update(form="scan"),
        "content/items/x.yaml: versions[0].materials[1].form：取值必须是 original、copy、electronic 之一",
    ),
    ("missing name", lambda i: i.pop("name"), "content/items/x.yaml: name：缺少必填字段"),
    ("unknown field", lambda i: i.update(titel="x"), "content/items/x.yaml: titel：不认识的字段"),
    ("theme", lambda i: i.update(theme="旅游"), "content/items/x.yaml: theme：取值必须是 教育、就业"),
    (
        "department function",
        lambda i: i.update(department_function="police"),
        "content/items/x.yaml: department_function：取值必须是 gongan、minzheng",
    ),
    ("applicant type", lambda i: i.update(applicant_type="7"), "content/items/x.yaml: applicant_type：取值必须是 1、2"),
    (
        "bad date",
        lambda i: _version(i).update(valid_from="2021-13-01"),
        "content/items/x.yaml: versions[0].valid_from：必须是日期",
    ),
    (
        "limit unit",
        lambda i: _version(i)["legal_limit"].update(unit="周"),
        "content/items/x.yaml: versions[0].legal_limit.unit：取值必须是 1、2、3、4",
    ),
    (
        "duplicate material",
        lambda i: _version(i)["materials"][1].update(code="id_card"),
        "content/items/x.yaml: versions[0].materials[1].code：材料编码“id_card”重复",
    ),
    (
        "one leg",
        lambda i: _version(i).update(legs=_version(i)["legs"][:1]),
        "content/items/x.yaml: versions[0].legs：多地联办事项至少需要两个联办环节",
    ),
    (
        "legs without multi_place",
        lambda i: _version(i).update(modes=["online"]),
        "content/items/x.yaml: versions[0].legs：只有包含多地联办",
    ),
    (
        "overlapping versions",
        lambda i: i["versions"].append({**copy.deepcopy(_version(i)), "version": 2, "valid_from": "2022-01-01"}),
        "content/items/x.yaml: versions[1].valid_from：有效期 2022-01-01 至 长期 与 versions[0] 的 "
        "2021-01-01 至 长期 重叠",
    ),
    (
        "duplicate version number",
        lambda i: i["versions"].append(
            {**copy.deepcopy(_version(i)), "valid_from": "2019-01-01", "valid_until": "2020-01-01"}
        ),
        "content/items/x.yaml: versions[1].version：版本号 1 与 versions[0] 重复",
    ),
    (
        "coverage mode not in version",
        lambda i: i["coverage"][0].update(modes=["proxy"]),
        "content/items/x.yaml: coverage[0].modes：办理模式“异地代收代办”不在同期版本 versions[0] 的办理模式中",
    ),
    (
        "coverage before any version",
        lambda i: i["coverage"][0].update(valid_from="2019-01-01", valid_until="2020-01-01"),
        "content/items/x.yaml: coverage[0].valid_from：通办期间 2019-01-01 至 2020-01-01 内没有有效的事项版本",
    ),
    (
        "when names unknown field",
        lambda i: _version(i)["materials"][1].update(when={"kinds": "乙"}),
        "content/items/x.yaml: versions[0].materials[1].when.kinds：表单中没有字段“kinds”",
    ),
    (
        "when value not a choice",
        lambda i: _version(i)["materials"][1].update(when={"kind": "丙"}),
        "content/items/x.yaml: versions[0].materials[1].when.kind：“丙”不是字段“类别”的选项",
    ),
    (
        "choice without choices",
        lambda i: _version(i)["form_fields"][0].pop("choices"),
        "content/items/x.yaml: versions[0].form_fields[0].choices：选项类字段必须列出 choices",
    ),
    (
        "promised longer than legal",
        lambda i: _version(i)["promised_limit"].update(value=30),
        "content/items/x.yaml: versions[0].promised_limit.value：承诺时限 30 不能长于法定时限 20",
    ),
    (
        "unknown unverified field",
        lambda i: _version(i).update(unverified=["colour"]),
        "content/items/x.yaml: versions[0].unverified[0]：“colour”不是本节中的字段名",
    ),
    (
        "jurisdiction fact not in the form",
        lambda i: _version(i)["form_fields"].pop(1),
        "content/items/x.yaml: versions[0].form_fields：管辖规则或联办环节需要表单中有 region 类型的字段"
        "“destination_region”",
    ),
    (
        "origin leg needs origin_region",
        lambda i: _version(i)["form_fields"].pop(2),
        "content/items/x.yaml: versions[0].form_fields：管辖规则或联办环节需要表单中有 region 类型的字段"
        "“origin_region”",
    ),
    (
        "establishment kind without an establishment",
        lambda i: _version(i).update(establishment_kind="branch"),
        "content/items/x.yaml: versions[0].establishment_kind：只有设立登记事项（establishes_enterprise: true）才能写",
    ),
    (
        "unknown establishment kind",
        lambda i: _version(i).update(establishes_enterprise=True, establishment_kind="trust"),
        "content/items/x.yaml: versions[0].establishment_kind：",
    ),
    (
        "a branch applied for by a person",
        lambda i: _version(i).update(establishes_enterprise=True, establishment_kind="branch"),
        "content/items/x.yaml: versions[0].establishment_kind：分支机构设立登记由隶属企业申请，申请人类型不能是自然人",
    ),
    (
        "a branch without its own name",
        lambda i: (
            i.update(applicant_type="企业法人"),
            _version(i).update(establishes_enterprise=True, establishment_kind="branch"),
        ),
        "content/items/x.yaml: versions[0].form_fields：分支机构设立登记须有 binds 为 established_name 的字段",
    ),
    (
        "an established name outside an establishment",
        lambda i: _version(i)["form_fields"][0].update(type="text", choices=[], binds="established_name"),
        "content/items/x.yaml: versions[0].form_fields：只有设立登记事项才能有 binds 为 established_name 的字段",
    ),
    (
        "a licence without its type",
        lambda i: _version(i).update(result_type="食品经营许可证"),
        "content/items/x.yaml: versions[0].result_licence：办理结果“食品经营许可证”是证照，须以 result_licence 写明",
    ),
    (
        "unknown node",
        lambda i: i["coverage"][0].update(nodes=["990000"]),
        "content/items/x.yaml: coverage[0].nodes：节点 990000 不存在或未启用",
    ),
    (
        "badly written node",
        lambda i: i["coverage"][0].update(nodes=[110000]),
        "content/items/x.yaml: coverage[0].nodes[0]：节点编码必须是 000000 或省级区划代码",
    ),
]


@pytest.mark.parametrize(("change", "expected"), [c[1:] for c in BROKEN_CASES], ids=[c[0] for c in BROKEN_CASES])
def test_broken_content_is_refused_with_a_chinese_error(nodes, tmp_path, change, expected):
    content = write_items(tmp_path, broken(change))
    with pytest.raises(ContentError) as raised:
        load_catalog(content)
    assert any(expected in error for error in raised.value.errors), raised.value.errors
    assert not Item.objects.exists()


def test_duplicate_codes_across_files_are_refused(nodes, tmp_path):
    content = write_items(tmp_path, VALID_ITEM, copy.deepcopy(VALID_ITEM))
    with pytest.raises(ContentError) as raised:
        load_catalog(content)
    assert raised.value.errors == ["content/items/x.yaml: code：事项编码“TEST-001”与 content/items/extra1.yaml 重复"]


def test_yaml_syntax_error_names_the_file_and_line(nodes, tmp_path):
    content = write_items(tmp_path, VALID_ITEM)
    (content / "items" / "x.yaml").write_text("code: [unclosed\nname: 测试\n", encoding="utf-8")
    with pytest.raises(ContentError, match=r"content/items/x.yaml：YAML 格式错误：第 \d+ 行"):
        load_catalog(content)


def test_an_impossible_unquoted_date_names_its_field(nodes, tmp_path):
    content = write_items(tmp_path, VALID_ITEM)
    path = content / "items" / "x.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("'2021-01-01'", "2021-13-01", 1), encoding="utf-8")
    with pytest.raises(ContentError) as raised:
        load_catalog(content)
    assert "content/items/x.yaml: coverage[0].valid_from：必须是日期，格式 YYYY-MM-DD" in raised.value.errors


def test_a_broken_file_leaves_existing_rows_untouched(nodes, tmp_path):
    content = write_items(tmp_path, VALID_ITEM)
    load_catalog(content)
    write_items(tmp_path, broken(lambda i: i.update(theme="旅游", name="改名")))
    with pytest.raises(ContentError):
        load_catalog(content)
    assert Item.objects.get(code="TEST-001").name == "测试事项"


def test_load_content_command_reports_counts(nodes, tmp_path, monkeypatch):
    from tongban.catalog.management.commands import load_content

    calls: list[str] = []

    def fake(name: str):
        def loader(content_dir: Path) -> dict[str, int]:
            calls.append(name)
            return {"rows": 1}

        return loader

    real = load_content._loader
    monkeypatch.setattr(
        load_content,
        "_loader",
        lambda module, name: real(module, name) if name == "load_catalog" else fake(name),
    )
    content = write_items(tmp_path, VALID_ITEM)
    buffer = io.StringIO()
    call_command("load_content", content_dir=content, stdout=buffer)
    out = buffer.getvalue()
    assert calls == ["load_regions", "seed_holidays", "load_licence_types"]
    assert "事项目录：文件 1，事项 1" in out
    assert Item.objects.filter(code="TEST-001").exists()
