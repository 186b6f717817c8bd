"""Orders as the shop's marketplace knows them (imported or pushed by its
system, keyed by the shop's own ids), what agents change on them, after-sales
cases with the seven steps, compensations, and the work queues the sweeps fill.

Every record a shop sends carries `source_updated_at`: an upsert with an older
one is ignored, so a late or repeated delivery never undoes a newer state."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

MONEY: dict[str, Any] = {"max_digits": 12, "decimal_places": 2}


class ProductFlag(models.TextChoices):
    FOOD = "food", _("Food")
    CUSTOM_MADE = "custom_made", _("Custom-made")
    HYGIENE = "hygiene", _("Hygiene (opened not returnable)")
    DIGITAL = "digital", _("Digital goods")
    FRESH = "fresh", _("Fresh goods")


PRODUCT_FLAGS = tuple(ProductFlag.values)


class Product(models.Model):
    shop = models.ForeignKey("accounts.Shop", on_delete=models.CASCADE, verbose_name=_("shop"))
    external_id = models.CharField(_("product id"), max_length=64)
    name = models.CharField(_("name"), max_length=200)
    category = models.CharField(_("category"), max_length=64, blank=True)
    flags = models.JSONField(_("flags"), default=list, blank=True)
    usage_cycle_days = models.PositiveIntegerField(_("usage cycle (days)"), null=True, blank=True)
    price = models.DecimalField(_("price"), null=True, blank=True, **MONEY)
    source_updated_at = models.DateTimeField(_("updated at (source)"), null=True, blank=True)

    class Meta:
        verbose_name = _("product")
        verbose_name_plural = _("products")
        constraints = [
            models.UniqueConstraint(fields=["shop", "external_id"], name="unique_product_id")
        ]

    def __str__(self) -> str:
        return self.name


class OrderStatus(models.TextChoices):
    """Lifecycle order: a later state wins an upsert tie on `source_updated_at`."""

    PENDING_PAYMENT = "pending_payment", _("Awaiting payment")
    PAID = "paid", _("Paid, not shipped")
    SHIPPED = "shipped", _("Shipped")
    DELIVERED = "delivered", _("Signed for")
    COMPLETED = "completed", _("Completed")
    CANCELLED = "cancelled", _("Cancelled")
    CLOSED = "closed", _("Closed")


STATUS_RANK = {status: rank for rank, status in enumerate(OrderStatus.values)}


class Order(models.Model):
    shop = models.ForeignKey("accounts.Shop", on_delete=models.CASCADE, verbose_name=_("shop"))
    external_id = models.CharField(_("order number"), max_length=64)
    customer = models.ForeignKey(
        "customers.Customer",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="orders",
        verbose_name=_("customer"),
    )
    # The marketplace account that placed the order: the identity rule compares
    # the requester's account with this one.
    buyer_account = models.CharField(_("buyer account"), max_length=255, db_index=True)
    status = models.CharField(
        _("status"), max_length=20, choices=OrderStatus.choices, default=OrderStatus.PENDING_PAYMENT
    )
    total = models.DecimalField(_("order total"), default=0, **MONEY)
    paid_amount = models.DecimalField(_("paid amount"), default=0, **MONEY)
    ordered_at = models.DateTimeField(_("ordered at"))
    paid_at = models.DateTimeField(_("paid at"), null=True, blank=True)
    ship_by = models.DateTimeField(_("promised to ship by"), null=True, blank=True)
    shipped_at = models.DateTimeField(_("shipped at"), null=True, blank=True)
    delivered_at = models.DateTimeField(_("signed for at"), null=True, blank=True)
    receiver_name = models.CharField(_("receiver"), max_length=120, blank=True)
    receiver_phone = models.CharField(_("receiver phone"), max_length=40, blank=True)
    receiver_address = models.CharField(_("address"), max_length=400, blank=True)
    invoice_type = models.CharField(_("invoice type"), max_length=40, blank=True)
    invoice_title = models.CharField(_("invoice title"), max_length=200, blank=True)
    invoice_tax_id = models.CharField(_("taxpayer id"), max_length=40, blank=True)
    note = models.TextField(_("note"), blank=True)
    change_count = models.PositiveIntegerField(_("changes"), default=0)
    source_updated_at = models.DateTimeField(_("updated at (source)"))
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("order")
        verbose_name_plural = _("orders")
        constraints = [
            models.UniqueConstraint(fields=["shop", "external_id"], name="unique_order_id")
        ]
        indexes = [
            models.Index(fields=["shop", "status", "ordered_at"], name="order_status_idx"),
            models.Index(fields=["customer", "ordered_at"], name="order_customer_idx"),
        ]

    def __str__(self) -> str:
        return self.external_id


class OrderItem(models.Model):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="items")
    external_id = models.CharField(_("item id"), max_length=64)
    product = models.ForeignKey(
        Product, null=True, blank=True, on_delete=models.SET_NULL, verbose_name=_("product")
    )
    name = models.CharField(_("name"), max_length=200)
    spec = models.CharField(_("specification"), max_length=200, blank=True)
    category = models.CharField(_("category"), max_length=64, blank=True)
    flags = models.JSONField(_("flags"), default=list, blank=True)
    quantity = models.PositiveIntegerField(_("quantity"), default=1)
    unit_price = models.DecimalField(_("unit price"), default=0, **MONEY)
    paid_amount = models.DecimalField(_("paid amount"), default=0, **MONEY)
    source_updated_at = models.DateTimeField(_("updated at (source)"))

    class Meta:
        verbose_name = _("order item")
        verbose_name_plural = _("order items")
        constraints = [
            models.UniqueConstraint(fields=["order", "external_id"], name="unique_order_item_id")
        ]

    def __str__(self) -> str:
        return f"{self.name} × {self.quantity}"


class PaymentStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    PAID = "paid", _("Paid")
    REFUNDED = "refunded", _("Refunded")
    FAILED = "failed", _("Failed")


PAYMENT_RANK = {status: rank for rank, status in enumerate(PaymentStatus.values)}


class Payment(models.Model):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="payments")
    external_id = models.CharField(_("payment id"), max_length=64)
    method = models.CharField(_("method"), max_length=40, blank=True)
    amount = models.DecimalField(_("amount"), **MONEY)
    status = models.CharField(
        _("status"), max_length=10, choices=PaymentStatus.choices, default=PaymentStatus.PENDING
    )
    paid_at = models.DateTimeField(_("paid at"), null=True, blank=True)
    source_updated_at = models.DateTimeField(_("updated at (source)"))

    class Meta:
        verbose_name = _("payment")
        verbose_name_plural = _("payments")
        constraints = [
            models.UniqueConstraint(fields=["order", "external_id"], name="unique_payment_id")
        ]

    def __str__(self) -> str:
        return f"{self.external_id} {self.amount}"


class Shipment(models.Model):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="shipments")
    courier = models.CharField(_("courier"), max_length=40)
    tracking_number = models.CharField(_("tracking number"), max_length=64)
    shipped_at = models.DateTimeField(_("shipped at"), null=True, blank=True)
    delivered_at = models.DateTimeField(_("signed for at"), null=True, blank=True)
    last_event_at = models.DateTimeField(_("last tracking event"), null=True, blank=True)
    lost = models.BooleanField(_("reported lost"), default=False)

    class Meta:
        verbose_name = _("shipment")
        verbose_name_plural = _("shipments")
        constraints = [
            models.UniqueConstraint(
                fields=["order", "courier", "tracking_number"], name="unique_shipment"
            )
        ]
        indexes = [models.Index(fields=["tracking_number"], name="shipment_tracking_idx")]

    def __str__(self) -> str:
        return f"{self.courier} {self.tracking_number}"


class TrackingEvent(models.Model):
    shipment = models.ForeignKey(Shipment, on_delete=models.CASCADE, related_name="events")
    occurred_at = models.DateTimeField(_("time"))
    status = models.CharField(_("status"), max_length=40)
    location = models.CharField(_("location"), max_length=120, blank=True)
    description = models.CharField(_("description"), max_length=400, blank=True)

    class Meta:
        verbose_name = _("tracking event")
        verbose_name_plural = _("tracking events")
        ordering = ["occurred_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["shipment", "occurred_at", "status"], name="unique_tracking_event"
            )
        ]

    def __str__(self) -> str:
        return f"{self.occurred_at:%Y-%m-%d %H:%M} {self.status}"


class ChangeKind(models.TextChoices):
    ADDRESS = "address", _("Change address")
    CANCEL = "cancel", _("Cancel")
    SPEC = "spec", _("Change specification")
    QUANTITY = "quantity", _("Change quantity")
    INVOICE = "invoice", _("Change invoice details")
    PRICE = "price", _("Change price")
    NOTE = "note", _("Add a note")
    RESEND_TRACKING = "resend_tracking", _("Resend tracking")


class ApprovalState(models.TextChoices):
    NOT_NEEDED = "not_needed", _("Not needed")
    PENDING = "pending", _("Awaiting approval")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")


class OrderChange(models.Model):
    """One change an agent made or asked for; price changes wait for a supervisor."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="changes")
    kind = models.CharField(_("change"), max_length=20, choices=ChangeKind.choices)
    before = models.JSONField(_("before"), default=dict, blank=True)
    after = models.JSONField(_("after"), default=dict, blank=True)
    reason = models.CharField(_("reason"), max_length=400, blank=True)
    approval = models.CharField(
        _("approval"),
        max_length=12,
        choices=ApprovalState.choices,
        default=ApprovalState.NOT_NEEDED,
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("order change")
        verbose_name_plural = _("order changes")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.order_id} {self.kind}"


