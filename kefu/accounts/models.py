"""Shops (tenants), agents' profiles, integrators' API tokens, login lockout."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

DEFAULT_GREETING = "您好！感谢您联系客服中心，很高兴为您服务。请问有什么可以帮助您的？"
DEFAULT_HOLDING_TEXT = "感谢您的耐心等待，我正在为您核实相关信息，请稍候片刻。"


class Platform(models.TextChoices):
    TAOBAO = "taobao", _("Taobao")
    TMALL = "tmall", _("Tmall")
    JD = "jd", _("JD")
    PDD = "pdd", _("Pinduoduo")
    OWN_SITE = "own_site", _("Own site")
    OTHER = "other", _("Other")


class Shop(models.Model):
    """A shop and its service rules; every rule here is per shop, seeded with the
    values of the service manuals."""

    slug = models.SlugField(_("slug"), unique=True)
    name = models.CharField(_("name"), max_length=120)
    platform = models.CharField(_("platform"), max_length=20, choices=Platform.choices)
    time_zone = models.CharField(_("time zone"), max_length=64, default="Asia/Shanghai")
    greeting = models.TextField(_("greeting"), default=DEFAULT_GREETING)
    holding_text = models.TextField(_("holding message"), default=DEFAULT_HOLDING_TEXT)
    sticky_hours = models.PositiveIntegerField(_("sticky agent window (hours)"), default=24)
    first_reply_target_seconds = models.PositiveIntegerField(
        _("first reply target (seconds)"), default=30
    )
    reply_alert_seconds = models.PositiveIntegerField(_("unanswered alert (seconds)"), default=100)
    max_message_chars = models.PositiveIntegerField(_("longest message (characters)"), default=5000)
    new_conversations_per_ip = models.PositiveIntegerField(_("new conversations per IP"), default=6)
    new_conversations_window_seconds = models.PositiveIntegerField(
        _("window for new conversations (seconds)"), default=12 * 3600
    )
    messages_per_visitor = models.PositiveIntegerField(_("messages per visitor"), default=20)
    messages_window_seconds = models.PositiveIntegerField(
        _("window for messages (seconds)"), default=10
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("shop")
        verbose_name_plural = _("shops")

    def __str__(self) -> str:
        return self.name


class Role(models.TextChoices):
    AGENT = "agent", _("Agent")
    SUPERVISOR = "supervisor", _("Supervisor")
    QA_REVIEWER = "qa_reviewer", _("QA reviewer")
    TRAINER = "trainer", _("Trainer")
    ADMIN = "admin", _("Administrator")


class AgentLevel(models.TextChoices):
    JUNIOR = "junior", _("Junior agent")
    SENIOR = "senior", _("Senior agent")
    ADVANCED = "advanced", _("Advanced agent")


class AgentStatus(models.TextChoices):
    ONLINE = "online", _("Online")
    BUSY = "busy", _("Busy")
    AWAY = "away", _("Away")
    OFFLINE = "offline", _("Offline")


class AgentProfile(models.Model):
    """An agent's working state. `active_count` is kept by routing in the same
    transaction as each assignment, so capacity checks never count rows."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="agent_profile"
    )
    display_name = models.CharField(_("display name"), max_length=60)
    role = models.CharField(_("role"), max_length=20, choices=Role.choices, default=Role.AGENT)
    level = models.CharField(
        _("level"), max_length=20, choices=AgentLevel.choices, default=AgentLevel.JUNIOR
    )
    shops = models.ManyToManyField(Shop, related_name="agents", verbose_name=_("shops"))
    skill_groups = models.ManyToManyField(
        "routing.SkillGroup", blank=True, related_name="agents", verbose_name=_("skill groups")
    )
    max_concurrent = models.PositiveIntegerField(_("max concurrent conversations"), default=8)
    status = models.CharField(
        _("status"), max_length=10, choices=AgentStatus.choices, default=AgentStatus.OFFLINE
    )
    status_changed_at = models.DateTimeField(null=True, blank=True)
    active_count = models.PositiveIntegerField(_("open conversations"), default=0)
    last_assigned_at = models.DateTimeField(null=True, blank=True)
    # Heartbeat of the agent's workbench; an agent who stays unseen is set offline.
    last_seen_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("agent profile")
        verbose_name_plural = _("agent profiles")
        indexes = [models.Index(fields=["status"])]

    def __str__(self) -> str:
        return self.display_name

    @property
    def is_supervisor(self) -> bool:
        return self.role in (Role.SUPERVISOR, Role.ADMIN)

    @property
    def free_capacity(self) -> int:
        return max(self.max_concurrent - self.active_count, 0)


class AgentStatusChange(models.Model):
    """Status timeline for worked-hours and availability reports."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
    status = models.CharField(max_length=10, choices=AgentStatus.choices)
    at = models.DateTimeField()

    class Meta:
        verbose_name = _("agent status change")
        verbose_name_plural = _("agent status changes")
        indexes = [models.Index(fields=["user", "at"])]

    def __str__(self) -> str:
        return f"{self.user_id} {self.status} {self.at:%Y-%m-%d %H:%M}"


class ApiToken(models.Model):
    """An integrator's token, scoped to one shop. Only a hash is stored."""

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(_("name"), max_length=80)
    prefix = models.CharField(max_length=12, db_index=True)
    key_hash = models.CharField(max_length=64, unique=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"


class LoginFailure(models.Model):
    """Failed logins by user name; enough of them in the window lock the account."""

    username = models.CharField(max_length=150, db_index=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    at = models.DateTimeField(db_index=True)

    class Meta:
        verbose_name = _("failed login")
        verbose_name_plural = _("failed logins")

    def __str__(self) -> str:
        return f"{self.username} {self.at:%Y-%m-%d %H:%M}"


class LoginLock(models.Model):
    username = models.CharField(max_length=150, unique=True)
    locked_until = models.DateTimeField()
    unlocked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )

    class Meta:
        verbose_name = _("login lock")
        verbose_name_plural = _("login locks")

    def __str__(self) -> str:
        return self.username
