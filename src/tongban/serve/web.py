"""The web role: Django served by gunicorn.

gunicorn (a pre-fork WSGI server, the one Django's deployment guide names first) with gthread workers:
each worker process serves several requests at once on threads, which suits a Django application whose
requests wait on the database and on signatures. The master restarts a worker that dies, and on SIGTERM
stops accepting, lets the workers finish their requests within the graceful timeout, then exits.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from typing import Any

from gunicorn.app.base import BaseApplication

from tongban.serve.roles import SUPERVISOR_ENV, NodeOptions


class NodeServer(BaseApplication):
    def __init__(self, options: dict[str, Any]) -> None:
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self):
        from django.core.wsgi import get_wsgi_application

        return get_wsgi_application()


def _worker_exited(server, worker) -> None:
    from tongban.serve.metrics import mark_process_dead

    mark_process_dead(worker.pid)


def _post_fork(server, worker) -> None:
    # Each worker opens its own database connections; none may be inherited from the master.
    from django.db import connections

    for connection in connections.all(initialized_only=True):
        connection.close()


def _when_ready(server) -> None:
    """Under `--role all`: the master stops gracefully when its supervisor has gone (killed with -9)."""
    supervisor = int(os.environ.get(SUPERVISOR_ENV, "0") or 0)
    if supervisor:

        def watch() -> None:
            while os.getppid() == supervisor:
                time.sleep(1.0)
            os.kill(os.getpid(), signal.SIGTERM)

        threading.Thread(target=watch, name="tongban-orphan-watch", daemon=True).start()


def gunicorn_options(options: NodeOptions) -> dict[str, Any]:
    from django.conf import settings

    return {
        "bind": f"{options.host}:{options.port}",
        "workers": options.workers,
        "worker_class": "gthread",
        "threads": options.threads,
        "graceful_timeout": options.graceful_timeout,
        "timeout": 120,  # a worker silent this long is killed and replaced by the master
        "keepalive": 5,
        "proc_name": f"tongban-web-{options.node or 'embedded'}",
        "accesslog": None,  # the request log is ours: JSON lines without personal data (tongban.serve.logs)
        "errorlog": "-",
        "loglevel": "warning",
        "logconfig_dict": {
            "version": 1,
            "disable_existing_loggers": False,
            "formatters": {"json": {"()": "tongban.serve.logs.JsonLines"}},
            "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "json"}},
            "loggers": {"gunicorn.error": {"handlers": ["console"], "level": "WARNING", "propagate": False}},
        },
        "limit_request_line": 8190,
        "child_exit": _worker_exited,
        "post_fork": _post_fork,
        "when_ready": _when_ready,
        "forwarded_allow_ips": settings.TONGBAN_FORWARDED_ALLOW_IPS,
    }


def serve(options: NodeOptions) -> None:
    NodeServer(gunicorn_options(options)).run()
