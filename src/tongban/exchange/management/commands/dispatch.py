from django.core.management.base import BaseCommand

from tongban.exchange.dispatcher import run_until_idle


class Command(BaseCommand):
    help = "投递发件箱消息并处理收件箱消息，直到没有待处理的消息。"

    def add_arguments(self, parser):
        parser.add_argument("--node", help="只处理该节点的消息（联邦部署时每个节点进程各自处理）")

    def handle(self, *args, **options):
        stats = run_until_idle(node=options.get("node"))
        self.stdout.write(
            f"已投递 {stats.sent} 条，重复 {stats.duplicates} 条，已处理 {stats.applied} 条，"
            f"待重试 {stats.deferred} 条，失败 {stats.failed} 条。"
        )
