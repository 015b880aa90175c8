"""Seeding from chinese-calendar and content/holidays, idempotence, a year added as a file, and change notices."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from django.conf import settings

from tongban.worktime import calendar, loader
from tongban.worktime.calendar import Due, WorkCalendar
from tongban.worktime.loader import (
    load_holiday_files,
    load_years,
    read_holiday_file,
    seed_from_chinese_calendar,
    seed_holidays,
)
from tongban.worktime.models import CalendarYear, SpecialDay
from tongban.worktime.schedule import ScheduleError, package_schedule

D = dt.date
WriteYear = Callable[[dict[str, Any]], Path]


def test_package_years_outside_its_range_are_skipped(table: None) -> None:
    assert seed_from_chinese_calendar([2025, 2027]) == [2025]
    assert list(CalendarYear.objects.values_list("year", flat=True)) == [2025]
    assert "chinese-calendar 1.11.0" in CalendarYear.objects.get(year=2025).source


def test_seeding_is_idempotent(table: None, django_capture_on_commit_callbacks, announcements) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        seed_from_chinese_calendar([2025, 2026])
    first = list(SpecialDay.objects.values_list("date", "is_working_day", "name"))
    loaded_at = CalendarYear.objects.get(year=2025).loaded_at
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        assert seed_from_chinese_calendar([2025, 2026]) == [2025, 2026]
    assert callbacks == []  # nothing changed, nothing announced
    assert list(SpecialDay.objects.values_list("date", "is_working_day", "name")) == first
    assert CalendarYear.objects.get(year=2025).loaded_at == loaded_at
    assert announcements == [[2025, 2026]]


def test_reseeding_repairs_edited_rows(table: None) -> None:
    seed_from_chinese_calendar([2025])
    SpecialDay.objects.filter(date=D(2025, 9, 28)).delete()
    SpecialDay.objects.create(date=D(2025, 3, 3), is_working_day=False, name="误录")
    seed_from_chinese_calendar([2025])
    assert SpecialDay.objects.filter(date=D(2025, 9, 28), is_working_day=True).exists()
    assert not SpecialDay.objects.filter(date=D(2025, 3, 3)).exists()


def test_whole_package_round_trips_through_the_database(table: None, package_calendar: WorkCalendar) -> None:
    assert seed_from_chinese_calendar() == list(range(2004, 2027))
    stored = WorkCalendar.from_db()
    assert stored.known_years == package_calendar.known_years
    day = D(2004, 1, 1)
    while day <= D(2026, 12, 31):
        assert stored.is_working_day(day) == package_calendar.is_working_day(day), day
        day += dt.timedelta(days=1)


def test_shipped_files_are_valid_and_agree_with_the_package() -> None:
    files = loader.holiday_files(settings.CONTENT_DIR)
    assert 2025 in files
    for year, path in files.items():
        schedule = read_holiday_file(path)
        assert schedule.source.startswith("国务院办公厅")
        from_package = package_schedule(year)
        if from_package is not None:
            assert {d: i.is_working_day for d, i in schedule.days.items()} == {
                d: i.is_working_day for d, i in from_package.days.items()
            }


def test_deadline_into_an_unloaded_year_is_provisional_until_the_year_is_loaded(
    seeded: list[int],
    write_year: WriteYear,
    fictional_2027: dict[str, Any],
    django_capture_on_commit_callbacks,
    announcements: list[list[int]],
) -> None:
    # Monday 2026-12-28 + 5 working days, 2027 counted on weekends only: 12/29, 12/30, 12/31, 1/1, 1/4.
    assert calendar.add_working_days(D(2026, 12, 28), 5) == Due(D(2027, 1, 4), provisional=True)
    assert calendar.deadline(D(2026, 12, 28), 5, "1") == Due(D(2027, 1, 4), provisional=True)
    assert calendar.add_working_days(D(2026, 12, 28), 3) == Due(D(2026, 12, 31), provisional=False)
    assert not calendar.is_known(D(2027, 1, 1))

    content = write_year(fictional_2027)
    with django_capture_on_commit_callbacks(execute=True):
        assert load_holiday_files(content) == [2027]

    assert announcements == [[2027]]
    assert calendar.is_known(D(2027, 1, 1))
    # 1/1 is now a holiday, Saturday 1/9 a make-up workday.
    assert calendar.deadline(D(2026, 12, 28), 5, "1") == Due(D(2027, 1, 5), provisional=False)
    assert calendar.add_working_days(D(2027, 1, 8), 1) == Due(D(2027, 1, 9))


def test_a_file_wins_over_the_package(table: None, write_year: WriteYear) -> None:
    content = write_year(
        {
            "year": 2025,
            "source": "国务院办公厅测试通知",
            "holidays": [{"name": "元旦", "from": "2025-01-01", "to": "2025-01-01"}],
            "workdays": ["2025-01-04"],
        }
    )
    assert seed_holidays(content) == {"years": 23, "files": 1, "updated": 23}
    assert seed_holidays(content) == {"years": 23, "files": 1, "updated": 0}
    report = load_years([2025, 2026], content)
    assert (report["files"], report["package"]) == ([2025], [2026])
    assert CalendarYear.objects.get(year=2025).source == "国务院办公厅测试通知"
    assert SpecialDay.objects.filter(date__year=2025).count() == 2
    assert calendar.is_working_day(D(2025, 1, 28))  # the test file has no 春节


def test_load_years_reports_years_without_any_source(table: None, tmp_path: Path, fixed_clock) -> None:
    report = load_years([2025, 2027], tmp_path)
    assert report["package"] == [2025]
    assert report["missing"] == [2027]
    assert report["upcoming_unloaded"] == [2026]  # the clock says 2025
    assert not CalendarYear.objects.filter(year=2027).exists()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"workdays": ["2027-01-04"]}, "本来就是工作日"),
        ({"year": 2026}, "文件名表示 2027 年"),
        ({"source": "  "}, "请填写来源"),
        ({"holidays": [{"name": "元旦", "from": "2027-01-03", "to": "2027-01-01"}]}, "早于开始日期"),
        ({"holidays": [{"name": "元旦", "from": "2028-01-01"}]}, "不属于 2027 年"),
        ({"holidays": [{"name": "元旦", "from": "2027-13-01"}]}, "无法识别的日期"),
        ({"workdays": ["2027-01-02"]}, "同时出现在放假安排"),  # a weekend inside the 元旦 span
        ({"extra": 1}, "未知的字段"),
    ],
)
def test_bad_files_are_rejected_and_nothing_is_written(
    table: None, write_year: WriteYear, fictional_2027: dict[str, Any], change: dict[str, Any], message: str
) -> None:
    write_year({**fictional_2027, "year": 2028, "source": "另一份测试安排", "holidays": [], "workdays": []})
    path = write_year(fictional_2027) / "holidays" / "2027.yaml"
    path.write_text(yaml.safe_dump({**fictional_2027, **change}, allow_unicode=True), encoding="utf-8")
    with pytest.raises(ScheduleError, match=message):
        load_holiday_files(path.parent.parent)
    assert not CalendarYear.objects.exists()


def test_previous_december_may_belong_to_a_notice(table: None, write_year: WriteYear) -> None:
    # The 2012 notice had Saturday 2011-12-31 worked for 元旦.
    content = write_year(
        {
            "year": 2012,
            "source": "国务院办公厅关于2012年部分节假日安排的通知",
            "holidays": [{"name": "元旦", "from": "2012-01-01", "to": "2012-01-03"}],
            "workdays": ["2011-12-31"],
        }
    )
    load_holiday_files(content)
    assert SpecialDay.objects.get(date=D(2011, 12, 31)).is_working_day


def test_holidays_folder_may_be_given_directly(write_year: WriteYear, fictional_2027: dict[str, Any]) -> None:
    content = write_year(fictional_2027)
    assert loader.holiday_files(content) == loader.holiday_files(content / "holidays")
