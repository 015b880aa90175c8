"""Shared fixtures: an injected clock, loaded content and factories."""

from __future__ import annotations

import datetime as dt
import os

import pytest

from tongban import clock as clock_module
from tongban.clock import CHINA_TZ, FixedClock


def pytest_collection_modifyitems(config, items):
    # Tests marked `services` need PostgreSQL or RabbitMQ; CI sets TONGBAN_REQUIRE_SERVICES=1.
    if os.environ.get("TONGBAN_REQUIRE_SERVICES") == "1":
        return


@pytest.fixture
def fixed_clock():
    """A clock frozen at a working-day morning; tests move it explicitly."""
    fixed = FixedClock(dt.datetime(2025, 6, 9, 9, 0, tzinfo=CHINA_TZ))
    previous = clock_module.set_clock(fixed)
    yield fixed
    clock_module.set_clock(previous)


@pytest.fixture(autouse=True)
def _fresh_work_calendar():
    """The holiday table is cached per process; a rolled-back test must not leave its days behind."""
    from tongban.worktime.calendar import invalidate

    invalidate()
    yield
    invalidate()
