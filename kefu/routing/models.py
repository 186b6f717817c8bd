"""Skill groups, the shop's routing rules and the waiting queue."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _


def validate_pattern(pattern: str) -> None:
    """A rule's expression runs on every new conversation's first message:
    it must compile for RE2 (linear time, so no pattern can hang routing;
    backreferences and lookarounds are refused here, when the rule is saved)."""
    if not pattern:
        return
    from kefu.compliance.guard.engine import RuleError, compile_regex

    try:
        compile_regex(pattern)
    except RuleError as error:
        raise ValidationError(
            gettext("Invalid regular expression: %(error)s") % {"error": error}
        ) from error


class GroupCode(models.TextChoices):
    PRE_SALES = "pre_sales", _("Pre-sales group")
    AFTER_SALES = "after_sales", _("After-sales group")
    OUTBOUND = "outbound", _("Outbound-call group")
    RETURNS = "returns", _("Returns specialists")
    COMPLAINTS = "complaints", _("Complaint escalation")
    VIP = "vip", _("VIP service")


class SkillGroup(models.Model):
    shop = models.ForeignKey(
        "accounts.Shop", on_delete=models.CASCADE, related_name="groups", verbose_name=_("shop")
    )
    code = models.CharField(_("code"), max_length=30)
    name = models.CharField(_("name"), max_length=60)

    class Meta:
        verbose_name = _("skill group")
        verbose_name_plural = _("skill groups")
        constraints = [models.UniqueConstraint(fields=["shop", "code"], name="unique_group_code")]

    def __str__(self) -> str:
        return self.name


class RoutingRule(models.Model):
    """Chooses a group from the first customer message, tier and channel. Rules
    are tried in `position` order; the first whose every given condition holds wins."""

    shop = models.ForeignKey(
        "accounts.Shop",
        on_delete=models.CASCADE,
        related_name="routing_rules",
        verbose_name=_("shop"),
    )
    name = models.CharField(_("name"), max_length=80)
    position = models.PositiveIntegerField(_("order"), default=100)
    keywords = models.TextField(
        _("keywords"), blank=True, help_text=_("One per line or comma-separated; any may match.")
    )
    pattern = models.CharField(
        _("regular expression"),
        max_length=300,
        blank=True,
        validators=[validate_pattern],
        help_text=_("RE2 syntax: no backreferences or lookarounds."),
    )
    tier = models.CharField(_("customer tier"), max_length=10, blank=True)
    channel = models.CharField(_("channel"), max_length=20, blank=True)
    risk = models.BooleanField(
        _("customer on the risk list"),
        default=False,
        help_text=_("Only for customers on the shop's risk list (orders and after-sales)."),
    )
    group = models.ForeignKey(SkillGroup, on_delete=models.CASCADE, verbose_name=_("group"))
    enabled = models.BooleanField(_("enabled"), default=True)

    class Meta:
        ordering = ["position", "id"]
        verbose_name = _("routing rule")
        verbose_name_plural = _("routing rules")

    def __str__(self) -> str:
        return self.name


class QueueEntry(models.Model):
    """A conversation waiting for an agent of `group`: VIP first, then oldest."""

    conversation = models.OneToOneField(
        "inbox.Conversation", on_delete=models.CASCADE, related_name="queue_entry"
    )
    shop = models.ForeignKey("accounts.Shop", on_delete=models.CASCADE)
    group = models.ForeignKey(SkillGroup, on_delete=models.CASCADE)
    vip = models.BooleanField(default=False)
    enqueued_at = models.DateTimeField()

    class Meta:
        verbose_name = _("queue entry")
        verbose_name_plural = _("queue entries")
        indexes = [models.Index(fields=["group", "-vip", "enqueued_at"])]

    def __str__(self) -> str:
        return f"#{self.conversation_id} in {self.group_id}"
