"""Prometheus metrics of a node (`GET /metrics`).

A node runs as several processes (web workers, dispatcher, consumer, sweeper). Each counts what it
does in prometheus-client's multiprocess files under PROMETHEUS_MULTIPROC_DIR, which `tongban node`
sets for all the roles of a node; whichever web worker answers `/metrics` adds them up. What the
database knows (outbox depth and age, inbox lag, exchanges by state) is read at scrape time, so every
process agrees on it. Without PROMETHEUS_MULTIPROC_DIR (tests, a management command) the process's own
registry is used.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import REGISTRY, Collector

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"

# Request latency by route (the URL pattern, never the path: paths hold case numbers and identifiers).
REQUEST_SECONDS = Histogram(
    "tongban_http_request_duration_seconds",
    "请求耗时（秒），按路由",
    ["method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
REQUESTS = Counter("tongban_http_requests_total", "请求数，按路由与状态码", ["method", "route", "status"])
REFUSALS = Counter("tongban_refusals_total", "拒绝的请求与消息，按错误代码", ["code", "where"])
ACTIONS = Counter("tongban_case_actions_total", "已提交的办件操作，按类型", ["action"])
MESSAGES = Counter("tongban_messages_total", "节点间消息，按结果", ["outcome"])
ROLE_HEARTBEAT = Gauge(
    "tongban_role_heartbeat_timestamp_seconds",
    "各进程角色最近一轮工作完成的时间（Unix 秒）",
    ["role"],
    multiprocess_mode="livemax",
)
VERIFY_WORKERS = Gauge(
    "tongban_verification_workers",
    "各角色的签名核验工作进程：configured 可用数，alive 运行数（首次使用时启动），"
    "paused 为 1 表示因连续失败暂停、改在本进程核验",
    ["role", "state"],
    multiprocess_mode="livemax",
)


def observe_request(method: str, route: str, status: int, seconds: float) -> None:
    REQUEST_SECONDS.labels(method, route).observe(seconds)
    REQUESTS.labels(method, route, str(status)).inc()


def heartbeat(role: str) -> None:
    """A role finished a round of its work: when, and how its verification workers stand."""
    ROLE_HEARTBEAT.labels(role).set(time.time())
    _observe_verification_workers(role)


def _by_label(name: str, documentation: str, label: str, counts: dict[str, int]) -> GaugeMetricFamily:
    family = GaugeMetricFamily(name, documentation, labels=[label])
    for value, count in counts.items():
        family.add_metric([value], count)
    return family


class DatabaseCollector(Collector):
    """What the node's database says about its exchange, read when scraped."""

    def collect(self) -> Iterator[GaugeMetricFamily]:
        from tongban.serve.state import exchange_state

        state = exchange_state()
        yield _by_label("tongban_outbox_messages", "发件箱消息数，按状态", "status", state.outbox)
        yield GaugeMetricFamily(
            "tongban_outbox_oldest_pending_age_seconds", "最早一条待发消息已等待的秒数", value=state.outbox_age
        )
        yield _by_label("tongban_inbox_messages", "收件箱消息数，按状态", "status", state.inbox)
        yield GaugeMetricFamily(
            "tongban_inbox_lag_seconds", "最早一条已收未处理消息已等待的秒数", value=state.inbox_lag
        )
        yield _by_label("tongban_exchanges", "交换（一问一答）数，按状态", "state", state.exchanges)


def render() -> tuple[bytes, str]:
    """The exposition text of every process of the node, and its content type."""
    _observe_verification_workers("web")
    if os.environ.get(MULTIPROC_ENV):
        from prometheus_client import multiprocess

        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    else:
        registry = REGISTRY
    return generate_latest(registry) + generate_latest(_database_registry()), CONTENT_TYPE_LATEST


_db_registry: CollectorRegistry | None = None


def _database_registry() -> CollectorRegistry:
    global _db_registry
    if _db_registry is None:
        _db_registry = CollectorRegistry()
        _db_registry.register(DatabaseCollector())
    return _db_registry


def _observe_verification_workers(role: str) -> None:
    from tongban.crypto import parallel

    health = parallel.health()
    VERIFY_WORKERS.labels(role, "configured").set(health.configured)
    VERIFY_WORKERS.labels(role, "alive").set(health.alive)
    VERIFY_WORKERS.labels(role, "paused").set(1 if health.paused else 0)


def mark_process_dead(pid: int) -> None:
    """A web worker or role process ended: its live gauges no longer count."""
    if os.environ.get(MULTIPROC_ENV):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(pid)
