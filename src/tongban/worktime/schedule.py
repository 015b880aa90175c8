"""A year's holiday schedule as data: parsed from YAML, from the admin form or from chinese-calendar.

Only exceptions to the Monday–Friday pattern are kept: weekday holidays (with their names) and
weekend make-up workdays (调休上班). Weekend days inside a holiday span are rest days anyway.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from typing import Any, NamedTuple

# The longest official holiday span so far is 9 days; anything much longer is a typing mistake.
MAX_SPAN_DAYS = 31
WEEKDAY_NAMES = ("周一", "周二", "周三", "周四", "周五", "周六", "周日")


class ScheduleError(ValueError):
    """A schedule that cannot be loaded; the message is shown to administrators as is."""


class DayInfo(NamedTuple):
    is_working_day: bool
    name: str


@dataclass(frozen=True)
class HolidaySpan:
    name: str
    start: dt.date
    end: dt.date


@dataclass(frozen=True)
class YearSchedule:
    """The exceptions one State Council notice makes for `year`."""

    year: int
    source: str
    days: Mapping[dt.date, DayInfo]


def is_weekend(day: dt.date) -> bool:
    return day.weekday() >= 5


def in_window(year: int, day: dt.date) -> bool:
    """A notice for `year` may also set days late in the previous December (e.g. the 2012 and 2018 notices)."""
    return day.year == year or (day.year == year - 1 and day.month == 12)


def build_schedule(
    year: int, source: str, holidays: Iterable[HolidaySpan], workdays: Iterable[tuple[dt.date, str]]
) -> YearSchedule:
    """Validate the notice's spans and make-up days and keep only the exceptions to Monday–Friday."""
    if not 1949 <= year <= 2200:
        raise ScheduleError(f"年份 {year} 不合理。")
    if not source.strip():
        raise ScheduleError("请填写来源（国务院办公厅通知的名称和文号）。")
    days: dict[dt.date, DayInfo] = {}
    rest_days: set[dt.date] = set()  # every day inside a span, weekends included
    for span in holidays:
        _add_span(year, span, days, rest_days)
    for day, name in workdays:
        _add_workday(year, day, name, days, rest_days)
    return YearSchedule(year=year, source=source.strip(), days=dict(sorted(days.items())))


def _add_span(year: int, span: HolidaySpan, days: dict[dt.date, DayInfo], rest_days: set[dt.date]) -> None:
    name = span.name.strip()
    if not name:
        raise ScheduleError(f"{span.start} 起的放假安排缺少名称。")
    if span.end < span.start:
        raise ScheduleError(f"{name}：结束日期 {span.end} 早于开始日期 {span.start}。")
    if (span.end - span.start).days >= MAX_SPAN_DAYS:
        raise ScheduleError(f"{name}：放假 {span.start} 至 {span.end} 超过 {MAX_SPAN_DAYS} 天，请核对。")
    for offset in range((span.end - span.start).days + 1):
        day = span.start + dt.timedelta(days=offset)
        _check_window(year, day)
        if day in rest_days:
            raise ScheduleError(f"{day} 在放假安排中重复出现。")
        rest_days.add(day)
        if not is_weekend(day):
            days[day] = DayInfo(False, name)


def _add_workday(year: int, day: dt.date, name: str, days: dict[dt.date, DayInfo], rest_days: set[dt.date]) -> None:
    _check_window(year, day)
    if not is_weekend(day):
        raise ScheduleError(f"{day}（{WEEKDAY_NAMES[day.weekday()]}）本来就是工作日，不必登记为调休上班日。")
    if day in rest_days:
        raise ScheduleError(f"{day} 同时出现在放假安排和调休上班日中。")
    if day in days:
        raise ScheduleError(f"调休上班日 {day} 重复出现。")
    days[day] = DayInfo(True, name.strip())


def _check_window(year: int, day: dt.date) -> None:
    if not in_window(year, day):
        raise ScheduleError(f"{day} 不属于 {year} 年的安排（只允许 {year} 年内或上一年 12 月的日期）。")


# --- YAML (content/holidays/<year>.yaml) -----------------------------------------------------------


def schedule_from_mapping(data: Any, *, expected_year: int | None = None) -> YearSchedule:
    """Read the YAML structure: year, source, holidays: [{name, from, to}], workdays: [date | {date, name}]."""
    if not isinstance(data, Mapping):
        raise ScheduleError("文件内容应为一个映射（year、source、holidays、workdays）。")
    unknown = set(data) - {"year", "source", "holidays", "workdays"}
    if unknown:
        raise ScheduleError(f"未知的字段：{'、'.join(sorted(map(str, unknown)))}。")
    year = data.get("year")
    if not isinstance(year, int) or isinstance(year, bool):
        raise ScheduleError("year 应为整数年份。")
    if expected_year is not None and year != expected_year:
        raise ScheduleError(f"文件名表示 {expected_year} 年，但 year 写的是 {year}。")
    source = data.get("source")
    if not isinstance(source, str):
        raise ScheduleError("source 应为通知的名称和文号。")
    holidays = [_span_from_mapping(item) for item in _as_list(data.get("holidays"), "holidays")]
    workdays = [_workday_from_item(item) for item in _as_list(data.get("workdays"), "workdays")]
    return build_schedule(year, source, holidays, workdays)


