"""Back office for orders and after-sales, scoped to the shops the staff user
supervises (superusers see all). Records are read-only here: orders arrive by
import or the sync API, and every change an agent makes goes through
`commerce.actions`, which audits it; only what the shop maintains itself, its
risk list and its settings (policy, ladder, queue hours, checked when saved),
is edited here. Orders, items, payments and shipments
offer “Import from a spreadsheet”, the same import as `kefu import`."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.urls import path
from django.utils.translation import gettext_lazy as _

from kefu.accounts import queries as account_queries
from kefu.accounts.models import Shop
from kefu.core.errors import ActionError
from kefu.knowledge.admin import render_import

from . import actions
from .models import (
    AfterSalesCase,
    CaseItem,
    CaseTransition,
    CommerceSettings,
    Compensation,
    InvoiceRequest,
    Order,
    OrderChange,
    OrderItem,
    Payment,
    Product,
    RiskEntry,
    Shipment,
    TrackingEvent,
    WorkTask,
)


def supervised_shop_ids(request) -> frozenset[int]:
    if request.user.is_superuser:
        return frozenset(Shop.objects.values_list("id", flat=True))
    return account_queries.supervised_shop_ids(request.user)


class ScopedReadOnlyAdmin(admin.ModelAdmin):
    """Lists the records of the supervised shops; `shop_field` leads to the shop."""

    shop_field = "shop_id"
    import_kind = ""

    def get_queryset(self, request):
        scope = {f"{self.shop_field}__in": supervised_shop_ids(request)}
        return super().get_queryset(request).filter(**scope)

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @property
    def change_list_template(self):  # type: ignore[override]
        return "knowledge/admin/change_list_import.html" if self.import_kind else None

    def get_urls(self):
        urls = super().get_urls()
        if not self.import_kind:
            return urls
        info = (self.model._meta.app_label, self.model._meta.model_name)
        return [
            path(
                "import/",
                self.admin_site.admin_view(self.import_view),
                name="{}_{}_import".format(*info),
            ),
            *urls,
        ]

    def import_view(self, request):
        shop_ids = supervised_shop_ids(request)
        if not self.has_view_permission(request) or not shop_ids:
            raise PermissionDenied
        return render_import(self, request, self.import_kind, shop_ids)


class OrderItemInline(admin.TabularInline):
    model = OrderItem
    extra = 0
    can_delete = False
    fields = ("external_id", "name", "spec", "quantity", "unit_price", "paid_amount", "flags")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


class PaymentInline(admin.TabularInline):
    model = Payment
    extra = 0
    can_delete = False
    fields = ("external_id", "method", "amount", "status", "paid_at")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Order)
class OrderAdmin(ScopedReadOnlyAdmin):
    import_kind = "orders"
    list_display = (
        "external_id",
        "shop",
        "buyer_account",
        "status",
        "total",
        "paid_amount",
        "ordered_at",
        "ship_by",
        "shipped_at",
        "source_updated_at",
    )
    list_filter = ("shop", "status")
    search_fields = ("external_id", "buyer_account")
    date_hierarchy = "ordered_at"
    list_select_related = ("shop",)
    inlines = [OrderItemInline, PaymentInline]


@admin.register(OrderItem)
class OrderItemAdmin(ScopedReadOnlyAdmin):
    shop_field = "order__shop_id"
    import_kind = "items"
    list_display = ("external_id", "order", "name", "spec", "quantity", "paid_amount", "flags")
    search_fields = ("external_id", "order__external_id", "name")
    list_select_related = ("order",)


@admin.register(Payment)
class PaymentAdmin(ScopedReadOnlyAdmin):
    shop_field = "order__shop_id"
    import_kind = "payments"
    list_display = ("external_id", "order", "method", "amount", "status", "paid_at")
    list_filter = ("status",)
    search_fields = ("external_id", "order__external_id")
    list_select_related = ("order",)


class TrackingEventInline(admin.TabularInline):
    model = TrackingEvent
    extra = 0
    can_delete = False
    fields = ("occurred_at", "status", "location", "description")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Shipment)
class ShipmentAdmin(ScopedReadOnlyAdmin):
    shop_field = "order__shop_id"
    import_kind = "shipments"
    list_display = (
        "tracking_number",
        "courier",
        "order",
        "shipped_at",
        "delivered_at",
        "last_event_at",
        "lost",
    )
    list_filter = ("courier", "lost")
    search_fields = ("tracking_number", "order__external_id")
    list_select_related = ("order",)
    inlines = [TrackingEventInline]


@admin.register(TrackingEvent)
class TrackingEventAdmin(ScopedReadOnlyAdmin):
    shop_field = "shipment__order__shop_id"
    list_display = ("shipment", "occurred_at", "status", "location", "description")
    search_fields = ("shipment__tracking_number",)
    list_select_related = ("shipment",)


@admin.register(OrderChange)
class OrderChangeAdmin(ScopedReadOnlyAdmin):
    shop_field = "order__shop_id"
    list_display = ("order", "kind", "approval", "requested_by", "decided_by", "created_at")
    list_filter = ("kind", "approval")
    search_fields = ("order__external_id",)


@admin.register(InvoiceRequest)
class InvoiceRequestAdmin(ScopedReadOnlyAdmin):
    shop_field = "order__shop_id"
    list_display = ("order", "invoice_type", "title", "amount", "promised_by", "status")
    list_filter = ("status",)
    search_fields = ("order__external_id", "title")


class ScopedEditableAdmin(ScopedReadOnlyAdmin):
    """Shop-maintained records: supervisors edit those of their shops only."""

    def has_add_permission(self, request, obj=None):
        return bool(supervised_shop_ids(request)) and request.user.has_perm(
            f"{self.opts.app_label}.add_{self.opts.model_name}"
        )

    def has_change_permission(self, request, obj=None):
        allowed = request.user.has_perm(f"{self.opts.app_label}.change_{self.opts.model_name}")
        return allowed and (obj is None or obj.shop_id in supervised_shop_ids(request))

    def has_delete_permission(self, request, obj=None):
        allowed = request.user.has_perm(f"{self.opts.app_label}.delete_{self.opts.model_name}")
        return allowed and (obj is None or obj.shop_id in supervised_shop_ids(request))

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "shop":
            kwargs["queryset"] = Shop.objects.filter(id__in=supervised_shop_ids(request))
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


@admin.register(Product)
class ProductAdmin(ScopedEditableAdmin):
    """Products come from the items import; supervisors set what the import
    does not carry: the usage cycle that repurchase reminders count from."""

    list_display = ("external_id", "name", "shop", "category", "flags", "usage_cycle_days")
    list_filter = ("shop", "category")
    search_fields = ("external_id", "name")
    fields = ("shop", "external_id", "name", "category", "flags", "price", "usage_cycle_days")
    readonly_fields = ("shop", "external_id", "name", "category", "flags", "price")

    def has_add_permission(self, request, obj=None):
        return False  # products are made by the import

    def has_delete_permission(self, request, obj=None):
        return False  # order items refer to them


@admin.register(RiskEntry)
class RiskEntryAdmin(ScopedEditableAdmin):
    list_display = ("buyer_account", "kind", "shop", "note", "created_by", "created_at")
    list_filter = ("shop", "kind")
    search_fields = ("buyer_account",)
    fields = ("shop", "buyer_account", "kind", "note")

    def save_model(self, request, obj, form, change):
        if not change:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)


class CaseTransitionInline(admin.TabularInline):
    model = CaseTransition
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class CaseItemInline(CaseTransitionInline):
    model = CaseItem  # type: ignore[assignment]


@admin.register(AfterSalesCase)
class AfterSalesCaseAdmin(ScopedReadOnlyAdmin):
    list_display = ("id", "shop", "order", "case_type", "reason")
    list_filter = ("shop", "case_type")
    search_fields = ("order__external_id",)
    inlines = [CaseItemInline, CaseTransitionInline]


@admin.register(Compensation)
class CompensationAdmin(ScopedReadOnlyAdmin):
    list_display = ("id", "shop", "order", "kind")
    list_filter = ("shop", "kind")
    search_fields = ("order__external_id",)


@admin.register(WorkTask)
class WorkTaskAdmin(ScopedReadOnlyAdmin):
    list_display = ("id", "shop", "kind", "status", "order")
    list_filter = ("shop", "kind", "status")
    search_fields = ("order__external_id",)


class CommerceSettingsForm(forms.ModelForm):
    class Meta:
        model = CommerceSettings
        fields = (
            "shop",
            "policy",
            "bargaining_ladder",
            "payment_reminder_after_minutes",
            "reminder_hours",
            "reminder_success_hours",
            "stalled_after_hours",
            "stalled_hours_by_courier",
            "invoice_due_days",
            "large_order_amount",
            "often_changed_count",
            "serial_returner_cases",
        )

    def _checked(self, name: str, check):
        try:
            return check(self.cleaned_data.get(name))
        except ActionError as error:
            raise forms.ValidationError(error.message) from None

    def clean_policy(self):
        return self._checked("policy", actions.check_policy)

    def clean_bargaining_ladder(self):
        return self._checked("bargaining_ladder", actions.check_ladder)

    def clean_reminder_hours(self):
        value = self.cleaned_data.get("reminder_hours", "").strip()
        try:
            start, end = (dt.time.fromisoformat(part) for part in value.split("-"))
        except ValueError:
            raise forms.ValidationError(_("Give the hours as HH:MM-HH:MM.")) from None
        if start == end:
            raise forms.ValidationError(_("The hours must not start and end at the same time."))
        return value

    def clean_stalled_hours_by_courier(self):
        value = self.cleaned_data.get("stalled_hours_by_courier") or {}
        if not isinstance(value, dict) or not all(
            isinstance(hours, int) and not isinstance(hours, bool) and 1 <= hours <= 720
            for hours in value.values()
        ):
            raise forms.ValidationError(_('Give {"courier": hours} with 1 to 720 hours each.'))
        return value


@admin.register(CommerceSettings)
class CommerceSettingsAdmin(ScopedEditableAdmin):
    form = CommerceSettingsForm
    list_display = ("shop",)
