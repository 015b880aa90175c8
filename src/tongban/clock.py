"""The one clock. Domain code asks `clock.now()`; tests install a `FixedClock`.

Nothing in domain code reads the wall clock directly, so every deadline, warning and
rule date can be reproduced from a recorded instant.
"""

from __future__ import annotations

import datetime as dt
import threading
from typing import Protocol
from zoneinfo import ZoneInfo

CHINA_TZ = ZoneInfo("Asia/Shanghai")


class Clock(Protocol):
    def now(self) -> dt.datetime: ...


class SystemClock:
    def now(self) -> dt.datetime:
        return dt.datetime.now(tz=CHINA_TZ)


class FixedClock:
    """A clock that stands still until a test moves it."""

    def __init__(self, at: dt.datetime) -> None:
        if at.tzinfo is None:
            at = at.replace(tzinfo=CHINA_TZ)
        self._at = at
        self._lock = threading.Lock()

    def now(self) -> dt.datetime:
        with self._lock:
            return self._at

    def set(self, at: dt.datetime) -> None:
        if at.tzinfo is None:
            at = at.replace(tzinfo=CHINA_TZ)
        with self._lock:
            self._at = at

    def advance(self, **delta: float) -> None:
        with self._lock:
            self._at = self._at + dt.timedelta(**delta)


_clock: Clock = SystemClock()


def set_clock(clock: Clock) -> Clock:
    """Install a clock and return the previous one."""
    global _clock
    previous, _clock = _clock, clock
    return previous


def now() -> dt.datetime:
    return _clock.now()


def today() -> dt.date:
    """The date in China: deadlines and rules count Beijing dates."""
    return _clock.now().astimezone(CHINA_TZ).date()
