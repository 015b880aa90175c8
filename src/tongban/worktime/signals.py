"""Keep the cached table and the cases app in step with edits made row by row (the admin)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from tongban.worktime.calendar import notify_changed
from tongban.worktime.models import CalendarYear, SpecialDay

# The loader writes many rows at once and announces the change itself, once.
_suppressed: ContextVar[bool] = ContextVar("worktime_row_signals_suppressed", default=False)


@contextmanager
def row_signals_suppressed() -> Iterator[None]:
    token = _suppressed.set(True)
    try:
        yield
    finally:
        _suppressed.reset(token)


@receiver(post_save, sender=SpecialDay, dispatch_uid="worktime.special_day_saved")
@receiver(post_delete, sender=SpecialDay, dispatch_uid="worktime.special_day_deleted")
def _special_day_changed(sender: type[SpecialDay], instance: SpecialDay, **kwargs: Any) -> None:
    if not _suppressed.get():
        notify_changed([_as_date(instance.date).year])


@receiver(post_save, sender=CalendarYear, dispatch_uid="worktime.year_saved")
def _year_saved(sender: type[CalendarYear], instance: CalendarYear, **kwargs: Any) -> None:
    if not _suppressed.get():
        notify_changed([instance.year])


@receiver(post_delete, sender=CalendarYear, dispatch_uid="worktime.year_deleted")
def _year_deleted(sender: type[CalendarYear], instance: CalendarYear, **kwargs: Any) -> None:
    # Unloading a year drops its days too: the year is then counted on weekends only, as provisional.
    announce = not _suppressed.get()
    with row_signals_suppressed():
        SpecialDay.objects.filter(date__year=instance.year).delete()
    if announce:
        notify_changed([instance.year])


def _as_date(value: dt.date | str) -> dt.date:
    # A form may save a string before the field is converted back to a date.
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))
