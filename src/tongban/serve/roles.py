"""The process roles of a node (`tongban node --role …`).

- web:      the HTTP server (gunicorn, gthread workers) answering the API, the pages and the probes;
- dispatch: moves outbox → transport → inbox and applies received messages, one transaction a batch;
- consume:  takes the node's RabbitMQ queue into its inbox, acking after the commit (RabbitMQ only);
- sweep:    the law's clock (deemed acceptance, warnings, timed-out exchanges) and the trust list;
- all:      supervises one of each and starts again any that dies.

Each role stops on SIGTERM (or SIGINT) after the work in hand: the web server finishes its requests
(gunicorn's graceful timeout), the dispatcher its transaction, the consumer its batch (acked after its
commit), the sweeper its pass. Nothing is lost by a kill either: every step is a transaction, and
what a killed consumer held but did not ack the broker hands out again.
"""

from __future__ import annotations

import logging
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

log = logging.getLogger("tongban.node")

ROLES = ("web", "dispatch", "consume", "sweep")
SUPERVISOR_ENV = "TONGBAN_SUPERVISOR_PID"
METRICS_ENV = "PROMETHEUS_MULTIPROC_DIR"
FAILURE_PAUSE = 2.0  # seconds a role waits after a failed round (the database or broker away)


@dataclass
class NodeOptions:
    node: str  # "" in the embedded default: one deployment hosting the hub and every province
    host: str = "127.0.0.1"
    port: int = 8000
    workers: int = 2
    threads: int = 4
    graceful_timeout: int = 30
    dispatch_interval: float = 0.2
    sweep_interval: float = 60.0


class Stopping:
    """Set by SIGTERM or SIGINT, or when the supervising `--role all` process has gone."""

    def __init__(self) -> None:
        self.event = threading.Event()

    def install(self) -> Stopping:
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: self.event.set())
        supervisor = int(os.environ.get(SUPERVISOR_ENV, "0") or 0)
        if supervisor:
            threading.Thread(target=self._watch, args=(supervisor,), name="tongban-orphan-watch", daemon=True).start()
        return self

    def _watch(self, supervisor: int) -> None:
        # A supervisor killed with -9 cannot pass SIGTERM on: its children notice and stop by themselves.
        while not self.event.wait(1.0):
            if os.getppid() != supervisor:
                log.warning("supervisor %s has gone; stopping", supervisor)
                self.event.set()

    def is_set(self) -> bool:
        return self.event.is_set()

    def wait(self, seconds: float) -> bool:
        return self.event.wait(seconds)


# ---------------------------------------------------------------- dispatch, consume, sweep


def run_dispatch(options: NodeOptions, stopping: Stopping) -> None:
    """Dispatch until SIGTERM: after it, the round in hand finishes (each batch is one transaction)."""
    from django.db import close_old_connections

    from tongban.exchange import dispatcher
    from tongban.serve.metrics import heartbeat

    dispatcher.mark_dispatching()
    node = options.node or None
    while not stopping.is_set():
        moved, pause = False, options.dispatch_interval
        try:
            close_old_connections()
            for _ in range(100):  # until nothing moves, as handlers send further messages
                stats = dispatcher.dispatch_once(node=node)
                moved = moved or not stats.idle
                if stats.idle or stopping.is_set():
                    break
        except Exception:  # a database that went away, say: keep the role alive, try again shortly
            log.exception("dispatch round failed")
            moved, pause = False, FAILURE_PAUSE
        heartbeat("dispatch")
        if not moved:
            stopping.wait(pause)


def run_consume(options: NodeOptions, stopping: Stopping) -> None:
    from django.conf import settings
    from django.db import close_old_connections

    from tongban.exchange.rabbitmq import consume
    from tongban.serve.metrics import heartbeat

    def idle() -> None:
        close_old_connections()
        heartbeat("consume")

    while not stopping.is_set():
        try:
            consume(
                options.node,
                settings.TONGBAN_AMQP_URL,
                namespace=settings.TONGBAN_AMQP_NAMESPACE,
                stop=stopping.is_set,
                on_idle=idle,
            )
        except Exception as exc:  # the broker is down: unacked messages wait in the queue; retry
            log.warning("consumer lost the broker (%s); reconnecting in 2 s", exc.__class__.__name__)
            stopping.wait(FAILURE_PAUSE)


