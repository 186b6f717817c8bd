"""The work queues' idempotent sweeps: late shipments, payment reminders (催付),
stalled parcels and invoice promises coming due.

Each sweep finds what needs a person now and creates one `WorkTask` per
(shop, kind, key); the unique constraint makes a second run, a restart or two
workers at once create nothing twice. The same sweep closes its tasks once they
are no longer relevant (the order shipped, the parcel moved, the invoice was
issued) and records the payment reminders' results.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.db.models import Q
from django.db.models.functions import Coalesce

from kefu.accounts.models import Shop
from kefu.core.clock import Clock, system_clock

from . import queries
from .models import (
    CommerceSettings,
    InvoiceRequest,
    InvoiceStatus,
    Order,
    OrderStatus,
    Shipment,
    TaskKind,
    TaskStatus,
    WorkTask,
)

# The group that works each queue (routing.models.GroupCode values).
QUEUE_GROUPS = {
    TaskKind.LATE_SHIPMENT: "after_sales",
    TaskKind.PAYMENT_REMINDER: "pre_sales",
    TaskKind.STALLED_PARCEL: "after_sales",
    TaskKind.INVOICE_DUE: "after_sales",
}

# Results the sweeps record.
SHIPPED = "shipped"
CANCELLED = "cancelled"
PAID = "paid"
NOT_PAID = "not_paid"
MOVING = "moving"
DELIVERED = "delivered"
ISSUED = "issued"

FINISHED_ORDER_STATES = (
    OrderStatus.DELIVERED,
    OrderStatus.COMPLETED,
    OrderStatus.CANCELLED,
    OrderStatus.CLOSED,
)


# --- Shop settings -------------------------------------------------------------------


def late_shipment_rule(settings: CommerceSettings) -> tuple[Decimal, Decimal | None]:
    """(percent of the paid amount, cap in yuan or None for no cap): the seed's
    30 % capped at 500 unless the shop's after-sales policy overrides them
    (the same `policy` keys the after-sales policy engine reads)."""
    from .policy import PolicyError, PolicySettings

    try:
        policy = PolicySettings.from_overrides(settings.policy or {})
    except PolicyError:  # refused when saved; an old bad row falls back to the seed
        policy = PolicySettings()
    return policy.late_shipment_percent, policy.late_shipment_cap


def late_compensation(paid_amount: Decimal, percent: Decimal, cap: Decimal | None) -> Decimal:
    """The policy engine's own rule, on an order's paid amount."""
    from .policy.engine import percent_of

    return percent_of(Decimal(paid_amount), percent, cap)


def parse_hours(text: str) -> tuple[dt.time, dt.time]:
    """ "09:00-22:00" → (09:00, 22:00); the default hours when unreadable."""
    try:
        start, end = (dt.time.fromisoformat(part.strip()) for part in text.split("-"))
    except ValueError:
        return dt.time(9), dt.time(22)
    return start, end


def within_hours(moment: dt.datetime, hours: str, time_zone: str) -> bool:
    """Whether `moment` falls inside the shop's hours in its own time zone; a
    range such as 20:00-02:00 crosses midnight."""
    start, end = parse_hours(hours)
    local = moment.astimezone(ZoneInfo(time_zone)).time()
    if start <= end:
        return start <= local < end
    return local >= start or local < end


def _shops(shop_ids: Iterable[int]) -> dict[int, Shop]:
    return Shop.objects.in_bulk(list(set(shop_ids)))


def _create(tasks: list[WorkTask]) -> int:
    """Insert the tasks whose key is new; a task another run made meanwhile is
    skipped by the unique constraint."""
    if not tasks:
        return 0
    wanted = {(task.shop_id, task.kind, task.key) for task in tasks}
    existing = set(
        WorkTask.objects.filter(
            shop_id__in={shop_id for shop_id, _, _ in wanted},
            kind__in={kind for _, kind, _ in wanted},
            key__in={key for _, _, key in wanted},
        ).values_list("shop_id", "kind", "key")
    )
    new = [task for task in tasks if (task.shop_id, task.kind, task.key) not in existing]
    WorkTask.objects.bulk_create(new, ignore_conflicts=True, batch_size=500)
    return len(new)


def _close(task: WorkTask, result: str, at: dt.datetime, *, status: str = TaskStatus.DONE) -> None:
    task.result = result
    task.result_at = at
    if task.status == TaskStatus.OPEN:
        task.status = status
    task.save(update_fields=["result", "result_at", "status"])


# --- Late shipment -------------------------------------------------------------------


def sweep_late_shipments(clock: Clock = system_clock) -> dict[str, int]:
    """Paid orders past their promised shipping time become after-sales tasks
    before the buyer complains; a task closes itself once the order ships."""
    now = clock.now()
    shop_ids = set(
        Order.objects.filter(status=OrderStatus.PAID, shipped_at__isnull=True)
        .values_list("shop_id", flat=True)
        .distinct()
    )
    hours_by_shop = queries.ship_within_hours(shop_ids)
    tasks = []
    for shop_id, hours in hours_by_shop.items():
        percent, cap = late_shipment_rule(queries.settings_of(shop_id))
        late = Order.objects.filter(
            Q(ship_by__isnull=False, ship_by__lte=now)
            | Q(ship_by__isnull=True, paid_at__lte=now - dt.timedelta(hours=hours)),
            shop_id=shop_id,
            status=OrderStatus.PAID,
            shipped_at__isnull=True,
            paid_at__isnull=False,
        ).only("id", "shop_id", "paid_at", "ship_by", "paid_amount")
        for order in late:
            assert order.paid_at is not None
            deadline = order.ship_by or order.paid_at + dt.timedelta(hours=hours)
            tasks.append(
                WorkTask(
                    shop_id=shop_id,
                    kind=TaskKind.LATE_SHIPMENT,
                    key=f"order:{order.pk}",
                    order_id=order.pk,
                    group_code=QUEUE_GROUPS[TaskKind.LATE_SHIPMENT],
                    due_at=deadline,
                    details={
                        "deadline": deadline.isoformat(),
                        "paid_amount": str(order.paid_amount),
                        "percent": str(percent),
                        "cap": "" if cap is None else str(cap),
                        "compensation": str(late_compensation(order.paid_amount, percent, cap)),
                    },
                )
            )
    created = _create(tasks)

    closed = 0
    for task in _unresolved(TaskKind.LATE_SHIPMENT).select_related("order"):
        order = task.order
        if order.shipped_at is not None or order.status in (
            OrderStatus.SHIPPED,
            OrderStatus.DELIVERED,
            OrderStatus.COMPLETED,
        ):
            _close(task, SHIPPED, order.shipped_at or now)
            closed += 1
        elif order.status in (OrderStatus.CANCELLED, OrderStatus.CLOSED):
            _close(task, CANCELLED, now, status=TaskStatus.DISMISSED)
            closed += 1
    return {"created": created, "closed": closed}


def _unresolved(kind: str):
    """Tasks of this queue without a result yet (open, or done by an agent
    before the outcome was known); dismissed ones are left alone."""
    return WorkTask.objects.filter(kind=kind, result="").exclude(status=TaskStatus.DISMISSED)


# --- Payment reminders (催付) ---------------------------------------------------------


REMINDER_MAX_AGE = dt.timedelta(days=3)


def sweep_payment_reminders(clock: Clock = system_clock) -> dict[str, int]:
    """Unpaid orders older than the shop's N minutes become one reminder task
    each for the pre-sales group, only inside the shop's reminder hours (an
    order that became due at night gets its task at the first run after they
    open). Then every reminder's result is recorded: paid within the shop's
    success window after the reminder, or not."""
    now = clock.now()
    shop_ids = set(
        Order.objects.filter(status=OrderStatus.PENDING_PAYMENT, paid_at__isnull=True)
        .values_list("shop_id", flat=True)
        .distinct()
    )
    shops = _shops(shop_ids)
    tasks = []
    for shop_id, shop in shops.items():
        settings = queries.settings_of(shop_id)
        if not within_hours(now, settings.reminder_hours, shop.time_zone):
            continue
        cutoff = now - dt.timedelta(minutes=settings.payment_reminder_after_minutes)
        unpaid = Order.objects.filter(
            shop_id=shop_id,
            status=OrderStatus.PENDING_PAYMENT,
            paid_at__isnull=True,
            ordered_at__lte=cutoff,
            # Marketplaces close unpaid orders after three days; older ones
            # (e.g. a first import of old data) are not worth a reminder.
            ordered_at__gte=now - REMINDER_MAX_AGE,
        ).only("id", "ordered_at", "total")
        for order in unpaid:
            tasks.append(
                WorkTask(
                    shop_id=shop_id,
                    kind=TaskKind.PAYMENT_REMINDER,
                    key=f"order:{order.pk}",
                    order_id=order.pk,
                    group_code=QUEUE_GROUPS[TaskKind.PAYMENT_REMINDER],
                    # When the reminder is due: the success window starts here
                    # (`created_at` follows the real clock, not the injected one).
                    due_at=now,
                    details={"ordered_at": order.ordered_at.isoformat(), "total": str(order.total)},
                )
            )
    created = _create(tasks)
    recorded = record_reminder_results(clock)
    return {"created": created, **recorded}


def record_reminder_results(clock: Clock = system_clock) -> dict[str, int]:
    now = clock.now()
    counts = {PAID: 0, NOT_PAID: 0}
    window_by_shop: dict[int, dt.timedelta] = {}
    for task in _unresolved(TaskKind.PAYMENT_REMINDER).select_related("order"):
        if task.shop_id not in window_by_shop:
            hours = queries.settings_of(task.shop_id).reminder_success_hours
            window_by_shop[task.shop_id] = dt.timedelta(hours=hours)
        reminded_at = task.due_at or task.created_at
        window_end = reminded_at + window_by_shop[task.shop_id]
        paid_at = task.order.paid_at
        if paid_at is not None and paid_at <= window_end:
            _close(task, PAID, paid_at)
            counts[PAID] += 1
        elif now >= window_end or (
            paid_at is None and task.order.status in (OrderStatus.CANCELLED, OrderStatus.CLOSED)
        ):
            _close(task, NOT_PAID, min(now, window_end))
            counts[NOT_PAID] += 1
    return counts


# --- Stalled parcels -----------------------------------------------------------------


def _stalled_after(settings: CommerceSettings) -> tuple[int, dict[str, int]]:
    by_courier = {}
    for courier, hours in (settings.stalled_hours_by_courier or {}).items():
        try:
            by_courier[str(courier)] = int(hours)
        except (TypeError, ValueError):
            continue
    return settings.stalled_after_hours, by_courier


def sweep_stalled_parcels(clock: Clock = system_clock) -> dict[str, int]:
    """Shipped parcels whose tracking shows nothing new for the shop's hours
    (per courier when set), or reported lost, become proactive-contact tasks.
    One task per stall: a parcel that moves closes its task, and a later stall
    of the same parcel is a new one."""
    now = clock.now()
    moving = Shipment.objects.filter(delivered_at__isnull=True).exclude(
        order__status__in=FINISHED_ORDER_STATES
    )
    moving = moving.annotate(quiet_since=Coalesce("last_event_at", "shipped_at"))
    shop_ids = set(moving.values_list("order__shop_id", flat=True).distinct())
    tasks = []
    for shop_id in shop_ids:
        default_hours, by_courier = _stalled_after(queries.settings_of(shop_id))
        stalled = Q(lost=True)
        for courier, hours in by_courier.items():
            stalled |= Q(courier=courier, quiet_since__lte=now - dt.timedelta(hours=hours))
        stalled |= Q(quiet_since__lte=now - dt.timedelta(hours=default_hours)) & ~Q(
            courier__in=list(by_courier)
        )
        for shipment in moving.filter(stalled, order__shop_id=shop_id, quiet_since__isnull=False):
            hours = by_courier.get(shipment.courier, default_hours)
            quiet_since = shipment.quiet_since
            tasks.append(
                WorkTask(
                    shop_id=shop_id,
                    kind=TaskKind.STALLED_PARCEL,
                    key=f"shipment:{shipment.pk}:{int(quiet_since.timestamp())}",
                    order_id=shipment.order_id,
                    group_code=QUEUE_GROUPS[TaskKind.STALLED_PARCEL],
                    due_at=quiet_since + dt.timedelta(hours=hours),
                    details={
                        "shipment": shipment.pk,
                        "courier": shipment.courier,
                        "tracking_number": shipment.tracking_number,
                        "quiet_since": quiet_since.isoformat(),
                        "stalled_after_hours": hours,
                        "lost": shipment.lost,
                    },
                )
            )
    created = _create(tasks)

    closed = 0
    open_tasks = list(_unresolved(TaskKind.STALLED_PARCEL))
    shipments = Shipment.objects.select_related("order").in_bulk(
        [task.details.get("shipment") for task in open_tasks]
    )
    for task in open_tasks:
        found = shipments.get(task.details.get("shipment"))
        if found is None:
            _close(task, CANCELLED, now, status=TaskStatus.DISMISSED)
        elif found.delivered_at is not None or found.order.status in FINISHED_ORDER_STATES:
            _close(task, DELIVERED, found.delivered_at or now)
        else:
            quiet_since = found.last_event_at or found.shipped_at
            stalled_since = task.key.rsplit(":", 1)[-1]
            if quiet_since is None or str(int(quiet_since.timestamp())) == stalled_since:
                continue
            _close(task, MOVING, quiet_since)
        closed += 1
    return {"created": created, "closed": closed}


# --- Invoice promises ----------------------------------------------------------------


def sweep_invoices_due(clock: Clock = system_clock) -> dict[str, int]:
    """Invoices promised by a date within the shop's N days (or already past
    it) are listed, because a broken promise costs the shop points."""
    now = clock.now()
    shop_ids = set(
        InvoiceRequest.objects.filter(status=InvoiceStatus.PROMISED)
        .values_list("order__shop_id", flat=True)
        .distinct()
    )
    tasks = []
    for shop_id, shop in _shops(shop_ids).items():
        zone = ZoneInfo(shop.time_zone)
        today = now.astimezone(zone).date()
        last_day = today + dt.timedelta(days=queries.settings_of(shop_id).invoice_due_days)
        due = InvoiceRequest.objects.filter(
            order__shop_id=shop_id, status=InvoiceStatus.PROMISED, promised_by__lte=last_day
        )
        for invoice in due:
            # The promise is broken when the promised day is over in the shop's zone.
            deadline = dt.datetime.combine(
                invoice.promised_by + dt.timedelta(days=1), dt.time(), tzinfo=zone
            )
            tasks.append(
                WorkTask(
                    shop_id=shop_id,
                    kind=TaskKind.INVOICE_DUE,
                    key=f"invoice:{invoice.pk}",
                    order_id=invoice.order_id,
                    group_code=QUEUE_GROUPS[TaskKind.INVOICE_DUE],
                    due_at=deadline,
                    details={
                        "invoice": invoice.pk,
                        "promised_by": invoice.promised_by.isoformat(),
                        "invoice_type": invoice.invoice_type,
                        "title": invoice.title,
                        "amount": str(invoice.amount),
                    },
                )
            )
    created = _create(tasks)

    closed = 0
    open_tasks = list(_unresolved(TaskKind.INVOICE_DUE))
    invoices = InvoiceRequest.objects.in_bulk([task.details.get("invoice") for task in open_tasks])
    for task in open_tasks:
        request = invoices.get(task.details.get("invoice"))
        if request is None or request.status == InvoiceStatus.CANCELLED:
            _close(task, CANCELLED, now, status=TaskStatus.DISMISSED)
        elif request.status == InvoiceStatus.ISSUED:
            _close(task, ISSUED, now)
        else:
            continue
        closed += 1
    return {"created": created, "closed": closed}


def run_all(clock: Clock = system_clock) -> dict[str, dict[str, int]]:
    return {
        TaskKind.LATE_SHIPMENT.value: sweep_late_shipments(clock),
        TaskKind.PAYMENT_REMINDER.value: sweep_payment_reminders(clock),
        TaskKind.STALLED_PARCEL.value: sweep_stalled_parcels(clock),
        TaskKind.INVOICE_DUE.value: sweep_invoices_due(clock),
    }


# --- An agent finishes a task --------------------------------------------------------
