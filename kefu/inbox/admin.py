from django.contrib import admin

from .models import Conversation, ConversationEvent, Message


class MessageInline(admin.TabularInline):
    model = Message
    extra = 0
    can_delete = False
    fields = ("seq", "sender_type", "sender_name", "text", "created_at")
    readonly_fields = fields


@admin.register(Conversation)
class ConversationAdmin(admin.ModelAdmin):
    list_display = (
        "id",
        "shop",
        "customer",
        "status",
        "group",
        "agent",
        "created_at",
        "first_response_at",
    )
    list_filter = ("status", "shop", "channel")
    inlines = [MessageInline]
    readonly_fields = [f.name for f in Conversation._meta.fields]

    def has_add_permission(self, request):
        return False


@admin.register(ConversationEvent)
class ConversationEventAdmin(admin.ModelAdmin):
    list_display = ("conversation", "kind", "actor", "agent", "group", "at")
    list_filter = ("kind",)
