from django.core.management.base import BaseCommand

from tongban.exchange.dispatcher import loop, run_until_idle


class Command(BaseCommand):
    help = "投递发件箱消息并处理收件箱消息，直到没有待处理的消息；--loop 则持续运行并每分钟执行定时任务。"

    def add_arguments(self, parser):
        parser.add_argument("--node", help="只处理该节点的消息（联邦部署时每个节点进程各自处理）")
        parser.add_argument("--loop", action="store_true", help="持续运行（生产环境与 WSGI 服务器并行启动）")

    def handle(self, *args, **options):
        node = options.get("node")
        if options["loop"]:
            self.stdout.write("调度器已启动：持续投递与处理消息，每分钟执行一次定时任务。按 Ctrl+C 结束。")
            loop(node=node)
            return
        stats = run_until_idle(node=node)
        self.stdout.write(
            f"已投递 {stats.sent} 条，重复 {stats.duplicates} 条，已处理 {stats.applied} 条，"
            f"待重试 {stats.deferred} 条，失败 {stats.failed} 条。"
        )
