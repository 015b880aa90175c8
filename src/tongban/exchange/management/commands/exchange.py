"""`tongban exchange status` and `tongban exchange retry <message-id>`: what operators need to see and do."""

from __future__ import annotations

import uuid

from django.core.management.base import BaseCommand, CommandError
from django.db.models import Count

from tongban.exchange import exchanges
from tongban.exchange.models import Exchange, InboxMessage, OutboxMessage


class Command(BaseCommand):
    help = "查看消息交换状态（卡住、失败、死信、超时），或重新发送一个超时的交换。"

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="verb", required=True)
        status = sub.add_parser("status", help="各节点发件箱、收件箱与交换的状态")
        status.add_argument("--node", help="只看该节点")
        retry = sub.add_parser("retry", help="重新发送一个未答复或超时的交换")
        retry.add_argument("message_id")

    def handle(self, *args, verb, **options):
        if verb == "retry":
            return self._retry(options["message_id"])
        return self._status(options.get("node"))

    def _status(self, node: str | None) -> None:
        tables = (
            ("发件箱", OutboxMessage.objects.all(), "from_node", "status"),
            ("收件箱", InboxMessage.objects.all(), "node", "status"),
            ("交换", Exchange.objects.all(), "from_node", "state"),
        )
        for label, rows, node_field, state_field in tables:
            if node:
                rows = rows.filter(**{node_field: node})
            counts = rows.values(node_field, state_field).annotate(n=Count("id")).order_by(node_field, state_field)
            self.stdout.write(f"{label}：")
            for row in counts:
                self.stdout.write(f"  {row[node_field]}  {row[state_field]:<10} {row['n']}")
        stuck = OutboxMessage.objects.filter(status__in=["failed", "dead"])
        failed = InboxMessage.objects.filter(status="failed")
        late = Exchange.objects.filter(state="timed_out")
        if node:
            stuck, failed, late = stuck.filter(from_node=node), failed.filter(node=node), late.filter(from_node=node)
        for message in stuck[:20]:
            self.stdout.write(f"发送受阻 {message.message_id} {message.type} → {message.to_node}：{message.last_error}")
        for message in failed[:20]:
            self.stdout.write(
                f"处理失败 {message.message_id} {message.type} ← {message.from_node}：{message.last_error}"
            )
        for exchange in late[:20]:
            self.stdout.write(
                f"交换超时 {exchange.message_id} {exchange.type} → {exchange.to_node} 办件 {exchange.case_no}"
            )

    def _retry(self, message_id: str) -> None:
        try:
            exchange = Exchange.objects.get(message_id=uuid.UUID(message_id))
        except (ValueError, Exchange.DoesNotExist):
            raise CommandError(f"没有标识为 {message_id} 的交换。") from None
        exchange = exchanges.retry(exchange)
        self.stdout.write(f"已重新发送，答复期限 {exchange.deadline:%Y-%m-%d %H:%M:%S}（第 {exchange.attempts} 次）。")
