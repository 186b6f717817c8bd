"""Buyers and their identities on each channel."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Tier(models.TextChoices):
    NEW = "new", _("New customer")
    REGULAR = "regular", _("Regular customer")
    VIP = "vip", _("VIP")


class Customer(models.Model):
    shop = models.ForeignKey(
        "accounts.Shop", on_delete=models.CASCADE, related_name="customers", verbose_name=_("shop")
    )
    name = models.CharField(_("name"), max_length=120)
    tier = models.CharField(_("tier"), max_length=10, choices=Tier.choices, default=Tier.NEW)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="owned_customers",
        verbose_name=_("dedicated owner"),
    )
    tags = models.JSONField(_("tags"), default=list, blank=True)
    notes = models.TextField(_("notes"), blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("customer")
        verbose_name_plural = _("customers")

    def __str__(self) -> str:
        return self.name


class IdentityKind(models.TextChoices):
    MARKETPLACE = "marketplace", _("Marketplace buyer account")
    VISITOR = "visitor", _("Web visitor")
    EMAIL = "email", _("Email address")
    PHONE = "phone", _("Phone number")


class CustomerIdentity(models.Model):
    shop = models.ForeignKey("accounts.Shop", on_delete=models.CASCADE)
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="identities")
    kind = models.CharField(max_length=20, choices=IdentityKind.choices)
    value = models.CharField(max_length=255)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("customer identity")
        verbose_name_plural = _("customer identities")
        constraints = [
            models.UniqueConstraint(fields=["shop", "kind", "value"], name="unique_identity")
        ]

    def __str__(self) -> str:
        return f"{self.kind}:{self.value}"