def run_sweep(options: NodeOptions, stopping: Stopping) -> None:
    from django.db import close_old_connections

    from tongban.cases.sweep import sweep
    from tongban.serve.metrics import heartbeat

    while not stopping.is_set():
        try:
            close_old_connections()
            sweep(node=options.node or None)
        except Exception:
            log.exception("sweep failed")
        heartbeat("sweep")
        stopping.wait(options.sweep_interval)


# ---------------------------------------------------------------- web


def run_web(options: NodeOptions) -> None:
    from tongban.serve.web import serve

    serve(options)


# ---------------------------------------------------------------- all


@dataclass
class Child:
    role: str
    process: subprocess.Popen | None = None
    started: float = 0.0
    restarts: int = 0
    backoff: float = 1.0
    due: float = 0.0  # when a dead child may start again


@dataclass
class Supervisor:
    """`--role all`: one process per role, each restarted when it dies (after a growing pause while it
    keeps dying at once), all stopped together on SIGTERM."""

    options: NodeOptions
    roles: list[str]
    argv: Callable[[str], list[str]]
    env: dict[str, str] = field(default_factory=dict)
    children: dict[str, Child] = field(default_factory=dict)
    clock: Callable[[], float] = time.monotonic  # injected in tests

    def run(self, stopping: Stopping) -> None:
        for role in self.roles:
            self.children[role] = Child(role)
            self._start(self.children[role])
        while not stopping.wait(0.5):
            for child in self.children.values():
                self._tend(child)
        self.stop()

    def _start(self, child: Child) -> None:
        child.process = subprocess.Popen(self.argv(child.role), env=self.env)
        child.started = self.clock()
        log.info(
            "started %s",
            child.role,
            extra={"event": "role_started", "role_name": child.role, "pid": child.process.pid},
        )

    def _tend(self, child: Child) -> None:
        if child.process is not None:
            code = child.process.poll()
            if code is None:
                if self.clock() - child.started > 60:
                    child.backoff = 1.0  # it has lived a while: the next death restarts it at once
                return
            from tongban.serve.metrics import mark_process_dead

            mark_process_dead(child.process.pid)
            log.warning(
                "%s exited with %s; restarting in %.0f s",
                child.role,
                code,
                child.backoff,
                extra={"event": "role_exited", "role_name": child.role, "exit_code": code},
            )
            child.process = None
            child.due = self.clock() + child.backoff
            child.backoff = min(child.backoff * 2, 30.0)
        if self.clock() >= child.due:
            child.restarts += 1
            self._start(child)

    def stop(self) -> None:
        running = [c.process for c in self.children.values() if c.process and c.process.poll() is None]
        for process in running:
            process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + self.options.graceful_timeout + 5
        for process in running:
            try:
                process.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def metrics_dir(data_dir: Path, node: str) -> Path:
    return data_dir / "metrics" / (node or "embedded")


def prepare_metrics_env() -> None:
    """Before anything imports prometheus-client (it picks its multiprocess mode at import): the
    node's metrics folder, shared by all its roles, from the same variables the settings read."""
    if METRICS_ENV in os.environ:
        Path(os.environ[METRICS_ENV]).mkdir(parents=True, exist_ok=True)
        return
    data_dir = Path(os.environ.get("TONGBAN_DATA_DIR", Path.cwd() / "var")).resolve()
    path = metrics_dir(data_dir, os.environ.get("TONGBAN_NODE", ""))
    path.mkdir(parents=True, exist_ok=True)
    os.environ[METRICS_ENV] = str(path)


def prepare_node(options: NodeOptions) -> None:
    """First start of the embedded default: every node gets its signing key (a node of a federation
    has its keys made and distributed by the operator, `tongban keys`)."""
    from django.conf import settings

    if settings.TONGBAN_NODE:
        return
    from tongban.exchange import trust
    from tongban.regions.models import Node

    made = trust.ensure_keys(list(Node.objects.filter(active=True).values_list("code", flat=True)))
    if made:
        log.warning("made signing keys for %d nodes", made)


def fresh_metrics_dir(path: Path) -> Path:
    """prometheus-client's multiprocess files of the node's last run would count as this run's."""
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True, exist_ok=True)
    return path


def child_argv(options: NodeOptions) -> Callable[[str], list[str]]:
    def argv(role: str) -> list[str]:
        line = [sys.executable, "-m", "tongban.cli", "node", "--role", role, "--host", options.host]
        line += ["--port", str(options.port), "--workers", str(options.workers), "--threads", str(options.threads)]
        return [*line, "--node", options.node] if options.node else line

    return argv
