"""`tongban load_holidays`."""

from __future__ import annotations

from collections.abc import Callable
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from tongban.worktime.models import CalendarYear


def test_load_one_year(table: None, tmp_path: Path) -> None:
    out = StringIO()
    call_command("load_holidays", "--year", "2025", content_dir=tmp_path, stdout=out, stderr=StringIO())
    assert "来自 chinese-calendar 的年度：2025" in out.getvalue()
    assert list(CalendarYear.objects.values_list("year", flat=True)) == [2025]


def test_load_everything_prefers_files(
    table: None, write_year: Callable[[dict[str, Any]], Path], fictional_2027: dict[str, Any]
) -> None:
    out = StringIO()
    call_command("load_holidays", content_dir=write_year(fictional_2027), stdout=out, stderr=StringIO())
    assert "来自文件的年度：2027" in out.getvalue()
    assert CalendarYear.objects.count() == 24  # 2004–2026 and the file's 2027


def test_a_year_nobody_has_is_an_error(table: None, tmp_path: Path) -> None:
    with pytest.raises(CommandError, match="2027 年既没有"):
        call_command("load_holidays", "--year", "2027", content_dir=tmp_path, stdout=StringIO(), stderr=StringIO())


def test_a_bad_file_is_an_error(table: None, write_year: Callable[[dict[str, Any]], Path]) -> None:
    content = write_year({"year": 2027, "source": "测试", "workdays": ["2027-01-04"]})
    with pytest.raises(CommandError, match="未作任何修改"):
        call_command("load_holidays", content_dir=content, stdout=StringIO(), stderr=StringIO())
    assert not CalendarYear.objects.exists()
