"""Months, years and calendar days; the deadline clock with pauses and extensions; warning levels."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import override_settings

from tongban.worktime import calendar
from tongban.worktime.calendar import Due, WorkCalendar, add_months

D = dt.date


@pytest.mark.parametrize(
    ("start", "months", "expected"),
    [
        (D(2025, 1, 31), 1, D(2025, 2, 28)),
        (D(2024, 1, 31), 1, D(2024, 2, 29)),
        (D(2025, 3, 31), 1, D(2025, 4, 30)),
        (D(2025, 12, 15), 1, D(2026, 1, 15)),
        (D(2025, 8, 31), 6, D(2026, 2, 28)),
        (D(2025, 5, 10), 0, D(2025, 5, 10)),
    ],
)
def test_months_clamp_to_month_end(start: dt.date, months: int, expected: dt.date) -> None:
    assert add_months(start, months) == expected


def test_period_units(package_calendar: WorkCalendar) -> None:
    add = package_calendar.add_period
    assert add(D(2025, 1, 31), 1, "2") == Due(D(2025, 2, 28))
    assert add(D(2024, 2, 29), 1, "3") == Due(D(2025, 2, 28))
    assert add(D(2025, 6, 30), 2, "3") == Due(D(2027, 6, 30))  # dates, not working days: never provisional
    assert add(D(2025, 9, 30), 10, "4") == Due(D(2025, 10, 10))  # calendar days run through 国庆
    assert add(D(2025, 9, 26), 1, "1") == Due(D(2025, 9, 28))


def test_bad_periods_are_programming_errors(package_calendar: WorkCalendar) -> None:
    with pytest.raises(ValueError, match="时限单位"):
        package_calendar.add_period(D(2025, 1, 1), 1, "9")
    with pytest.raises(ValueError):
        package_calendar.add_working_days(D(2025, 1, 1), -1)
    with pytest.raises(ValueError):
        package_calendar.deadline(D(2025, 1, 1), 5, "1", paused_working_days=-1)


def test_deadline_with_special_procedure_and_extension(package_calendar: WorkCalendar) -> None:
    deadline = package_calendar.deadline
    accepted = D(2025, 9, 26)
    assert deadline(accepted, 20, "1") == Due(D(2025, 10, 30))
    # §45: a 3-working-day expert review is not counted; §42: +10 with the head's approval.
    assert deadline(accepted, 20, "1", paused_working_days=3) == Due(D(2025, 11, 4))
    assert deadline(accepted, 20, "1", paused_working_days=3, extension_working_days=10) == Due(D(2025, 11, 18))
    # A month limit ending on Friday 2/28, paused one working day, ends on Monday 3/3.
    assert deadline(D(2025, 1, 31), 1, "2", paused_working_days=1) == Due(D(2025, 3, 3))


def test_paused_days_into_an_unknown_year_are_provisional(package_calendar: WorkCalendar) -> None:
    due = package_calendar.deadline(D(2026, 11, 30), 1, "2", paused_working_days=5)
    assert due == Due(D(2027, 1, 6), provisional=True)  # weekends only in 2027: 12/31, 1/1, 1/4, 1/5, 1/6


@pytest.mark.parametrize(
    ("today", "expected"),
    [
        (D(2025, 9, 26), ""),  # 9/28, 9/29, 9/30, 10/9: four working days left
        (D(2025, 9, 29), "yellow"),  # 9/30 and 10/9: two left
        (D(2025, 10, 3), "yellow"),  # during the holiday: one left
        (D(2025, 10, 9), "yellow"),  # the due day itself
        (D(2025, 10, 10), "red"),
    ],
)
def test_warning_levels(package_calendar: WorkCalendar, today: dt.date, expected: str) -> None:
    assert package_calendar.warning_level(D(2025, 10, 9), today, 2) == expected


def test_due_day_is_yellow_even_without_a_threshold(package_calendar: WorkCalendar) -> None:
    assert package_calendar.warning_level(D(2025, 10, 9), D(2025, 10, 9), 0) == "yellow"
    assert package_calendar.warning_level(D(2025, 10, 9), D(2025, 9, 30), 0) == ""


@override_settings(TONGBAN_YELLOW_WORKING_DAYS=4)
def test_warning_threshold_defaults_to_settings(seeded: list[int], fixed_clock) -> None:
    from tongban import clock

    assert clock.today() == D(2025, 6, 9)
    assert calendar.warning_level(D(2025, 6, 13), clock.today()) == "yellow"  # Friday: four working days ahead
    assert calendar.warning_level(D(2025, 6, 16), clock.today()) == ""