class InvoiceStatus(models.TextChoices):
    PROMISED = "promised", _("Promised")
    ISSUED = "issued", _("Issued")
    CANCELLED = "cancelled", _("Cancelled")


class InvoiceRequest(models.Model):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="invoice_requests")
    invoice_type = models.CharField(_("invoice type"), max_length=40)
    title = models.CharField(_("invoice title"), max_length=200)
    tax_id = models.CharField(_("taxpayer id"), max_length=40, blank=True)
    amount = models.DecimalField(_("amount"), **MONEY)
    promised_by = models.DateField(_("promised by"))
    status = models.CharField(
        _("status"), max_length=10, choices=InvoiceStatus.choices, default=InvoiceStatus.PROMISED
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("invoice request")
        verbose_name_plural = _("invoice requests")
        indexes = [models.Index(fields=["status", "promised_by"], name="invoice_due_idx")]

    def __str__(self) -> str:
        return f"{self.order_id} {self.invoice_type} {self.amount}"


class RiskKind(models.TextChoices):
    MALICIOUS_ORDER = "malicious_order", _("Malicious order (恶意订单)")
    PROFESSIONAL_REVIEWER = "professional_reviewer", _("Professional bad reviewer (职业差评师)")
    SERIAL_RETURNER = "serial_returner", _("Serial returner")
    LARGE_ORDER = "large_order", _("Very large order")
    OFTEN_CHANGED = "often_changed", _("Often-changed order")


class RiskEntry(models.Model):
    """The shop's own list: a buyer account flagged by hand (rules add the rest)."""

    shop = models.ForeignKey("accounts.Shop", on_delete=models.CASCADE)
    buyer_account = models.CharField(_("buyer account"), max_length=255)
    kind = models.CharField(_("risk"), max_length=24, choices=RiskKind.choices)
    note = models.CharField(_("note"), max_length=400, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("risk list entry")
        verbose_name_plural = _("risk list")
        constraints = [
            models.UniqueConstraint(fields=["shop", "buyer_account", "kind"], name="unique_risk")
        ]

    def __str__(self) -> str:
        return f"{self.buyer_account}: {self.kind}"


class CaseType(models.TextChoices):
    RETURN = "return", _("Return")
    EXCHANGE = "exchange", _("Exchange")
    REFUND_ONLY = "refund_only", _("Refund only")
    REPAIR = "repair", _("Repair")
    REISSUE = "reissue", _("Reissue")
    OUT_OF_STOCK = "out_of_stock", _("Out of stock")
    LATE_SHIPMENT = "late_shipment", _("Late shipment")


class CaseState(models.TextChoices):
    """The seven steps of after-sales (售后处理七步法)."""

    RECEIVED = "received", _("1 Received")
    CLASSIFIED = "classified", _("2 Classified")
    SOLUTION = "solution", _("3 Solution")
    EXECUTING = "executing", _("4 Executing")
    CONFIRMED = "confirmed", _("5 Confirmed")
    ARCHIVED = "archived", _("6 Archived")
    FOLLOWED_UP = "followed_up", _("7 Followed up")


CASE_STEPS = tuple(CaseState.values)


class CaseSource(models.TextChoices):
    AGENT = "agent", _("Agent")
    SELF_SERVICE = "self_service", _("Help center")
    SWEEP = "sweep", _("Work queue")
    API = "api", _("API")


class AfterSalesCase(models.Model):
    shop = models.ForeignKey("accounts.Shop", on_delete=models.CASCADE)
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="cases")
    conversation = models.ForeignKey(
        "inbox.Conversation", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    case_type = models.CharField(_("type"), max_length=16, choices=CaseType.choices)
    reason = models.CharField(_("reason"), max_length=24)
    condition = models.CharField(_("condition"), max_length=12, blank=True)
    description = models.TextField(_("description"), blank=True)
    state = models.CharField(
        _("step"), max_length=12, choices=CaseState.choices, default=CaseState.RECEIVED
    )
    source = models.CharField(
        _("opened from"), max_length=12, choices=CaseSource.choices, default=CaseSource.AGENT
    )
    decision = models.JSONField(_("policy decision"), default=dict, blank=True)
    refund_amount = models.DecimalField(_("refund"), default=0, **MONEY)
    compensation_amount = models.DecimalField(_("compensation"), default=0, **MONEY)
    return_shipping_paid_by = models.CharField(
        _("return shipping paid by"), max_length=8, blank=True
    )
    approval = models.CharField(
        _("approval"),
        max_length=12,
        choices=ApprovalState.choices,
        default=ApprovalState.NOT_NEEDED,
    )
    platform_intervention = models.BooleanField(_("platform intervened"), default=False)
    platform_intervention_at = models.DateTimeField(null=True, blank=True)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("after-sales case")
        verbose_name_plural = _("after-sales cases")
        indexes = [
            models.Index(fields=["shop", "state", "created_at"], name="case_state_idx"),
            models.Index(fields=["shop", "platform_intervention_at"], name="case_dispute_idx"),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.case_type}"


class CaseItem(models.Model):
    case = models.ForeignKey(AfterSalesCase, on_delete=models.CASCADE, related_name="items")
    order_item = models.ForeignKey(OrderItem, on_delete=models.CASCADE, related_name="+")
    quantity = models.PositiveIntegerField(_("quantity"), default=1)

    def __str__(self) -> str:
        return f"{self.order_item_id} × {self.quantity}"


class CaseTransition(models.Model):
    case = models.ForeignKey(AfterSalesCase, on_delete=models.CASCADE, related_name="transitions")
    from_state = models.CharField(max_length=12, blank=True)
    to_state = models.CharField(max_length=12)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    note = models.CharField(max_length=400, blank=True)
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.from_state} → {self.to_state}"


class CompensationKind(models.TextChoices):
    COUPON = "coupon", _("Coupon")
    PARTIAL_REFUND = "partial_refund", _("Partial refund")
    GIFT = "gift", _("Gift")
    FREE_SHIPPING = "free_shipping", _("Free shipping")
    POINTS = "points", _("Points")


class Compensation(models.Model):
    """A concession offered to a buyer; above the agent's level limit it waits
    in the supervisors' approval queue."""

    shop = models.ForeignKey("accounts.Shop", on_delete=models.CASCADE)
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="compensations")
    case = models.ForeignKey(
        AfterSalesCase,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="compensations",
    )
    kind = models.CharField(_("kind"), max_length=16, choices=CompensationKind.choices)
    amount = models.DecimalField(_("value (yuan)"), **MONEY)
    reason = models.CharField(_("reason"), max_length=400, blank=True)
    approval = models.CharField(
        _("approval"),
        max_length=12,
        choices=ApprovalState.choices,
        default=ApprovalState.NOT_NEEDED,
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    requested_level = models.CharField(max_length=20, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("compensation")
        verbose_name_plural = _("compensations")

    def __str__(self) -> str:
        return f"{self.kind} {self.amount}"


class TaskKind(models.TextChoices):
    LATE_SHIPMENT = "late_shipment", _("Late shipment")
    PAYMENT_REMINDER = "payment_reminder", _("Payment reminder (催付)")
    STALLED_PARCEL = "stalled_parcel", _("Stalled parcel")
    INVOICE_DUE = "invoice_due", _("Invoice promise coming due")


class TaskStatus(models.TextChoices):
    OPEN = "open", _("Open")
    DONE = "done", _("Done")
    DISMISSED = "dismissed", _("Dismissed")


class WorkTask(models.Model):
    """One item of a work queue. `key` makes each sweep idempotent: one task per
    (shop, kind, key) however often the sweep runs."""

    shop = models.ForeignKey("accounts.Shop", on_delete=models.CASCADE)
    kind = models.CharField(_("queue"), max_length=20, choices=TaskKind.choices)
    key = models.CharField(max_length=120)
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="tasks")
    group_code = models.CharField(_("group"), max_length=40, blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=TaskStatus.choices, default=TaskStatus.OPEN
    )
    due_at = models.DateTimeField(_("due"), null=True, blank=True)
    details = models.JSONField(default=dict, blank=True)
    result = models.CharField(_("result"), max_length=20, blank=True)
    result_at = models.DateTimeField(null=True, blank=True)
    done_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("work task")
        verbose_name_plural = _("work tasks")
        constraints = [
            models.UniqueConstraint(fields=["shop", "kind", "key"], name="unique_work_task")
        ]
        indexes = [models.Index(fields=["shop", "kind", "status"], name="task_queue_idx")]

    def __str__(self) -> str:
        return f"{self.kind} {self.key}"


class CommerceSettings(models.Model):
    """Per-shop order and after-sales settings; `policy` holds the after-sales
    policy's overrides of the seed defaults (see commerce.policy). The promised
    shipping time is the compliance settings' `ship_within_hours` (one value,
    read by the guard and by the late-shipment queue)."""

    shop = models.OneToOneField(
        "accounts.Shop", on_delete=models.CASCADE, related_name="commerce_settings"
    )
    policy = models.JSONField(_("after-sales policy"), default=dict, blank=True)
    payment_reminder_after_minutes = models.PositiveIntegerField(
        _("remind unpaid orders after (minutes)"), default=30
    )
    reminder_hours = models.CharField(
        _("reminder hours"), max_length=11, default="09:00-22:00", help_text="HH:MM-HH:MM"
    )
    reminder_success_hours = models.PositiveIntegerField(
        _("a reminder succeeded if paid within (hours)"), default=24
    )
    stalled_after_hours = models.PositiveIntegerField(
        _("parcel stalled after (hours without tracking)"), default=48
    )
    stalled_hours_by_courier = models.JSONField(
        _("stalled after, per courier"), default=dict, blank=True
    )
    invoice_due_days = models.PositiveIntegerField(_("list invoices due within (days)"), default=2)
    bargaining_ladder = models.JSONField(_("bargaining ladder"), default=dict, blank=True)
    large_order_amount = models.DecimalField(_("large order from (yuan)"), default=5000, **MONEY)
    often_changed_count = models.PositiveIntegerField(_("often changed from (changes)"), default=3)
    serial_returner_cases = models.PositiveIntegerField(
        _("serial returner from (cases in 90 days)"), default=3
    )

    class Meta:
        verbose_name = _("order and after-sales settings")
        verbose_name_plural = _("order and after-sales settings")

    def __str__(self) -> str:
        return str(self.shop)
