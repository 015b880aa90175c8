from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from tongban.exchange.rabbitmq import consume


class Command(BaseCommand):
    help = "从 RabbitMQ 接收发往本节点的消息：写入收件箱并处理（确认在事务提交之后）。"

    def add_arguments(self, parser):
        parser.add_argument("--node", required=True, help="本节点编码")

    def handle(self, *args, node, **options):
        if settings.TONGBAN_NODE and node != settings.TONGBAN_NODE:
            raise CommandError(f"本进程服务的节点为 {settings.TONGBAN_NODE}，不能接收节点 {node} 的消息。")
        self.stdout.write(f"正在接收节点 {node} 的消息（{settings.TONGBAN_AMQP_URL.split('@')[-1]}），按 Ctrl+C 结束。")
        consume(node, settings.TONGBAN_AMQP_URL, namespace=settings.TONGBAN_AMQP_NAMESPACE)
