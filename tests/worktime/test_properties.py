"""Properties of the arithmetic over every year the package covers and two years it does not (2027, 2028)."""

from __future__ import annotations

import datetime as dt

import chinese_calendar
from hypothesis import given
from hypothesis import strategies as st

from tongban.worktime.calendar import WorkCalendar

FIRST, LAST_KNOWN, LAST = dt.date(2004, 1, 1), dt.date(2026, 12, 31), dt.date(2028, 12, 31)
starts = st.dates(min_value=FIRST, max_value=LAST)
counts = st.integers(min_value=0, max_value=60)


def oracle_is_working_day(day: dt.date) -> bool:
    """chinese-calendar where it has data, Monday–Friday elsewhere."""
    return chinese_calendar.is_workday(day) if FIRST <= day <= LAST_KNOWN else day.weekday() < 5


def brute_force_between(start: dt.date, end: dt.date) -> int:
    days = ((end - start).days, 1) if end >= start else ((start - end).days, -1)
    low = min(start, end)
    inside = sum(oracle_is_working_day(low + dt.timedelta(days=k)) for k in range(1, days[0] + 1))
    return inside * days[1]


def test_every_known_day_matches_the_package(package_calendar: WorkCalendar) -> None:
    day = FIRST
    while day <= LAST_KNOWN:
        assert package_calendar.is_working_day(day) == chinese_calendar.is_workday(day), day
        day += dt.timedelta(days=1)
    assert package_calendar.known_years == frozenset(range(2004, 2027))


@given(start=starts, n=counts)
def test_result_is_the_nth_working_day(package_calendar: WorkCalendar, start: dt.date, n: int) -> None:
    due = package_calendar.add_working_days(start, n)
    if n == 0:
        assert due.date == start
    else:
        assert package_calendar.is_working_day(due.date)
        assert oracle_is_working_day(due.date)
    assert package_calendar.working_days_between(start, due.date) == n
    assert brute_force_between(start, due.date) == n


@given(start=starts, n=counts)
def test_monotonic_in_n(package_calendar: WorkCalendar, start: dt.date, n: int) -> None:
    assert package_calendar.add_working_days(start, n).date < package_calendar.add_working_days(start, n + 1).date


@given(start=starts, n=counts)
def test_provisional_exactly_when_an_unknown_year_was_counted(
    package_calendar: WorkCalendar, start: dt.date, n: int
) -> None:
    due = package_calendar.add_working_days(start, n)
    assert due.provisional == (n > 0 and due.date > LAST_KNOWN)


@given(a=starts, b=starts, c=starts)
def test_between_is_antisymmetric_and_additive(
    package_calendar: WorkCalendar, a: dt.date, b: dt.date, c: dt.date
) -> None:
    between = package_calendar.working_days_between
    assert between(a, b) == -between(b, a)
    assert between(a, b) + between(b, c) == between(a, c)


@given(start=starts, span=st.integers(min_value=-120, max_value=120))
def test_between_matches_brute_force(package_calendar: WorkCalendar, start: dt.date, span: int) -> None:
    end = start + dt.timedelta(days=span)
    assert package_calendar.working_days_between(start, end) == brute_force_between(start, end)


@given(start=starts, limit=counts, paused=st.integers(0, 20), extension=st.integers(0, 15))
def test_pauses_and_extensions_add_working_days(
    package_calendar: WorkCalendar, start: dt.date, limit: int, paused: int, extension: int
) -> None:
    due = package_calendar.deadline(start, limit, "1", paused_working_days=paused, extension_working_days=extension)
    assert due == package_calendar.add_working_days(start, limit + paused + extension)
