"""Filling the holiday table from content/holidays/<year>.yaml and the chinese-calendar package.

A year's file wins over the package, so a year can be added (or corrected) as a file before the
package has it. Loading is idempotent: a year whose rows already match is left untouched and
announces nothing.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path
from typing import TypedDict

import yaml
from django.db import transaction
from django.db.models import Q

from tongban import clock
from tongban.worktime.calendar import notify_changed
from tongban.worktime.models import CalendarYear, SpecialDay
from tongban.worktime.schedule import (
    DayInfo,
    ScheduleError,
    YearSchedule,
    package_schedule,
    package_years,
    schedule_from_mapping,
)
from tongban.worktime.signals import row_signals_suppressed

_YEAR_FILE = re.compile(r"\d{4}")


class LoadReport(TypedDict):
    files: list[int]  # years taken from content/holidays
    package: list[int]  # years taken from chinese-calendar
    missing: list[int]  # years asked for that neither source has
    changed: list[int]  # years whose rows were written (the rest already matched)
    upcoming_unloaded: list[int]  # this year or next year still without an official schedule


# --- Files ---------------------------------------------------------------------------------------


def holidays_dir(content_dir: Path) -> Path:
    """Accept the content root (containing holidays/) or the holidays folder itself."""
    nested = Path(content_dir) / "holidays"
    return nested if nested.is_dir() else Path(content_dir)


def holiday_files(content_dir: Path) -> dict[int, Path]:
    folder = holidays_dir(content_dir)
    if not folder.is_dir():
        return {}
    return {int(path.stem): path for path in sorted(folder.glob("*.yaml")) if _YEAR_FILE.fullmatch(path.stem)}


def read_holiday_file(path: Path) -> YearSchedule:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        return schedule_from_mapping(data, expected_year=int(path.stem))
    except yaml.YAMLError as error:
        raise ScheduleError(f"{path.name}：YAML 格式错误：{error}") from None
    except ScheduleError as error:
        raise ScheduleError(f"{path.name}：{error}") from None


def file_schedules(content_dir: Path) -> dict[int, YearSchedule]:
    """Every year file, all validated before anything is written."""
    return {year: read_holiday_file(path) for year, path in holiday_files(content_dir).items()}


# --- Writing -------------------------------------------------------------------------------------


def apply_schedules(schedules: Iterable[YearSchedule]) -> list[int]:
    """Make the table match each schedule in one transaction; return the years that changed."""
    changed: list[int] = []
    with transaction.atomic(), row_signals_suppressed():
        for schedule in schedules:
            if _apply(schedule):
                changed.append(schedule.year)
    if changed:
        notify_changed(changed)
    return changed


def _apply(schedule: YearSchedule) -> bool:
    rows = SpecialDay.objects.filter(Q(date__year=schedule.year) | Q(date__in=list(schedule.days)))
    existing = {row.date: DayInfo(row.is_working_day, row.name) for row in rows}
    stale = [day for day in existing if day not in schedule.days and day.year == schedule.year]
    fresh = {day: info for day, info in schedule.days.items() if existing.get(day) != info}
    year_row = CalendarYear.objects.filter(year=schedule.year).first()
    if year_row and year_row.source == schedule.source and not stale and not fresh:
        return False
    SpecialDay.objects.filter(date__in=stale).delete()
    SpecialDay.objects.bulk_create(
        [SpecialDay(date=day, is_working_day=info.is_working_day, name=info.name) for day, info in fresh.items()],
        update_conflicts=True,
        unique_fields=["date"],
        update_fields=["is_working_day", "name"],
    )
    CalendarYear.objects.update_or_create(
        year=schedule.year, defaults={"source": schedule.source, "loaded_at": clock.now()}
    )
    return True


# --- Entry points --------------------------------------------------------------------------------


def seed_from_chinese_calendar(years: Iterable[int] | None = None) -> list[int]:
    """Load `years` (default: all the package covers) from chinese-calendar; return the years it covered."""
    wanted = package_years() if years is None else sorted(set(years))
    schedules = [s for s in map(package_schedule, wanted) if s is not None]
    apply_schedules(schedules)
    return [s.year for s in schedules]


def load_holiday_files(content_dir: Path) -> list[int]:
    """Load every content/holidays/<year>.yaml; a bad file raises ScheduleError and nothing is written."""
    schedules = file_schedules(content_dir)
    apply_schedules(schedules.values())
    return sorted(schedules)


def load_years(years: Iterable[int], content_dir: Path) -> LoadReport:
    """Load each year from its file, else from the package; report the years neither has."""
    files = file_schedules(content_dir)
    report = LoadReport(files=[], package=[], missing=[], changed=[], upcoming_unloaded=[])
    schedules: list[YearSchedule] = []
    for year in sorted(set(years)):
        schedule = files.get(year) or package_schedule(year)
        if schedule is None:
            report["missing"].append(year)
            continue
        report["files" if year in files else "package"].append(year)
        schedules.append(schedule)
    report["changed"] = apply_schedules(schedules)
    report["upcoming_unloaded"] = upcoming_unloaded()
    return report


def available_years(content_dir: Path) -> list[int]:
    """Every year a file or the package provides."""
    return sorted(set(holiday_files(content_dir)) | set(package_years()))


def seed_holidays(content_dir: Path) -> dict[str, int]:
    """Load everything available (each year's file, else the package); counts for `load_content`."""
    report = load_years(available_years(content_dir), content_dir)
    return {
        "years": len(report["files"]) + len(report["package"]),
        "files": len(report["files"]),
        "updated": len(report["changed"]),
    }


def upcoming_unloaded() -> list[int]:
    """This year and next year when their schedule is not loaded yet: deadlines into them are provisional."""
    this_year = clock.today().year
    loaded = set(CalendarYear.objects.filter(year__in=[this_year, this_year + 1]).values_list("year", flat=True))
    return [year for year in (this_year, this_year + 1) if year not in loaded]
