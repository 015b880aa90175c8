"""Licence types as content: checked whole at load, linked both ways to the items that issue them and
the materials they stand for."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from tongban.catalog.loader import ContentError, load_catalog
from tongban.licences.loader import load_licence_types, read_types
from tongban.licences.models import LicenceType

CONTENT = Path(__file__).resolve().parents[2] / "content"


def types_dir(tmp_path: Path, types: list[dict]) -> Path:
    folder = tmp_path / "content" / "licences"
    folder.mkdir(parents=True)
    (folder / "types.yaml").write_text(yaml.safe_dump({"types": types}, allow_unicode=True), encoding="utf-8")
    return tmp_path / "content"


def real_types() -> list[dict]:
    return yaml.safe_load((CONTENT / "licences" / "types.yaml").read_text(encoding="utf-8"))["types"]


def test_the_content_loads_and_every_issued_type_names_its_items():
    spec = read_types(CONTENT)
    issued = {t.code: t.produced_by for t in spec.types if t.produced_by}
    assert {"yingye_zhizhao", "jiehunzheng", "lihunzheng", "cehui_zizhi", "shipin_jingying_xuke"} <= set(issued)
    assert "TB-minzheng-001" in issued["jiehunzheng"]
    assert LicenceType.objects.get(code="jiehunzheng").holder_kind == "parties"


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda t: t.append(dict(t[0])), "重复"),
        (lambda t: t[0]["extensions"].append({"name": "MC", "label": "名称", "source": ["form.x"]}), "KZ_"),
        (lambda t: t[0].update(type_code="123"), "证照类型代码"),
        (lambda t: t[0].update(holder="everyone"), "holder"),
        (lambda t: t[0].update(validity={"kind": "years"}), "years"),
        (lambda t: t[0]["extensions"].append({"name": "KZ_X", "label": "X", "source": ["case.x"]}), "form."),
    ],
)
def test_broken_types_are_refused_and_nothing_is_written(tmp_path, change, expected):
    types = real_types()
    change(types)
    before = list(LicenceType.objects.values_list("code", "name"))
    with pytest.raises(ContentError) as caught:
        load_licence_types(types_dir(tmp_path, types))
    assert any(expected in error for error in caught.value.errors), caught.value.errors
    assert list(LicenceType.objects.values_list("code", "name")) == before


def copy_content(tmp_path: Path, types: list[dict]) -> Path:
    target = tmp_path / "content"
    shutil.copytree(CONTENT, target)
    (target / "licences" / "types.yaml").write_text(
        yaml.safe_dump({"types": types}, allow_unicode=True), encoding="utf-8"
    )
    return target


def test_an_item_issuing_a_type_its_produced_by_omits_is_refused(tmp_path):
    types = real_types()
    marriage = next(t for t in types if t["code"] == "jiehunzheng")
    marriage["produced_by"] = ["TB-minzheng-003"]
    with pytest.raises(ContentError) as caught:
        load_catalog(copy_content(tmp_path, types))
    assert any(
        "jiehunzheng.produced_by：缺少以 result_licence 指向它的事项 TB-minzheng-001" in e for e in caught.value.errors
    )


def test_a_material_naming_an_unknown_type_is_refused(tmp_path):
    types = [t for t in real_types() if t["code"] != "juzhuzheng"]
    with pytest.raises(ContentError) as caught:
        load_catalog(copy_content(tmp_path, types))
    assert any("证照类型 juzhuzheng 不存在" in e for e in caught.value.errors)