def _as_list(value: Any, field: str) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise ScheduleError(f"{field} 应为列表。")
    return value


def _span_from_mapping(item: Any) -> HolidaySpan:
    if not isinstance(item, Mapping) or set(item) - {"name", "from", "to"} or "from" not in item:
        raise ScheduleError(f"放假安排每项应为 {{name, from, to}}：{item!r}")
    start = parse_date(item["from"])
    end = parse_date(item.get("to", item["from"]))
    return HolidaySpan(name=str(item.get("name", "")), start=start, end=end)


def _workday_from_item(item: Any) -> tuple[dt.date, str]:
    if isinstance(item, Mapping):
        if set(item) - {"date", "name"} or "date" not in item:
            raise ScheduleError(f"调休上班日应为日期或 {{date, name}}：{item!r}")
        return parse_date(item["date"]), str(item.get("name", ""))
    return parse_date(item), ""


def parse_date(value: Any) -> dt.date:
    if isinstance(value, dt.datetime):
        raise ScheduleError(f"{value} 应为日期，不带时间。")
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value).strip())
    except ValueError:
        raise ScheduleError(f"无法识别的日期：{value!r}（应为 2027-01-01 的形式）。") from None


# --- The admin form's text fields -----------------------------------------------------------------

_RANGE_MARKS = re.compile(r"[至~～—－]|--")


def parse_holiday_lines(text: str) -> list[HolidaySpan]:
    """One span a line: `名称 开始日期 [结束日期]`, e.g. `春节 2027-02-06 2027-02-13`."""
    spans = []
    for number, line in _lines(text):
        parts = _RANGE_MARKS.sub(" ", line).split()
        if len(parts) not in (2, 3):
            raise ScheduleError(f"放假安排第 {number} 行应为“名称 开始日期 结束日期”：{line}")
        start = parse_date(parts[1])
        end = parse_date(parts[2]) if len(parts) == 3 else start
        spans.append(HolidaySpan(name=parts[0], start=start, end=end))
    return spans


def parse_workday_lines(text: str) -> list[tuple[dt.date, str]]:
    """One make-up workday a line: `日期 [所属节日]`, e.g. `2027-02-20 春节`."""
    workdays = []
    for number, line in _lines(text):
        parts = line.split(maxsplit=1)
        if not parts:
            continue
        try:
            day = parse_date(parts[0])
        except ScheduleError as error:
            raise ScheduleError(f"调休上班日第 {number} 行：{error}") from None
        workdays.append((day, parts[1] if len(parts) > 1 else ""))
    return workdays


def _lines(text: str) -> Iterable[tuple[int, str]]:
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.split("#", 1)[0].strip()
        if line:
            yield number, line


def format_holiday_lines(days: Mapping[dt.date, DayInfo]) -> str:
    """Stored weekday holidays back as spans; a span continues over a weekend with no other exception."""
    spans: list[list[Any]] = []
    for day, info in sorted(days.items()):
        if info.is_working_day:
            continue
        if spans and spans[-1][0] == info.name and _only_weekend_between(spans[-1][2], day, days):
            spans[-1][2] = day
        else:
            spans.append([info.name, day, day])
    return "\n".join(f"{name} {start} {end}" for name, start, end in spans)


def _only_weekend_between(last: dt.date, day: dt.date, days: Mapping[dt.date, DayInfo]) -> bool:
    gap = (last + dt.timedelta(days=n) for n in range(1, (day - last).days))
    return all(is_weekend(d) and d not in days for d in gap)


def format_workday_lines(days: Mapping[dt.date, DayInfo]) -> str:
    return "\n".join(f"{day} {info.name}".strip() for day, info in sorted(days.items()) if info.is_working_day)


# --- The chinese-calendar package -----------------------------------------------------------------


def package_version() -> str:
    try:
        return version("chinese-calendar")
    except PackageNotFoundError:
        return "?"


def package_schedule(year: int) -> YearSchedule | None:
    """The package's data for `year`, or None when the package does not cover it (it raises NotImplementedError)."""
    import chinese_calendar
    from chinese_calendar.constants import Holiday

    try:
        chinese_calendar.is_workday(dt.date(year, 1, 1))
    except NotImplementedError:
        return None
    days: dict[dt.date, DayInfo] = {}
    for day, english in chinese_calendar.holidays.items():
        if day.year == year and not is_weekend(day):
            days[day] = DayInfo(False, Holiday(english).chinese)
    for day, english in chinese_calendar.workdays.items():
        if day.year == year and is_weekend(day):
            days[day] = DayInfo(True, Holiday(english).chinese)
    source = f"chinese-calendar {package_version()}（据国务院办公厅当年部分节假日安排的通知）"
    return YearSchedule(year=year, source=source, days=dict(sorted(days.items())))


def package_years() -> list[int]:
    """The years the installed chinese-calendar package covers."""
    import chinese_calendar

    years = [day.year for day in chinese_calendar.holidays]
    return list(range(min(years), max(years) + 1))
