"""The 2025 schedule (国办发明电〔2024〕12号) as the platform's table sees it, from the package and from the file."""

from __future__ import annotations

import datetime as dt

import pytest
from django.conf import settings

from tongban.worktime import calendar
from tongban.worktime.loader import load_holiday_files
from tongban.worktime.models import SpecialDay

D = dt.date

HOLIDAYS_2025 = [
    D(2025, 1, 1),
    *(D(2025, 1, 28) + dt.timedelta(days=n) for n in range(8)),  # 1/28–2/4
    D(2025, 4, 4),
    D(2025, 4, 5),
    D(2025, 4, 6),
    *(D(2025, 5, n) for n in range(1, 6)),
    D(2025, 5, 31),
    D(2025, 6, 1),
    D(2025, 6, 2),
    *(D(2025, 10, n) for n in range(1, 9)),
]
MAKEUP_WORKDAYS_2025 = [D(2025, 1, 26), D(2025, 2, 8), D(2025, 4, 27), D(2025, 9, 28), D(2025, 10, 11)]


@pytest.fixture(params=["package", "file"])
def year_2025(request: pytest.FixtureRequest, table: None) -> str:
    """Every fact must hold whether 2025 came from chinese-calendar or from content/holidays/2025.yaml."""
    if request.param == "package":
        calendar_years = request.getfixturevalue("seeded")
        assert 2025 in calendar_years
    else:
        assert load_holiday_files(settings.CONTENT_DIR) == [2025]
    return request.param


@pytest.mark.parametrize("day", HOLIDAYS_2025, ids=str)
def test_holidays_are_rest_days(year_2025: str, day: dt.date) -> None:
    assert not calendar.is_working_day(day)


@pytest.mark.parametrize("day", MAKEUP_WORKDAYS_2025, ids=str)
def test_makeup_weekends_are_working_days(year_2025: str, day: dt.date) -> None:
    assert day.weekday() >= 5
    assert calendar.is_working_day(day)


def test_ordinary_days(year_2025: str) -> None:
    assert calendar.is_working_day(D(2025, 3, 3))  # a Monday
    assert not calendar.is_working_day(D(2025, 3, 1))  # a Saturday
    assert calendar.is_working_day(D(2025, 10, 9))  # first day back after 国庆
    assert calendar.is_known(D(2025, 7, 1))


def test_only_exceptions_are_stored(year_2025: str) -> None:
    rows = SpecialDay.objects.filter(date__year=2025)
    holidays = [r.date for r in rows if not r.is_working_day]
    workdays = [r.date for r in rows if r.is_working_day]
    assert sorted(workdays) == MAKEUP_WORKDAYS_2025
    assert sorted(holidays) == [d for d in HOLIDAYS_2025 if d.weekday() < 5]
    assert len(holidays) == 18
    assert SpecialDay.objects.get(date=D(2025, 1, 28)).name == "春节"


@pytest.mark.parametrize(
    ("start", "n", "expected"),
    [
        (D(2025, 9, 26), 0, D(2025, 9, 26)),
        (D(2025, 9, 26), 1, D(2025, 9, 28)),  # the Sunday make-up workday
        (D(2025, 9, 30), 1, D(2025, 10, 9)),
        (D(2025, 9, 30), 3, D(2025, 10, 11)),  # the Saturday make-up workday
        (D(2025, 10, 3), 1, D(2025, 10, 9)),  # starting on a holiday
        (D(2025, 1, 24), 1, D(2025, 1, 26)),
        (D(2025, 1, 24), 2, D(2025, 1, 27)),
        (D(2025, 1, 24), 3, D(2025, 2, 5)),
        (D(2025, 12, 31), 1, D(2026, 1, 4)),  # across the year: 2026 元旦 1/1–1/3, Sunday 1/4 is a make-up day
    ],
)
def test_add_working_days(seeded: list[int], start: dt.date, n: int, expected: dt.date) -> None:
    assert calendar.add_working_days(start, n) == calendar.Due(expected, provisional=False)


def test_decision_within_twenty_working_days_of_acceptance(year_2025: str) -> None:
    # §42: accepted on Friday 9/26 just before 国庆 — 20 working days end on 10/30.
    assert calendar.add_working_days(D(2025, 9, 26), 20).date == D(2025, 10, 30)


def test_working_days_between(year_2025: str) -> None:
    assert calendar.working_days_between(D(2025, 9, 30), D(2025, 10, 11)) == 3
    assert calendar.working_days_between(D(2025, 10, 11), D(2025, 9, 30)) == -3
    assert calendar.working_days_between(D(2025, 10, 1), D(2025, 10, 8)) == 0
    assert calendar.working_days_between(D(2025, 10, 8), D(2025, 10, 8)) == 0
    assert calendar.working_days_between(D(2024, 12, 31), D(2025, 12, 31)) == 248  # the whole of 2025
