"""Licence types as content: checked whole at load, linked both ways to the items that issue them and
the materials they stand for."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest
import yaml

from tongban.catalog.loader import ContentError, load_catalog
from tongban.licences.issuing import validity
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
        (lambda t: t[0].update(validity={"kind": "months"}), "须写明 months"),
        (lambda t: t[0].update(validity={"kind": "open", "years_when": {"field": "minor", "years": 5}}), "years_when"),
        (lambda t: t[0].update(validity={"kind": "months", "months": 3, "years": 1}), "只有 kind 为 years"),
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


def test_an_item_whose_form_cannot_fill_a_required_face_field_is_refused(tmp_path):
    types = real_types()
    marriage = next(t for t in types if t["code"] == "jiehunzheng")
    marriage["extensions"].append({"name": "KZ_DJJG", "label": "登记机关", "source": ["form.registry_office"]})
    with pytest.raises(ContentError) as caught:
        load_catalog(copy_content(tmp_path, types))
    assert any(
        "minzheng-jiehun-dengji.yaml" in e and "扩展字段 KZ_DJJG（登记机关）为必填" in e and "form.registry_office" in e
        for e in caught.value.errors
    ), caught.value.errors


def test_a_validity_that_depends_on_a_field_the_form_lacks_is_refused(tmp_path):
    types = real_types()
    passport = next(t for t in types if t["code"] == "putong_huzhao")
    passport["validity"]["years_when"]["field"] = "under_sixteen"
    with pytest.raises(ContentError) as caught:
        load_catalog(copy_content(tmp_path, types))
    assert any("有效期取决于字段“under_sixteen”" in e for e in caught.value.errors), caught.value.errors


@pytest.mark.parametrize(
    ("code", "issued_on", "values", "last_day"),
    [
        # 护照法第五条: five years under sixteen, ten from sixteen on.
        ("putong_huzhao", dt.date(2025, 6, 9), {"form.minor": "是"}, dt.date(2030, 6, 8)),
        ("putong_huzhao", dt.date(2025, 6, 9), {"form.minor": "否"}, dt.date(2035, 6, 8)),
        # 临时居民身份证: three months; where the last month has no such day, it ends on that month's last.
        ("linshi_jumin_shenfenzheng", dt.date(2025, 5, 31), {}, dt.date(2025, 8, 30)),
        ("linshi_jumin_shenfenzheng", dt.date(2025, 11, 30), {}, dt.date(2026, 2, 28)),
        ("linshi_jumin_shenfenzheng", dt.date(2025, 3, 1), {}, dt.date(2025, 5, 31)),
        ("jumin_hukoubu", dt.date(2025, 6, 9), {}, None),
    ],
)
def test_validity_follows_the_types_rule(code, issued_on, values, last_day):
    assert validity(LicenceType.objects.get(code=code), issued_on, values) == last_day


def test_a_years_rule_from_29_february_ends_on_the_last_day_of_february():
    passport = LicenceType.objects.get(code="putong_huzhao")
    assert validity(passport, dt.date(2024, 2, 29), {"form.minor": "否"}) == dt.date(2034, 2, 28)
