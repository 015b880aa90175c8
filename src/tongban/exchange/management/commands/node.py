"""`tongban node --node 370000 --port 8137`: one node as one process — web, dispatcher and consumer."""

from __future__ import annotations

import threading
import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.core.servers.basehttp import WSGIServer, run
from django.core.wsgi import get_wsgi_application

from tongban.exchange.dispatcher import start_background


class Command(BaseCommand):
    help = "以单个进程运行一个节点：网页与接口、发件箱调度器（含定时任务）以及 RabbitMQ 消息接收。"

    def add_arguments(self, parser):
        parser.add_argument("--node", required=True, help="节点编码，须与 TONGBAN_NODE 一致")
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)

    def handle(self, *args, node, host, port, **options):
        if node != settings.TONGBAN_NODE:
            raise CommandError(f"请以 TONGBAN_NODE={node} 启动：一个进程只服务一个节点，并使用该节点自己的数据库。")
        start_background(node=node)
        if settings.TONGBAN_TRANSPORT == "rabbitmq":
            threading.Thread(target=self._consume_forever, args=(node,), name="tongban-consumer", daemon=True).start()
        self.stdout.write(f"节点 {node} 已启动：http://{host}:{port}/ （消息传输：{settings.TONGBAN_TRANSPORT}）")
        run(host, port, get_wsgi_application(), threading=True, server_cls=WSGIServer)

    def _consume_forever(self, node: str) -> None:
        from django.db import close_old_connections

        from tongban.exchange.dispatcher import wake
        from tongban.exchange.rabbitmq import consume

        while True:
            try:
                consume(
                    node,
                    settings.TONGBAN_AMQP_URL,
                    namespace=settings.TONGBAN_AMQP_NAMESPACE,
                    on_idle=close_old_connections,
                )
            except Exception as exc:  # the broker is down: keep trying; unacked messages wait in the queue
                self.stderr.write(f"消息接收中断，5 秒后重连：{exc}")
                time.sleep(5)
            wake()
