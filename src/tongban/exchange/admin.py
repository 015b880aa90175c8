from django.contrib import admin

from tongban.exchange.models import InboxMessage, OutboxMessage


@admin.register(OutboxMessage)
class OutboxMessageAdmin(admin.ModelAdmin):
    list_display = ("created_at", "type", "from_node", "to_node", "case_no", "status", "attempts", "last_error")
    list_filter = ("status", "type", "from_node", "to_node")
    search_fields = ("case_no", "message_id")
    readonly_fields = [f.name for f in OutboxMessage._meta.fields]


@admin.register(InboxMessage)
class InboxMessageAdmin(admin.ModelAdmin):
    list_display = ("received_at", "type", "from_node", "node", "case_no", "status", "attempts", "last_error")
    list_filter = ("status", "type", "node", "from_node")
    search_fields = ("case_no", "message_id")
    readonly_fields = [f.name for f in InboxMessage._meta.fields]
