from django.contrib import admin, messages

from tongban.exchange.models import InboxMessage, OutboxMessage


class ReadOnlyAdmin(admin.ModelAdmin):
    """Messages are written by the platform; operators watch them and may only resend dead ones."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


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
