"""Worktime fixtures: a fresh in-process table per database test, seeded years and a 2027 file writer."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from tongban.worktime import calendar
from tongban.worktime.calendar import WorkCalendar, calendar_changed
from tongban.worktime.loader import seed_from_chinese_calendar
from tongban.worktime.schedule import package_schedule, package_years


@pytest.fixture
def table(db: None) -> Iterator[None]:
    """The database-backed table, never a cached copy from an earlier (rolled back) test."""
    calendar.invalidate()
    yield
    calendar.invalidate()


@pytest.fixture
def seeded(table: None) -> list[int]:
    """2024–2026 from chinese-calendar: enough for every 2025 fact and for deadlines into 2027."""
    return seed_from_chinese_calendar([2024, 2025, 2026])


@pytest.fixture(scope="session")
def package_calendar() -> WorkCalendar:
    """The whole package as a plain calendar, for property tests that need no database."""
    schedules = [s for s in map(package_schedule, package_years()) if s is not None]
    special = {day: info.is_working_day for s in schedules for day, info in s.days.items()}
    return WorkCalendar(special, [s.year for s in schedules])


@pytest.fixture
def announcements() -> Iterator[list[list[int]]]:
    """Every `calendar_changed` sent during the test, as its list of years."""
    received: list[list[int]] = []

    def record(sender: Any, years: list[int], **kwargs: Any) -> None:
        received.append(years)

    calendar_changed.connect(record, dispatch_uid="tests.worktime.record")
    yield received
    calendar_changed.disconnect(dispatch_uid="tests.worktime.record")


@pytest.fixture
def fictional_2027() -> dict[str, Any]:
    """A made-up 2027 for tests only: no official 2027 schedule exists, and none is shipped."""
    return {
        "year": 2027,
        "source": "测试用虚构安排（并非国务院办公厅通知）",
        "holidays": [{"name": "元旦", "from": dt.date(2027, 1, 1), "to": dt.date(2027, 1, 3)}],
        "workdays": [{"date": dt.date(2027, 1, 9), "name": "元旦"}],
    }


@pytest.fixture
def write_year(tmp_path: Path) -> Callable[[dict[str, Any]], Path]:
    """Write a year file into tmp_path/holidays and return the content root."""

    def write(data: dict[str, Any]) -> Path:
        folder = tmp_path / "holidays"
        folder.mkdir(exist_ok=True)
        (folder / f"{data['year']}.yaml").write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
        return tmp_path

    return write
