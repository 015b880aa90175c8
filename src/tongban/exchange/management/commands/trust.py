"""`tongban trust export|import|refresh|address`: move the hub-signed trust list to a node, keep it fresh, and
publish where each node answers other nodes."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from tongban.errors import DomainError
from tongban.exchange import trust


class Command(BaseCommand):
    help = "信任列表：导出（国家平台）、导入（节点，校验国家平台签名）、刷新（从 TONGBAN_HUB_URL 获取）。"

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="verb", required=True)
        sub.add_parser("export", help="输出已签名的信任列表（JSON）")
        load = sub.add_parser("import", help="导入已签名的信任列表")
        load.add_argument("file")
        load.add_argument("--hub-public-key", help="首次导入时固定的国家平台公钥（PEM 文件）")
        sub.add_parser("refresh", help="向国家平台刷新信任列表")
        address = sub.add_parser("address", help="登记节点的服务地址并发布新版信任列表（国家平台）")
        address.add_argument("--node", required=True, help="节点代码（6 位区划代码）")
        address.add_argument("url", help="节点的根地址，如 https://tongban.hebei.gov.cn")

    def handle(self, *args, verb, **options):
        try:
            if verb == "export":
                sys.stdout.write(json.dumps(trust.export_signed(), ensure_ascii=False) + "\n")
            elif verb == "import":
                pinned = Path(options["hub_public_key"]).read_text() if options.get("hub_public_key") else None
                row = trust.import_signed(json.loads(Path(options["file"]).read_text()), pinned)
                self.stdout.write(f"已导入信任列表第 {row.version} 版。")
            elif verb == "address":
                row = trust.set_address(options["node"], options["url"])
                self.stdout.write(f"节点 {row.node} 的服务地址已登记为 {row.url}，已发布新版信任列表。")
            else:
                ok = trust.refresh()
                self.stdout.write("信任列表已刷新。" if ok else "刷新失败：继续使用缓存，直到宽限期结束。")
        except DomainError as exc:
            raise CommandError(exc.detail) from None
