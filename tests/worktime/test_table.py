"""The in-process table: reread after a change in this process, and at most CACHE_SECONDS late otherwise."""

from __future__ import annotations

import datetime as dt

import pytest

from tongban.worktime import calendar
from tongban.worktime.calendar import Due
from tongban.worktime.models import CalendarYear, SpecialDay
from tongban.worktime.signals import row_signals_suppressed

D = dt.date


def test_editing_a_day_is_seen_at_once_and_announced(
    seeded: list[int], django_capture_on_commit_callbacks, announcements: list[list[int]]
) -> None:
    assert calendar.add_working_days(D(2025, 9, 26), 1).date == D(2025, 9, 28)
    with django_capture_on_commit_callbacks(execute=True):
        SpecialDay.objects.get(date=D(2025, 9, 28)).delete()
    assert calendar.add_working_days(D(2025, 9, 26), 1).date == D(2025, 9, 29)
    with django_capture_on_commit_callbacks(execute=True):
        SpecialDay.objects.create(date=D(2025, 9, 29), is_working_day=False, name="测试")
    assert calendar.add_working_days(D(2025, 9, 26), 1).date == D(2025, 9, 30)
    assert announcements == [[2025], [2025]]


def test_deleting_a_year_unloads_its_days(seeded: list[int], django_capture_on_commit_callbacks, announcements) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        CalendarYear.objects.get(year=2026).delete()
    assert not SpecialDay.objects.filter(date__year=2026).exists()
    assert announcements == [[2026]]
    # 2026 元旦 is no longer known: Wednesday 2025-12-31 + 1 is Thursday 2026-01-01, provisionally.
    assert calendar.add_working_days(D(2025, 12, 31), 1) == Due(D(2026, 1, 1), provisional=True)


def test_changes_from_another_process_arrive_within_the_cache_period(
    seeded: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    now = [1000.0]
    monkeypatch.setattr(calendar.time, "monotonic", lambda: now[0])
    calendar.invalidate()
    assert calendar.is_working_day(D(2025, 9, 28))
    with row_signals_suppressed():  # as if another process wrote the row
        SpecialDay.objects.filter(date=D(2025, 9, 28)).delete()
    now[0] += calendar.CACHE_SECONDS - 1
    assert calendar.is_working_day(D(2025, 9, 28))
    now[0] += 2
    assert not calendar.is_working_day(D(2025, 9, 28))


def test_an_empty_table_still_answers(table: None) -> None:
    assert calendar.add_working_days(D(2025, 9, 26), 1) == Due(D(2025, 9, 29), provisional=True)
    assert calendar.working_days_between(D(2025, 9, 26), D(2025, 10, 3)) == 5
    assert calendar.deadline(D(2025, 1, 31), 1, "2") == Due(D(2025, 2, 28))
