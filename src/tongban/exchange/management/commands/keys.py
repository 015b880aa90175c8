"""`tongban keys create|rotate|revoke|show`: a node's SM2 keys and the trust list the hub signs."""

from __future__ import annotations

import datetime as dt

from django.core.management.base import BaseCommand, CommandError

from tongban.exchange import trust
from tongban.exchange.models import NodeKey
from tongban.regions.models import Node


class Command(BaseCommand):
    help = "节点 SM2 密钥：创建、轮换（新旧密钥并行一段时间）、吊销、查看；每次变更都由国家平台重新签发信任列表。"

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="verb", required=True)
        create = sub.add_parser("create", help="为节点创建密钥（--all：为尚无密钥的全部节点创建）")
        create.add_argument("--node")
        create.add_argument("--all", action="store_true")
        rotate = sub.add_parser("rotate", help="轮换节点密钥：新密钥立即启用，旧密钥在重叠期后失效")
        rotate.add_argument("--node", required=True)
        rotate.add_argument("--overlap-hours", type=float, default=24.0)
        revoke = sub.add_parser("revoke", help="吊销一个密钥（下一次信任列表刷新后生效）")
        revoke.add_argument("key_id")
        show = sub.add_parser("show", help="列出密钥")
        show.add_argument("--node")

    def handle(self, *args, verb, **options):
        getattr(self, f"_{verb}")(**options)

    def _create(self, node=None, all=False, **_):
        if all:
            nodes = [trust.HUB, *Node.objects.exclude(code=trust.HUB).values_list("code", flat=True)]
            self.stdout.write(f"已为 {trust.ensure_keys(nodes)} 个节点创建密钥。")
            return
        if not node:
            raise CommandError("请用 --node 指定节点，或用 --all。")
        row = trust.create_key(node, overlap=dt.timedelta(0))
        self.stdout.write(f"节点 {node} 新密钥 {row.key_id}")

    def _rotate(self, node, overlap_hours, **_):
        row = trust.create_key(node, overlap=dt.timedelta(hours=overlap_hours))
        self.stdout.write(f"节点 {node} 已轮换为 {row.key_id}；旧密钥在 {overlap_hours:g} 小时后失效。")

    def _revoke(self, key_id, **_):
        try:
            row = trust.revoke(key_id)
        except NodeKey.DoesNotExist:
            raise CommandError(f"没有标识为 {key_id} 的密钥。") from None
        self.stdout.write(f"已吊销节点 {row.node} 的密钥 {key_id}。")

    def _show(self, node=None, **_):
        rows = NodeKey.objects.all()
        if node:
            rows = rows.filter(node=node)
        for row in rows:
            until = f"{row.valid_until:%Y-%m-%d %H:%M}" if row.valid_until else "长期"
            self.stdout.write(
                f"{row.node}  {row.key_id}  {row.get_status_display()}  {row.valid_from:%Y-%m-%d %H:%M} → {until}"
            )
