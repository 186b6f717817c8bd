"""Conversations, their messages (with a strictly increasing per-conversation
`seq`) and the audit trail of everything that happened to a conversation."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Channel(models.TextChoices):
    WIDGET = "widget", _("Web chat")
    MARKETPLACE = "marketplace", _("Marketplace")
    EMAIL = "email", _("Email")
    PHONE = "phone", _("Phone")
    API = "api", _("API")


class Status(models.TextChoices):
    BOT = "bot", _("With the bot")
    QUEUED = "queued", _("Waiting in queue")
    OPEN = "open", _("Open")
    CLOSED = "closed", _("Closed")


class SenderType(models.TextChoices):
    CUSTOMER = "customer", _("Customer")
    AGENT = "agent", _("Agent")
    BOT = "bot", _("Bot")
    SYSTEM = "system", _("System")


class Conversation(models.Model):
    shop = models.ForeignKey("accounts.Shop", on_delete=models.CASCADE)
    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.CASCADE, related_name="conversations"
    )
    channel = models.CharField(max_length=20, choices=Channel.choices, default=Channel.WIDGET)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    group = models.ForeignKey(
        "routing.SkillGroup", null=True, blank=True, on_delete=models.SET_NULL
    )
    agent = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="assigned_conversations",
    )
    last_seq = models.PositiveIntegerField(default=0)
    unread_count = models.PositiveIntegerField(default=0)
    # Oldest customer message not yet answered (null when nothing waits).
    waiting_since = models.DateTimeField(null=True, blank=True)
    first_customer_message_at = models.DateTimeField(null=True, blank=True)
    first_response_at = models.DateTimeField(null=True, blank=True)
    queued_at = models.DateTimeField(null=True, blank=True)
    assigned_at = models.DateTimeField(null=True, blank=True)
    hold_until = models.DateTimeField(null=True, blank=True)
    last_message_at = models.DateTimeField(null=True, blank=True)
    last_message_preview = models.CharField(max_length=120, blank=True)
    created_at = models.DateTimeField()
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("conversation")
        verbose_name_plural = _("conversations")
        indexes = [
            models.Index(fields=["agent", "status"]),
            models.Index(fields=["customer", "status"]),
            models.Index(fields=["shop", "status"]),
        ]

    def __str__(self) -> str:
        return f"#{self.id} {self.status}"


class Message(models.Model):
    conversation = models.ForeignKey(
        Conversation, on_delete=models.CASCADE, related_name="messages"
    )
    seq = models.PositiveIntegerField()
    client_id = models.CharField(max_length=64)
    sender_type = models.CharField(max_length=10, choices=SenderType.choices)
    sender = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    sender_name = models.CharField(max_length=120, blank=True)
    text = models.TextField()
    hold_seconds = models.PositiveIntegerField(null=True, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        verbose_name = _("message")
        verbose_name_plural = _("messages")
        constraints = [
            models.UniqueConstraint(fields=["conversation", "seq"], name="unique_message_seq"),
            models.UniqueConstraint(
                fields=["conversation", "sender_type", "client_id"], name="unique_client_id"
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.conversation_id}/{self.seq}"


class EventKind(models.TextChoices):
    OPENED = "opened", _("Opened")
    QUEUED = "queued", _("Queued")
    ASSIGNED = "assigned", _("Assigned")
    TRANSFERRED = "transferred", _("Transferred")
    CLOSED = "closed", _("Closed")
    READ = "read", _("Read")


class ConversationEvent(models.Model):
    """Audit trail: written by the action that made the change, in its transaction."""

    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=20, choices=EventKind.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    agent = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    group = models.ForeignKey(
        "routing.SkillGroup", null=True, blank=True, on_delete=models.SET_NULL
    )
    note = models.TextField(blank=True)
    data = models.JSONField(default=dict, blank=True)
    at = models.DateTimeField()

    class Meta:
        verbose_name = _("conversation event")
        verbose_name_plural = _("conversation events")
        indexes = [models.Index(fields=["conversation", "at"])]

    def __str__(self) -> str:
        return f"#{self.conversation_id} {self.kind}"
