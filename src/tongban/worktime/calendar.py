"""All working-day arithmetic: the holiday table, period counting and the deadline clock.

Counting convention (行政许可法 §82, 民法典 §201): the day of the starting event is not counted.
Day 1 of a working-day period is the first working day after `start`; the period ends at the end
of its n-th working day. Months and years end on the same day of the target month, or its last
day when that month is shorter; calendar days are added plainly.

A year missing from the table is counted on weekends only and every result that counted a day
in it is marked provisional, so the platform keeps working before the State Council publishes
the next schedule; `calendar_changed` tells the cases app to recompute once the year is loaded.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from bisect import bisect_right
from calendar import monthrange
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.dispatch import Signal

# Sent after commit when a year is loaded or special days change; receivers get `years: list[int]`.
calendar_changed = Signal()

# Limit units as in the national catalogue (catalog.LimitUnit).
WORKING_DAYS = "1"
MONTHS = "2"
YEARS = "3"
CALENDAR_DAYS = "4"
LIMIT_UNITS = {WORKING_DAYS: "工作日", MONTHS: "月", YEARS: "年", CALENDAR_DAYS: "自然日"}

# Other processes see a change at most this late; this process sees its own changes at once.
CACHE_SECONDS = 60.0

_ONE_DAY = dt.timedelta(days=1)


@dataclass(frozen=True)
class Due:
    """A computed date; provisional when it counted days of a year whose holidays are not loaded."""

    date: dt.date
    provisional: bool = False


def _is_weekend(day: dt.date) -> bool:
    return day.weekday() >= 5


def _weekdays_through(day: dt.date) -> int:
    """Mondays to Fridays from 0001-01-01 (a Monday) through `day`."""
    weeks, rest = divmod(day.toordinal(), 7)
    return weeks * 5 + min(rest, 5)


def add_months(day: dt.date, months: int) -> dt.date:
    """Same day `months` later; the month's last day when the target month is shorter (1-31 + 1 月 = 2-28)."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    return dt.date(year, month + 1, min(day.day, monthrange(year, month + 1)[1]))


class WorkCalendar:
    """An immutable snapshot of the holiday table; build one with `from_db()` or from plain data in tests."""

    __slots__ = ("_known", "_makeup", "_special", "_weekday_holidays")

    def __init__(self, special: Mapping[dt.date, bool], known_years: Iterable[int]) -> None:
        self._special = dict(special)
        self._known = frozenset(known_years)
        # Sorted exceptions let working_days_between count any range with four bisections.
        self._makeup = sorted(d for d, working in self._special.items() if working and _is_weekend(d))
        self._weekday_holidays = sorted(d for d, working in self._special.items() if not working and not _is_weekend(d))

    @classmethod
    def from_db(cls) -> WorkCalendar:
        from tongban.worktime.models import CalendarYear, SpecialDay

        special = dict(SpecialDay.objects.values_list("date", "is_working_day"))
        return cls(special, CalendarYear.objects.values_list("year", flat=True))

    @property
    def known_years(self) -> frozenset[int]:
        return self._known

    def is_working_day(self, day: dt.date) -> bool:
        return self._special.get(day, not _is_weekend(day))

    def is_known(self, day: dt.date) -> bool:
        """Whether the official schedule of `day`'s year is loaded."""
        return day.year in self._known

    def _counts_unknown(self, first: dt.date, last: dt.date) -> bool:
        return any(year not in self._known for year in range(first.year, last.year + 1))

    def add_working_days(self, start: dt.date, n: int) -> Due:
        """The n-th working day after `start` (start itself not counted); `start` when n == 0."""
        if n < 0:
            raise ValueError(f"工作日数不能为负：{n}")
        day, counted = start, 0
        while counted < n:
            day += _ONE_DAY
            counted += self.is_working_day(day)
        return Due(day, provisional=n > 0 and self._counts_unknown(start + _ONE_DAY, day))

    def working_days_between(self, start: dt.date, end: dt.date) -> int:
        """Working days in (start, end]; when end < start, minus the working days in (end, start]."""
        if end < start:
            return -self.working_days_between(end, start)
        count = _weekdays_through(end) - _weekdays_through(start)
        count += bisect_right(self._makeup, end) - bisect_right(self._makeup, start)
        count -= bisect_right(self._weekday_holidays, end) - bisect_right(self._weekday_holidays, start)
        return count

    def add_period(self, start: dt.date, n: int, unit: str) -> Due:
        """A period of n units after `start`: "1" 工作日, "2" 月, "3" 年, "4" 自然日."""
        if n < 0:
            raise ValueError(f"时限不能为负：{n}")
        unit = str(unit)
        if unit == WORKING_DAYS:
            return self.add_working_days(start, n)
        if unit == MONTHS:
            return Due(add_months(start, n))
        if unit == YEARS:
            return Due(add_months(start, 12 * n))
        if unit == CALENDAR_DAYS:
            return Due(start + dt.timedelta(days=n))
        raise ValueError(f"未知的时限单位：{unit!r}")

    def deadline(
        self,
        start: dt.date,
        limit: int,
        unit: str,
        *,
        paused_working_days: int = 0,
        extension_working_days: int = 0,
    ) -> Due:
        """The limit from `start`, moved later by paused (特别程序, §45) and extended (§42) working days."""
        if paused_working_days < 0 or extension_working_days < 0:
            raise ValueError("暂停和延长的工作日数不能为负。")
        base = self.add_period(start, limit, unit)
        extra = paused_working_days + extension_working_days
        if not extra:
            return base
        moved = self.add_working_days(base.date, extra)
        return Due(moved.date, provisional=base.provisional or moved.provisional)

    def warning_level(self, due: dt.date, today: dt.date, yellow_working_days: int) -> str:
        """Red once `today` is past `due`; yellow on the due day or when at most `yellow_working_days` remain."""
        if today > due:
            return "red"
        if today == due or self.working_days_between(today, due) <= yellow_working_days:
            return "yellow"
        return ""


