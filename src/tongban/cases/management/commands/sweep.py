from django.core.management.base import BaseCommand

from tongban.cases.sweep import sweep


class Command(BaseCommand):
    help = "执行定时任务：逾期视为受理（行政许可法第三十二条）、刷新预警和暂估期限。"

    def add_arguments(self, parser):
        parser.add_argument("--node", help="只处理该节点保存的办件")

    def handle(self, *args, **options):
        stats = sweep(node=options.get("node"))
        self.stdout.write(
            f"视为受理 {stats.deemed_accepted} 件，更新期限或预警 {stats.refreshed} 件，交换超时 {stats.timed_out} 个。"
        )
