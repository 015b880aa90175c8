"""`/healthz`, `/readyz` and `/metrics`: what a load balancer and a monitoring system ask a node.

`/healthz` answers as long as the process serves requests, touching nothing else. `/readyz` names each
check it makes and answers 503 with Retry-After while any fails, so a load balancer sends no traffic to
a node that cannot do its work (and `make federation` waits on it instead of sleeping).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from tongban.serve import metrics

RETRY_AFTER_SECONDS = 5


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str


@require_GET
@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok", "node": settings.TONGBAN_NODE or "embedded"})


@require_GET
@never_cache
def readyz(request: HttpRequest) -> JsonResponse:
    checks = [run(name, check) for name, check in CHECKS if applies(name)]
    ready = all(c.ok for c in checks)
    response = JsonResponse(
        {
            "status": "ready" if ready else "not_ready",
            "node": settings.TONGBAN_NODE or "embedded",
            "checks": [{"name": c.name, "ok": c.ok, "detail": c.detail} for c in checks],
        },
        status=200 if ready else 503,
        json_dumps_params={"ensure_ascii": False},
    )
    if not ready:
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
        response._has_been_logged = True  # an expected answer while starting: not an error line per probe
    return response


@require_GET
@never_cache
def metrics_view(request: HttpRequest) -> HttpResponse:
    body, content_type = metrics.render()
    return HttpResponse(body, content_type=content_type)


def run(name: str, check: Callable[[], str]) -> Check:
    try:
        return Check(name, True, check())
    except Exception as exc:  # every failure is an answer here, never a 500
        detail = getattr(exc, "detail", None) or str(exc) or exc.__class__.__name__
        return Check(name, False, str(detail)[:300])


def _database() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return f"数据库可用（{connection.vendor}）"


_migrations_applied = False  # once applied, they stay applied for this process's code


def _migrations() -> str:
    global _migrations_applied
    if not _migrations_applied:
        from django.db.migrations.executor import MigrationExecutor

        executor = MigrationExecutor(connection)
        pending = executor.migration_plan(executor.loader.graph.leaf_nodes())
        if pending:
            names = "、".join(f"{m.app_label}.{m.name}" for m, _ in pending[:5])
            raise RuntimeError(f"有 {len(pending)} 个数据库迁移尚未执行（{names}），请执行 tongban migrate")
        _migrations_applied = True
    return "数据库迁移已全部执行"


_broker_checked: tuple[float, str | None] = (float("-inf"), None)
BROKER_CACHE_SECONDS = 5.0  # a load balancer asks every few seconds; one connection per interval is enough


def _broker() -> str:
    global _broker_checked
    at, error = _broker_checked
    if time.monotonic() - at >= BROKER_CACHE_SECONDS:
        import pika

        parameters = pika.URLParameters(settings.TONGBAN_AMQP_URL)
        parameters.socket_timeout = 2
        parameters.blocked_connection_timeout = 2
        parameters.connection_attempts = 1
        try:
            pika.BlockingConnection(parameters).close()
            error = None
        except Exception as exc:
            error = f"消息代理不可达：{exc.__class__.__name__}"
        _broker_checked = (time.monotonic(), error)
    if error:
        raise RuntimeError(error)
    return "消息代理（RabbitMQ）可达"


def _trust_list() -> str:
    from tongban.exchange import trust

    if trust.is_stale():
        raise RuntimeError("没有可用的信任列表，或信任列表已超过宽限期未更新：节点将拒收一切消息")
    return f"信任列表第 {trust.held_version()} 版"


def _own_key() -> str:
    from tongban.exchange import trust

    node = settings.TONGBAN_NODE or settings.TONGBAN_HUB_NODE
    return f"节点 {node} 的签名密钥 {trust.usable_signing_key(node)} 有效"


CHECKS: list[tuple[str, Callable[[], str]]] = [
    ("database", _database),
    ("migrations", _migrations),
    ("broker", _broker),
    ("trust_list", _trust_list),
    ("own_key", _own_key),
]


def applies(name: str) -> bool:
    return name != "broker" or settings.TONGBAN_TRANSPORT == "rabbitmq"