# --- The process-wide table -----------------------------------------------------------------------


class _Cache:
    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.calendar: WorkCalendar | None = None
        self.built_at = 0.0


_cache = _Cache()


def current() -> WorkCalendar:
    """The table as this process knows it; rebuilt after a local change or when older than CACHE_SECONDS."""
    with _cache.lock:
        # A monotonic timer, not the domain clock: cache age must not follow a clock frozen by tests.
        if _cache.calendar is None or time.monotonic() - _cache.built_at > CACHE_SECONDS:
            _cache.calendar = WorkCalendar.from_db()
            _cache.built_at = time.monotonic()
        return _cache.calendar


def invalidate() -> None:
    """Forget the cached table; the next question reads the database again."""
    with _cache.lock:
        _cache.calendar = None


def notify_changed(years: Iterable[int]) -> None:
    """Called after writing holiday rows: reread at once, and announce the change once committed."""
    invalidate()
    changed = sorted(set(years))

    def announce() -> None:
        # Drop a table another thread may have cached from before the commit.
        invalidate()
        calendar_changed.send(sender=WorkCalendar, years=changed)

    # Robust: a failing receiver is logged and must not turn a committed load into an error.
    transaction.on_commit(announce, robust=True)


def is_working_day(day: dt.date) -> bool:
    return current().is_working_day(day)


def is_known(day: dt.date) -> bool:
    return current().is_known(day)


def add_working_days(start: dt.date, n: int) -> Due:
    return current().add_working_days(start, n)


def working_days_between(start: dt.date, end: dt.date) -> int:
    return current().working_days_between(start, end)


def add_period(start: dt.date, n: int, unit: str) -> Due:
    return current().add_period(start, n, unit)


def deadline(
    start: dt.date, limit: int, unit: str, *, paused_working_days: int = 0, extension_working_days: int = 0
) -> Due:
    return current().deadline(
        start, limit, unit, paused_working_days=paused_working_days, extension_working_days=extension_working_days
    )


def warning_level(due: dt.date, today: dt.date, yellow_working_days: int | None = None) -> str:
    """See WorkCalendar.warning_level; the threshold defaults to TONGBAN_YELLOW_WORKING_DAYS."""
    if yellow_working_days is None:
        yellow_working_days = settings.TONGBAN_YELLOW_WORKING_DAYS
    return current().warning_level(due, today, yellow_working_days)
