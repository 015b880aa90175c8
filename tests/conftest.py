"""Shared fixtures: an injected clock, loaded content and factories."""

from __future__ import annotations

import datetime as dt
import os

import pytest

from tongban import clock as clock_module
from tongban.clock import CHINA_TZ, FixedClock

POSTGRES_URL = os.environ.get("TONGBAN_TEST_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/postgres")


def postgres_available() -> bool:
    try:
        import psycopg

        with psycopg.connect(POSTGRES_URL, connect_timeout=3):
            return True
    except Exception:
        return False


AMQP_URL = os.environ.get("TONGBAN_TEST_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/%2F")


def rabbitmq_available() -> bool:
    try:
        import pika

        pika.BlockingConnection(pika.URLParameters(AMQP_URL + "?connection_attempts=1&socket_timeout=3")).close()
        return True
    except Exception:
        return False


def pytest_collection_modifyitems(config, items):
    """Tests marked `services` need PostgreSQL and RabbitMQ; without them they skip, unless CI requires them."""
    service_tests = [item for item in items if "services" in item.keywords]
    if not service_tests or os.environ.get("TONGBAN_REQUIRE_SERVICES") == "1":
        return
    available = {"postgresql": postgres_available(), "rabbitmq": rabbitmq_available()}
    for item in service_tests:
        # Every service test uses PostgreSQL except the RabbitMQ transport's; the federation and the
        # concurrent consumers use both.
        needs = {"rabbitmq"} if "test_rabbitmq" in item.nodeid else {"postgresql"}
        if "test_federation" in item.nodeid or "test_concurrent_consumers" in item.nodeid:
            needs.add("rabbitmq")
        missing = sorted(service for service in needs if not available[service])
        if missing:
            reason = f"{'、'.join(missing)} 不可用（设置 TONGBAN_REQUIRE_SERVICES=1 时此类测试必须运行）"
            item.add_marker(pytest.mark.skip(reason=reason))


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
    from tongban.exchange import trust
    from tongban.worktime.calendar import invalidate

    invalidate()
    trust.invalidate()  # keys and the trust list are cached per process too
    yield
    invalidate()
    trust.invalidate()
