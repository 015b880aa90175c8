from django.contrib import admin, messages

from tongban.admin_base import ReadOnlyAdmin
from tongban.exchange.models import Exchange, InboxMessage, NodeKey, OutboxMessage, TrustListDocument


@admin.register(OutboxMessage)
class OutboxMessageAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "type", "from_node", "to_node", "case_no", "status", "attempts", "last_error")
    list_filter = ("status", "type", "from_node", "to_node")
    search_fields = ("case_no", "message_id")
    actions = ["resend"]

    @admin.action(description="重新发送所选的死信或失败消息")
    def resend(self, request, queryset):
        count = queryset.filter(status__in=[OutboxMessage.Status.DEAD, OutboxMessage.Status.FAILED]).update(
            status=OutboxMessage.Status.PENDING, attempts=0, next_attempt_at=None
        )
        from tongban.exchange.dispatcher import wake

        wake()
        self.message_user(request, f"已重新排队 {count} 条消息。", messages.SUCCESS)


@admin.register(InboxMessage)
class InboxMessageAdmin(ReadOnlyAdmin):
    list_display = ("received_at", "type", "from_node", "node", "case_no", "status", "attempts", "last_error")
    list_filter = ("status", "type", "node", "from_node")
    search_fields = ("case_no", "message_id")
    actions = ["reapply"]

    @admin.action(description="重新处理所选的失败消息")
    def reapply(self, request, queryset):
        # A failed handler left nothing behind (its transaction rolled back): applying again is safe.
        count = queryset.filter(status=InboxMessage.Status.FAILED).update(
            status=InboxMessage.Status.RECEIVED, attempts=0, next_attempt_at=None
        )
        from tongban.exchange.dispatcher import wake

        wake()
        self.message_user(request, f"已重新排队 {count} 条消息。", messages.SUCCESS)


@admin.register(Exchange)
class ExchangeAdmin(ReadOnlyAdmin):
    list_display = (
        "created_at",
        "type",
        "from_node",
        "to_node",
        "case_no",
        "state",
        "deadline",
        "attempts",
        "error_code",
    )
    list_filter = ("state", "type", "from_node", "to_node")
    search_fields = ("case_no", "message_id")
    actions = ["retry"]

    @admin.action(description="重新发送所选的超时或未答复交换")
    def retry(self, request, queryset):
        from tongban.errors import DomainError
        from tongban.exchange import exchanges

        done = 0
        for exchange in queryset:
            try:
                exchanges.retry(exchange)
                done += 1
            except DomainError:
                continue  # answered or refused exchanges are over; nothing to resend
        self.message_user(request, f"已重新发送 {done} 个交换。", messages.SUCCESS)


@admin.register(NodeKey)
class NodeKeyAdmin(ReadOnlyAdmin):
    """Keys are made, rotated and revoked with `tongban keys`, which also re-signs the trust list."""

    list_display = ("node", "key_id", "status", "valid_from", "valid_until", "revoked_at")
    list_filter = ("status", "node")
    search_fields = ("key_id", "node")


@admin.register(TrustListDocument)
class TrustListDocumentAdmin(ReadOnlyAdmin):
    list_display = ("version", "issued_at", "hub_key_id", "fetched_at")
