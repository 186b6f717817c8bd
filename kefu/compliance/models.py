"""The guard's rules and settings per shop, every finding it made on a send,
supervisors' overrides, and the append-only audit log (reveals of buyer data,
overrides, permission changes, exports)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from kefu.accounts.models import AgentLevel


class Severity(models.TextChoices):
    BLOCK = "block", _("Block")
    WARN = "warn", _("Warn")
    LOG = "log", _("Log only")


class RuleKind(models.TextChoices):
    PHRASES = "phrases", _("Phrase list")
    REGEX = "regex", _("Regular expressions")
    DETECTOR = "detector", _("Detector")


class Family(models.TextChoices):
    DANGER_PHRASE = "danger_phrase", _("Danger phrases")
    ABSOLUTE_CLAIM = "absolute_claim", _("Absolute claims (Advertising Law)")
    IMPOLITE = "impolite", _("Impolite or insulting language")
    OFF_PLATFORM = "off_platform", _("Off-platform trading")
    CARD_FEE = "card_fee", _("Credit-card fee")
    FREE_SHIPPING = "free_shipping", _("Refusing advertised free shipping")
    INVOICE = "invoice", _("Invoice differs from the goods")
    AUTHORITY = "authority", _("Concession beyond authority")
    REVIEW_BRIBE = "review_bribe", _("Compensation for reviews")
    SHIPPING_PROMISE = "shipping_promise", _("Shipping later than the platform limit")
    PRIVACY = "privacy", _("Privacy leak")
    CUSTOM = "custom", _("Shop rule")


class FreeShipping(models.TextChoices):
    UNKNOWN = "unknown", _("Not set")
    NONE = "none", _("No free shipping advertised")
    MAINLAND = "mainland", _("Free shipping to all of mainland China (remote regions included)")
    EXCEPT_REMOTE = "except_remote", _("Free shipping except the remote regions listed")


def default_remote_regions() -> list[str]:
    return ["新疆", "西藏", "青海", "内蒙古", "宁夏", "甘肃", "海南"]


def default_authority_limits() -> dict[str, dict[str, float]]:
    """Largest extra discount (percent off) and compensation (yuan) each level
    may promise on its own; beyond it needs approval. The seeds only say
    "no unauthorised discounts; price changes need a supervisor" — these
    defaults are ours, and each shop sets its own."""
    return {
        AgentLevel.JUNIOR: {"discount_percent": 5, "compensation_yuan": 10},
        AgentLevel.SENIOR: {"discount_percent": 10, "compensation_yuan": 30},
        AgentLevel.ADVANCED: {"discount_percent": 15, "compensation_yuan": 50},
        "supervisor": {"discount_percent": 20, "compensation_yuan": 200},
    }


class ComplianceSettings(models.Model):
    shop = models.OneToOneField(
        "accounts.Shop", on_delete=models.CASCADE, related_name="compliance_settings"
    )
    free_shipping = models.CharField(
        _("free shipping advertised"),
        max_length=16,
        choices=FreeShipping.choices,
        default=FreeShipping.UNKNOWN,
    )
    remote_regions = models.JSONField(
        _("remote regions"), default=default_remote_regions, blank=True
    )
    ship_within_hours = models.PositiveIntegerField(
        _("shipping limit (hours)"),
        default=72,
        help_text=_("The platform's limit: promising a later shipment needs the buyer's consent."),
    )
    authority_limits = models.JSONField(
        _("authority limits"),
        default=default_authority_limits,
        help_text=_("Per agent level: the largest discount (percent) and compensation (yuan)."),
    )
    # Bumped on every change of the shop's rules or settings: each process
    # rebuilds its compiled guard when it sees a new value.
    revision = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("compliance settings")
        verbose_name_plural = _("compliance settings")

    def __str__(self) -> str:
        return str(self.shop)


class ComplianceRule(models.Model):
    shop = models.ForeignKey(
        "accounts.Shop", on_delete=models.CASCADE, related_name="compliance_rules"
    )
    code = models.SlugField(_("code"), max_length=60)
    family = models.CharField(_("family"), max_length=20, choices=Family.choices)
    kind = models.CharField(_("kind"), max_length=10, choices=RuleKind.choices)
    severity = models.CharField(_("severity"), max_length=5, choices=Severity.choices)
    enabled = models.BooleanField(_("enabled"), default=True)
    platform_rule = models.BooleanField(
        _("platform rule"), default=False, help_text=_("Breaking it costs the shop points.")
    )
    penalty_points = models.PositiveSmallIntegerField(_("penalty points"), default=0)
    title = models.CharField(_("title"), max_length=120)
    title_en = models.CharField(_("title (English)"), max_length=120, blank=True)
    explanation = models.TextField(_("explanation"))
    explanation_en = models.TextField(_("explanation (English)"), blank=True)
    phrases = models.TextField(
        _("phrases"),
        blank=True,
        help_text=_('One per line; "phrase => replacement" gives a suggested rewrite.'),
    )
    patterns = models.TextField(
        _("regular expressions"), blank=True, help_text=_("One RE2 expression per line.")
    )
    exceptions = models.TextField(
        _("exceptions"),
        blank=True,
        help_text=_("One phrase per line: a match inside one of these passes (第一次, 不一定)."),
    )
    detector = models.CharField(_("detector"), max_length=40, blank=True)
    suggestion = models.CharField(_("suggestion"), max_length=300, blank=True)
    examples_match = models.TextField(
        _("examples that must match"), blank=True, help_text=_("One message per line.")
    )
    examples_pass = models.TextField(
        _("examples that must pass"), blank=True, help_text=_("One message per line.")
    )
    sources = models.TextField(_("sources"), blank=True)
    builtin = models.BooleanField(_("shipped with Kefu"), default=False, editable=False)
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("compliance rule")
        verbose_name_plural = _("compliance rules")
        ordering = ["family", "code"]
        constraints = [
            models.UniqueConstraint(fields=["shop", "code"], name="unique_rule_code_per_shop")
        ]

    def __str__(self) -> str:
        return f"{self.code} ({self.get_severity_display()})"


class Action(models.TextChoices):
    SENT = "sent", _("Sent with a warning")
    BLOCKED = "blocked", _("Blocked")
    OVERRIDDEN = "overridden", _("Sent after a supervisor's override")
    HANDED_OFF = "handed_off", _("Bot answer withheld, handed to a person")


class Violation(models.Model):
    """One finding on one send attempt (agent or bot). Checks while typing are
    not stored; only what was sent or refused."""

    shop = models.ForeignKey("accounts.Shop", on_delete=models.CASCADE, related_name="+")
    conversation = models.ForeignKey(
        "inbox.Conversation", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    agent = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    sender_type = models.CharField(max_length=10)
    client_id = models.CharField(max_length=64, blank=True)
    message_seq = models.PositiveIntegerField(null=True, blank=True)
    rule = models.ForeignKey(
        ComplianceRule, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    rule_code = models.CharField(max_length=60)
    family = models.CharField(max_length=20, choices=Family.choices)
    severity = models.CharField(max_length=5, choices=Severity.choices)
    action = models.CharField(max_length=12, choices=Action.choices)
    points = models.PositiveSmallIntegerField(default=0)
    # The offending words (buyer data masked), never the whole message.
    excerpt = models.CharField(max_length=200, blank=True)
    at = models.DateTimeField(db_index=True)

    class Meta:
        verbose_name = _("violation")
        verbose_name_plural = _("violations")
        indexes = [
            models.Index(fields=["shop", "at"]),
            models.Index(fields=["agent", "at"]),
        ]
        constraints = [
            # A retried send (same client id) records its findings once.
            models.UniqueConstraint(
                fields=["conversation", "sender_type", "client_id", "rule_code", "action"],
                condition=~models.Q(client_id=""),
                name="unique_violation_per_send",
            )
        ]

    def __str__(self) -> str:
        return f"{self.rule_code} · {self.action}"


class OverrideStatus(models.TextChoices):
    PENDING = "pending", _("Waiting for a supervisor")
    ALLOWED = "allowed", _("Allowed")
    REFUSED = "refused", _("Refused")


class OverrideRequest(models.Model):
    """An agent's blocked send, waiting for a supervisor to allow it (with a
    reason, audited) or refuse it."""

    shop = models.ForeignKey("accounts.Shop", on_delete=models.CASCADE, related_name="+")
    conversation = models.ForeignKey(
        "inbox.Conversation", on_delete=models.CASCADE, related_name="+"
    )
    agent = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    client_id = models.CharField(max_length=64)
    text = models.TextField()
    findings = models.JSONField(default=list)
    agent_reason = models.CharField(max_length=300, blank=True)
    status = models.CharField(
        max_length=10, choices=OverrideStatus.choices, default=OverrideStatus.PENDING
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decision_reason = models.CharField(max_length=300, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    message_seq = models.PositiveIntegerField(null=True, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        verbose_name = _("override request")
        verbose_name_plural = _("override requests")
        constraints = [
            models.UniqueConstraint(
                fields=["conversation", "agent", "client_id"], name="unique_override_per_send"
            )
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.status}"


class AuditAction(models.TextChoices):
    REVEAL = "reveal", _("Revealed buyer data")
    OVERRIDE = "override", _("Allowed a blocked send")
    REFUSE_OVERRIDE = "refuse_override", _("Refused a blocked send")
    PERMISSION = "permission", _("Changed permissions")
    EXPORT = "export", _("Exported data")
    RULE = "rule", _("Changed a compliance rule or setting")
    ORDER_CHANGE = "order_change", _("Changed an order")
    ORDER_APPROVAL = "order_approval", _("Decided an order change or concession")
    CASE = "case", _("Changed an after-sales case")


class AppendOnly(Exception):
    pass


class AuditLog(models.Model):
    """Append-only: rows are never changed or deleted (the model refuses, and
    database triggers refuse it for raw SQL too)."""

    # Plain ids, not foreign keys: deleting a user, customer or shop must
    # never rewrite (or be blocked by) the log.
    shop_id = models.PositiveIntegerField(null=True, blank=True, db_index=True)
    actor_id = models.PositiveIntegerField(null=True, blank=True)
    actor_name = models.CharField(_("who"), max_length=150, blank=True)
    action = models.CharField(_("action"), max_length=20, choices=AuditAction.choices)
    customer_id = models.PositiveIntegerField(null=True, blank=True, db_index=True)
    subject = models.CharField(_("subject"), max_length=200, blank=True)
    reason = models.CharField(_("reason"), max_length=300, blank=True)
    data = models.JSONField(default=dict, blank=True)
    at = models.DateTimeField(db_index=True)

    class Meta:
        verbose_name = _("audit log entry")
        verbose_name_plural = _("audit log")
        ordering = ["-at", "-id"]
        permissions = [
            ("reveal_buyer_data", _("Can reveal buyers' phone numbers, addresses and IDs")),
            ("allow_blocked_send", _("Can allow a send the compliance guard blocked")),
            ("view_audit_log", _("Can search the audit log")),
        ]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor_name} {self.action}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise AppendOnly("audit log entries cannot be changed")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnly("audit log entries cannot be deleted")
