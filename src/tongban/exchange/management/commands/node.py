"""`tongban node --role all`: serve a node — web (gunicorn), dispatcher, consumer and sweeper.

tongban node --role all --port 8000              # the embedded default: every node in one deployment
TONGBAN_NODE=370000 tongban node --node 370000 --role web --workers 4
TONGBAN_NODE=370000 tongban node --node 370000 --role dispatch
"""

from __future__ import annotations

import os

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from tongban.serve import roles
from tongban.serve.logs import ROLE_ENV


class Command(BaseCommand):
    help = (
        "运行节点的一个或全部进程角色：web（gunicorn 网页与接口）、dispatch（发件箱调度与消息处理）、"
        "consume（接收 RabbitMQ 消息）、sweep（法定时限与信任列表等定时任务）；all 监管上述全部角色并在其退出时重启。"
    )

    def add_arguments(self, parser):
        parser.add_argument("--role", choices=[*roles.ROLES, "all"], default="all", help="进程角色，默认 all")
        parser.add_argument("--node", default="", help="节点编码，须与 TONGBAN_NODE 一致；内嵌部署不填")
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--workers", type=int, default=settings.TONGBAN_WEB_WORKERS, help="web 工作进程数")
        parser.add_argument("--threads", type=int, default=settings.TONGBAN_WEB_THREADS, help="每个工作进程的线程数")

    def handle(self, *args, role, node, host, port, workers, threads, **options):
        if node != settings.TONGBAN_NODE:
            raise CommandError(
                f"请以 TONGBAN_NODE={node} 启动：一个进程只服务一个节点，并使用该节点自己的数据库。"
                if node
                else f"本进程的 TONGBAN_NODE 为 {settings.TONGBAN_NODE}，请以 --node {settings.TONGBAN_NODE} 启动。"
            )
        if workers < 1 or threads < 1:
            raise CommandError("--workers 与 --threads 至少为 1。")
        if role == "consume" and settings.TONGBAN_TRANSPORT != "rabbitmq":
            raise CommandError(
                "consume 角色只用于 RabbitMQ 传输（TONGBAN_TRANSPORT=rabbitmq）；内嵌部署由 dispatch 送达消息。"
            )
        node_options = roles.NodeOptions(
            node=node,
            host=host,
            port=port,
            workers=workers,
            threads=threads,
            dispatch_interval=settings.TONGBAN_DISPATCH_INTERVAL,
            sweep_interval=settings.TONGBAN_SWEEP_INTERVAL,
        )
        os.environ[ROLE_ENV] = role
        if role == "all":
            self._supervise(node_options)
        elif role == "web":
            roles.run_web(node_options)
        else:
            runner = {"dispatch": roles.run_dispatch, "consume": roles.run_consume, "sweep": roles.run_sweep}[role]
            runner(node_options, roles.Stopping().install())

    def _supervise(self, options: roles.NodeOptions) -> None:
        roles.prepare_node(options)
        wanted = [r for r in roles.ROLES if r != "consume" or settings.TONGBAN_TRANSPORT == "rabbitmq"]
        env = {
            **os.environ,
            roles.SUPERVISOR_ENV: str(os.getpid()),
            roles.METRICS_ENV: str(roles.fresh_metrics_dir(roles.metrics_dir(settings.DATA_DIR, options.node))),
        }
        where = f"节点 {options.node}" if options.node else "内嵌部署（全部节点）"
        self.stdout.write(
            f"{where}已启动：http://{options.host}:{options.port}/ ，进程角色 {'、'.join(wanted)}"
            f"（消息传输：{settings.TONGBAN_TRANSPORT}；就绪检查 /readyz）"
        )
        supervisor = roles.Supervisor(options, wanted, roles.child_argv(options), env)
        supervisor.run(roles.Stopping().install())
