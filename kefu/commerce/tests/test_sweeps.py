"""The work-queue sweeps with a FixedClock: what each queue picks up, that a
second run or a restart creates nothing twice, night hours in the shop's time
zone, results recorded, and tasks closing themselves."""

from __future__ import annotations

import datetime as dt
import itertools
from decimal import Decimal

import pytest
from django.utils import translation

from kefu.commerce import actions, queues, sweeps
from kefu.commerce.models import (
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
from kefu.compliance.models import AuditLog, ComplianceSettings
from kefu.core.clock import FixedClock
from kefu.core.errors import ActionError, NotFound
from kefu.tests import factories

pytestmark = [pytest.mark.django_db, pytest.mark.backend]

UTC = dt.UTC
# 12:00 in Shanghai (UTC+8), a Monday.
NOON_SHANGHAI = dt.datetime(2026, 3, 2, 4, 0, tzinfo=UTC)
_numbers = itertools.count(1)


def make_order(shop, *, ordered_at, status=OrderStatus.PAID, paid_at=None, **fields) -> Order:
    number = next(_numbers)
    return Order.objects.create(
        shop=shop,
        external_id=fields.pop("external_id", f"T{number:06d}"),
        buyer_account=fields.pop("buyer_account", f"buyer{number}"),
        status=status,
        total=fields.get("paid_amount", Decimal("100.00")),
        paid_amount=fields.pop("paid_amount", Decimal("100.00")),
        ordered_at=ordered_at,
        paid_at=paid_at,
        source_updated_at=ordered_at,
        **fields,
    )


def paid_order(shop, paid_at, **fields) -> Order:
    return make_order(shop, ordered_at=paid_at - dt.timedelta(minutes=5), paid_at=paid_at, **fields)


def unpaid_order(shop, ordered_at, **fields) -> Order:
    return make_order(shop, ordered_at=ordered_at, status=OrderStatus.PENDING_PAYMENT, **fields)


def tasks(kind, **filters):
    return list(WorkTask.objects.filter(kind=kind, **filters).order_by("id"))


@pytest.fixture
def shop():
    return factories.make_shop()


@pytest.fixture
def clock():
    return FixedClock(NOON_SHANGHAI)


# --- Late shipment -------------------------------------------------------------------


def test_late_shipment_uses_the_shops_promised_hours_and_the_orders_own_ship_by(shop, clock):
    ComplianceSettings.objects.create(shop=shop, ship_within_hours=24)
    now = clock.now()
    late = paid_order(shop, now - dt.timedelta(hours=25), paid_amount=Decimal("88.80"))
    paid_order(shop, now - dt.timedelta(hours=23))  # still within 24 h
    by_own_date = paid_order(
        shop, now - dt.timedelta(hours=2), ship_by=now - dt.timedelta(minutes=1)
    )
    paid_order(shop, now - dt.timedelta(hours=30), ship_by=now + dt.timedelta(hours=5))
    unpaid_order(shop, now - dt.timedelta(hours=80))  # never paid: not late
    make_order(
        shop,
        ordered_at=now - dt.timedelta(hours=40),
        paid_at=now - dt.timedelta(hours=40),
        status=OrderStatus.SHIPPED,
        shipped_at=now - dt.timedelta(hours=1),
    )

    assert sweeps.sweep_late_shipments(clock) == {"created": 2, "closed": 0}

    found = tasks(TaskKind.LATE_SHIPMENT)
    assert [task.order_id for task in found] == [late.id, by_own_date.id]
    first = found[0]
    assert first.status == TaskStatus.OPEN
    assert first.group_code == "after_sales"
    assert first.key == f"order:{late.id}"
    assert first.due_at == late.paid_at + dt.timedelta(hours=24)
    assert first.details == {
        "deadline": (late.paid_at + dt.timedelta(hours=24)).isoformat(),
        "paid_amount": "88.80",
        "percent": "30",
        "cap": "500",
        "compensation": "26.64",
    }
    assert found[1].due_at == by_own_date.ship_by


def test_late_shipment_defaults_to_72_hours_and_caps_the_compensation(shop, clock):
    now = clock.now()
    paid_order(shop, now - dt.timedelta(hours=71), paid_amount=Decimal("5000.00"))
    big = paid_order(shop, now - dt.timedelta(hours=73), paid_amount=Decimal("5000.00"))

    assert sweeps.sweep_late_shipments(clock) == {"created": 1, "closed": 0}
    (task,) = tasks(TaskKind.LATE_SHIPMENT)
    assert task.order_id == big.id
    assert task.details["compensation"] == "500.00"


def test_late_shipment_compensation_follows_the_shops_policy(shop, clock):
    CommerceSettings.objects.create(
        shop=shop, policy={"late_shipment_percent": 50, "late_shipment_cap": 100}
    )
    now = clock.now()
    paid_order(shop, now - dt.timedelta(hours=80), paid_amount=Decimal("150.01"))
    paid_order(shop, now - dt.timedelta(hours=80), paid_amount=Decimal("500.00"))

    sweeps.sweep_late_shipments(clock)
    assert [t.details["compensation"] for t in tasks(TaskKind.LATE_SHIPMENT)] == ["75.01", "100.00"]
    assert sweeps.late_compensation(Decimal("0.05"), Decimal(30), Decimal(500)) == Decimal("0.02")


def test_late_shipment_without_a_cap(shop, clock):
    CommerceSettings.objects.create(shop=shop, policy={"late_shipment_cap": None})
    paid_order(shop, clock.now() - dt.timedelta(hours=80), paid_amount=Decimal("4000.00"))
    sweeps.sweep_late_shipments(clock)
    (task,) = tasks(TaskKind.LATE_SHIPMENT)
    assert (task.details["compensation"], task.details["cap"]) == ("1200.00", "")
    with translation.override("en"):
        guide = queues.queue_guide(TaskKind.LATE_SHIPMENT, shop.id)
    assert guide.endswith("Compensation: 30% of the paid amount, paid as Tmall points.")


def test_late_shipment_sweep_twice_and_after_a_restart_creates_no_duplicate(shop, clock):
    now = clock.now()
    for hours in (73, 80, 100):
        paid_order(shop, now - dt.timedelta(hours=hours))

    assert sweeps.sweep_late_shipments(clock) == {"created": 3, "closed": 0}
    assert sweeps.sweep_late_shipments(clock) == {"created": 0, "closed": 0}
    # A restart: a new clock, later, and nothing remembered in memory.
    assert sweeps.sweep_late_shipments(FixedClock(now + dt.timedelta(hours=5))) == {
        "created": 0,
        "closed": 0,
    }
    assert WorkTask.objects.count() == 3


def test_a_task_made_meanwhile_by_another_worker_is_skipped(shop, clock):
    order = paid_order(shop, clock.now() - dt.timedelta(hours=80))
    WorkTask.objects.create(
        shop=shop, kind=TaskKind.LATE_SHIPMENT, key=f"order:{order.id}", order=order
    )
    assert sweeps.sweep_late_shipments(clock) == {"created": 0, "closed": 0}
    assert WorkTask.objects.count() == 1


def test_late_task_closes_itself_when_the_order_ships_or_is_cancelled(shop, clock):
    now = clock.now()
    shipped = paid_order(shop, now - dt.timedelta(hours=80))
    cancelled = paid_order(shop, now - dt.timedelta(hours=80))
    handled = paid_order(shop, now - dt.timedelta(hours=80))
    still_late = paid_order(shop, now - dt.timedelta(hours=80))
    sweeps.sweep_late_shipments(clock)
    agent = factories.make_agent(shop, "after_sales")
    actions.finish_task(agent, WorkTask.objects.get(order=handled).id, clock=clock)

    clock.advance(hours=3)
    Order.objects.filter(id__in=[shipped.id, handled.id]).update(
        status=OrderStatus.SHIPPED, shipped_at=now + dt.timedelta(hours=2)
    )
    Order.objects.filter(id=cancelled.id).update(status=OrderStatus.CANCELLED)

    assert sweeps.sweep_late_shipments(clock) == {"created": 0, "closed": 3}
    by_order = {task.order_id: task for task in tasks(TaskKind.LATE_SHIPMENT)}
    assert (by_order[shipped.id].status, by_order[shipped.id].result) == ("done", "shipped")
    assert by_order[shipped.id].result_at == now + dt.timedelta(hours=2)
    assert by_order[shipped.id].done_by is None
    assert (by_order[handled.id].status, by_order[handled.id].result) == ("done", "shipped")
    assert by_order[handled.id].done_by == agent
    assert (by_order[cancelled.id].status, by_order[cancelled.id].result) == (
        "dismissed",
        "cancelled",
    )
    assert (by_order[still_late.id].status, by_order[still_late.id].result) == ("open", "")
    assert sweeps.sweep_late_shipments(clock) == {"created": 0, "closed": 0}


# --- Payment reminders ---------------------------------------------------------------


def test_unpaid_orders_older_than_n_minutes_get_one_reminder_each(shop, clock):
    now = clock.now()
    old = unpaid_order(shop, now - dt.timedelta(minutes=31))
    unpaid_order(shop, now - dt.timedelta(minutes=29))
    paid_order(shop, now - dt.timedelta(hours=1))

    assert sweeps.sweep_payment_reminders(clock) == {"created": 1, "paid": 0, "not_paid": 0}
    (task,) = tasks(TaskKind.PAYMENT_REMINDER)
    assert (task.order_id, task.group_code, task.due_at) == (old.id, "pre_sales", now)
    assert sweeps.sweep_payment_reminders(clock) == {"created": 0, "paid": 0, "not_paid": 0}
    restarted = FixedClock(now + dt.timedelta(minutes=10))
    assert sweeps.sweep_payment_reminders(restarted) == {"created": 1, "paid": 0, "not_paid": 0}
    assert WorkTask.objects.count() == 2


def test_orders_unpaid_for_more_than_three_days_are_not_reminded(shop, clock):
    now = clock.now()
    unpaid_order(shop, now - dt.timedelta(days=3, minutes=1))
    assert sweeps.sweep_payment_reminders(clock)["created"] == 0


def test_no_reminder_at_night_in_the_shops_time_zone(shop):
    settings = CommerceSettings.objects.create(shop=shop, payment_reminder_after_minutes=30)
    # 22:30 in Shanghai = 14:30 UTC: outside 09:00-22:00.
    clock = FixedClock(dt.datetime(2026, 3, 2, 14, 30, tzinfo=UTC))
    order = unpaid_order(shop, clock.now() - dt.timedelta(hours=1))
    london = factories.make_shop(time_zone="Europe/London")  # 14:30 there: daytime
    daytime_order = unpaid_order(london, clock.now() - dt.timedelta(hours=1))

    assert sweeps.sweep_payment_reminders(clock) == {"created": 1, "paid": 0, "not_paid": 0}
    assert [t.order_id for t in tasks(TaskKind.PAYMENT_REMINDER)] == [daytime_order.id]

    clock.advance(hours=10)  # 08:30 next morning in Shanghai
    assert sweeps.sweep_payment_reminders(clock)["created"] == 0
    clock.advance(minutes=30)  # 09:00: the hours open
    assert sweeps.sweep_payment_reminders(clock)["created"] == 1
    task = WorkTask.objects.get(order=order)
    assert task.due_at == dt.datetime(2026, 3, 3, 1, 0, tzinfo=UTC)

    settings.reminder_hours = "20:00-02:00"  # across midnight
    settings.save()
    late_order = unpaid_order(shop, clock.now() - dt.timedelta(hours=1))
    assert sweeps.sweep_payment_reminders(clock)["created"] == 0  # 09:00 is outside
    clock.advance(hours=16, minutes=30)  # 01:30 Shanghai
    assert sweeps.sweep_payment_reminders(clock)["created"] == 1
    assert WorkTask.objects.filter(order=late_order).count() == 1


def test_within_hours_boundaries():
    at = dt.datetime(2026, 3, 2, 1, 0, tzinfo=UTC)  # 09:00 Shanghai
    assert sweeps.within_hours(at, "09:00-22:00", "Asia/Shanghai") is True
    assert (
        sweeps.within_hours(at - dt.timedelta(seconds=1), "09:00-22:00", "Asia/Shanghai") is False
    )
    at = dt.datetime(2026, 3, 2, 14, 0, tzinfo=UTC)  # 22:00 Shanghai
    assert sweeps.within_hours(at, "09:00-22:00", "Asia/Shanghai") is False
    assert sweeps.within_hours(at, "nonsense", "Asia/Shanghai") is False  # default hours


def test_reminder_results_are_recorded_and_the_success_rate_reported(shop, clock):
    start = clock.now()
    paid_soon = unpaid_order(shop, start - dt.timedelta(hours=1))
    paid_late = unpaid_order(shop, start - dt.timedelta(hours=1))
    never = unpaid_order(shop, start - dt.timedelta(hours=1))
    cancelled = unpaid_order(shop, start - dt.timedelta(hours=1))
    dismissed = unpaid_order(shop, start - dt.timedelta(hours=1))
    assert sweeps.sweep_payment_reminders(clock)["created"] == 5
    agent = factories.make_agent(shop, "pre_sales")
    actions.finish_task(agent, WorkTask.objects.get(order=paid_soon).id, clock=clock)
    actions.finish_task(agent, WorkTask.objects.get(order=dismissed).id, dismiss=True, clock=clock)

    clock.advance(hours=2)
    Order.objects.filter(id=paid_soon.id).update(status=OrderStatus.PAID, paid_at=clock.now())
    Order.objects.filter(id=cancelled.id).update(status=OrderStatus.CLOSED)
    assert sweeps.sweep_payment_reminders(clock) == {"created": 0, "paid": 1, "not_paid": 1}

    clock.advance(hours=22)  # 24 h after the reminder: the window closes
    assert sweeps.sweep_payment_reminders(clock) == {"created": 0, "paid": 0, "not_paid": 2}
    clock.advance(hours=1)
    Order.objects.filter(id=paid_late.id).update(status=OrderStatus.PAID, paid_at=clock.now())
    assert sweeps.sweep_payment_reminders(clock) == {"created": 0, "paid": 0, "not_paid": 0}

    results = {t.order_id: (t.status, t.result) for t in tasks(TaskKind.PAYMENT_REMINDER)}
    assert results == {
        paid_soon.id: ("done", "paid"),
        paid_late.id: ("done", "not_paid"),
        never.id: ("done", "not_paid"),
        cancelled.id: ("done", "not_paid"),
        dismissed.id: ("dismissed", ""),
    }
    assert WorkTask.objects.get(order=paid_soon).result_at == start + dt.timedelta(hours=2)
    assert WorkTask.objects.get(order=never).result_at == start + dt.timedelta(hours=24)

    day = dt.date(2026, 3, 2)
    rate = queues.reminder_success_rate(shop.id, day, day, "Asia/Shanghai")
    assert (rate.paid, rate.decided, rate.percent) == (1, 4, Decimal("25.0"))
    other_days = queues.reminder_success_rate(shop.id, dt.date(2026, 3, 3), dt.date(2026, 3, 9))
    assert (other_days.paid, other_days.decided, other_days.percent) == (0, 0, None)
    other_shop = factories.make_shop()
    assert queues.reminder_success_rate(other_shop.id, day, day).decided == 0


def test_success_window_is_the_shops_setting(shop, clock):
    CommerceSettings.objects.create(shop=shop, reminder_success_hours=2)
    order = unpaid_order(shop, clock.now() - dt.timedelta(hours=1))
    sweeps.sweep_payment_reminders(clock)
    clock.advance(hours=3)
    Order.objects.filter(id=order.id).update(status=OrderStatus.PAID, paid_at=clock.now())
    assert sweeps.sweep_payment_reminders(clock) == {"created": 0, "paid": 0, "not_paid": 1}


# --- Stalled parcels -----------------------------------------------------------------


def shipment(order, courier, quiet_since, **fields) -> Shipment:
    return Shipment.objects.create(
        order=order,
        courier=courier,
        tracking_number=f"{courier}{next(_numbers):08d}",
        shipped_at=fields.pop("shipped_at", quiet_since),
        last_event_at=quiet_since,
        **fields,
    )


def shipped_order(shop, now) -> Order:
    return make_order(
        shop,
        ordered_at=now - dt.timedelta(days=5),
        paid_at=now - dt.timedelta(days=5),
        status=OrderStatus.SHIPPED,
        shipped_at=now - dt.timedelta(days=4),
    )


def test_stalled_parcels_per_courier_hours(shop, clock):
    CommerceSettings.objects.create(
        shop=shop, stalled_after_hours=48, stalled_hours_by_courier={"ZTO": 24}
    )
    now = clock.now()
    zto_stalled = shipment(shipped_order(shop, now), "ZTO", now - dt.timedelta(hours=25))
    shipment(shipped_order(shop, now), "SF", now - dt.timedelta(hours=25))  # SF waits 48 h
    sf_stalled = shipment(shipped_order(shop, now), "SF", now - dt.timedelta(hours=49))
    lost = shipment(shipped_order(shop, now), "SF", now - dt.timedelta(hours=1), lost=True)
    shipment(
        shipped_order(shop, now),
        "SF",
        now - dt.timedelta(hours=60),
        delivered_at=now - dt.timedelta(hours=50),
    )
    never_tracked = shipment(
        shipped_order(shop, now), "YTO", None, shipped_at=now - dt.timedelta(hours=50)
    )

    assert sweeps.sweep_stalled_parcels(clock) == {"created": 4, "closed": 0}
    found = {t.details["shipment"]: t for t in tasks(TaskKind.STALLED_PARCEL)}
    assert set(found) == {zto_stalled.id, sf_stalled.id, lost.id, never_tracked.id}
    zto = found[zto_stalled.id]
    assert zto.due_at == zto_stalled.last_event_at + dt.timedelta(hours=24)
    assert (zto.details["courier"], zto.details["stalled_after_hours"]) == ("ZTO", 24)
    assert found[lost.id].details["lost"] is True
    assert found[never_tracked.id].details["quiet_since"] == never_tracked.shipped_at.isoformat()

    assert sweeps.sweep_stalled_parcels(clock) == {"created": 0, "closed": 0}
    assert sweeps.sweep_stalled_parcels(FixedClock(now + dt.timedelta(hours=1))) == {
        "created": 0,
        "closed": 0,
    }


def test_stalled_task_closes_when_the_parcel_moves_and_a_new_stall_is_a_new_task(shop, clock):
    now = clock.now()
    parcel = shipment(shipped_order(shop, now), "SF", now - dt.timedelta(hours=50))
    signed = shipment(shipped_order(shop, now), "SF", now - dt.timedelta(hours=50))
    sweeps.sweep_stalled_parcels(clock)

    clock.advance(hours=1)
    Shipment.objects.filter(id=parcel.id).update(last_event_at=clock.now())
    Shipment.objects.filter(id=signed.id).update(delivered_at=clock.now())
    assert sweeps.sweep_stalled_parcels(clock) == {"created": 0, "closed": 2}
    results = {t.details["shipment"]: (t.status, t.result) for t in tasks(TaskKind.STALLED_PARCEL)}
    assert results == {parcel.id: ("done", "moving"), signed.id: ("done", "delivered")}

    clock.advance(hours=49)  # quiet again for 49 h
    assert sweeps.sweep_stalled_parcels(clock) == {"created": 1, "closed": 0}
    assert WorkTask.objects.filter(kind=TaskKind.STALLED_PARCEL, status="open").count() == 1


# --- Invoices ------------------------------------------------------------------------


def invoice(order, promised_by, **fields) -> InvoiceRequest:
    return InvoiceRequest.objects.create(
        order=order,
        invoice_type="增值税普通发票",
        title="杭州某某科技有限公司",
        amount=order.paid_amount,
        promised_by=promised_by,
        **fields,
    )


def test_invoices_due_within_n_days_in_the_shops_time_zone(shop):
    # 01:00 on 3 March in Shanghai, still 2 March in UTC.
    clock = FixedClock(dt.datetime(2026, 3, 2, 17, 0, tzinfo=UTC))
    now = clock.now()
    order = paid_order(shop, now - dt.timedelta(hours=5))
    overdue = invoice(order, dt.date(2026, 3, 2))
    in_two_days = invoice(order, dt.date(2026, 3, 5))
    invoice(order, dt.date(2026, 3, 6))  # three days ahead: not yet
    invoice(order, dt.date(2026, 3, 3), status=InvoiceStatus.ISSUED)

    assert sweeps.sweep_invoices_due(clock) == {"created": 2, "closed": 0}
    found = {t.details["invoice"]: t for t in tasks(TaskKind.INVOICE_DUE)}
    assert set(found) == {overdue.id, in_two_days.id}
    task = found[in_two_days.id]
    assert task.details["promised_by"] == "2026-03-05"
    assert task.due_at == dt.datetime(2026, 3, 5, 16, 0, tzinfo=UTC)  # midnight in Shanghai
    assert sweeps.sweep_invoices_due(clock) == {"created": 0, "closed": 0}

    CommerceSettings.objects.create(shop=shop, invoice_due_days=3)
    assert sweeps.sweep_invoices_due(FixedClock(now)) == {"created": 1, "closed": 0}

    InvoiceRequest.objects.filter(id=overdue.id).update(status=InvoiceStatus.ISSUED)
    InvoiceRequest.objects.filter(id=in_two_days.id).update(status=InvoiceStatus.CANCELLED)
    assert sweeps.sweep_invoices_due(clock) == {"created": 0, "closed": 2}
    results = {t.details["invoice"]: (t.status, t.result) for t in tasks(TaskKind.INVOICE_DUE)}
    assert results[overdue.id] == ("done", "issued")
    assert results[in_two_days.id] == ("dismissed", "cancelled")


# --- Finishing a task ----------------------------------------------------------------


def test_only_someone_who_sees_the_task_may_finish_it(shop, clock):
    order = paid_order(shop, clock.now() - dt.timedelta(hours=80))
    sweeps.sweep_late_shipments(clock)
    task = WorkTask.objects.get(order=order)
    outsider = factories.make_agent(factories.make_shop(), "after_sales", role="supervisor")
    pre_sales = factories.make_agent(shop, "pre_sales")
    supervisor = factories.make_agent(shop, "vip", role="supervisor")
    audited = AuditLog.objects.filter(action="order_change")

    for user in (outsider, pre_sales):
        with pytest.raises(NotFound):
            actions.finish_task(user, task.id, clock=clock)
    task.refresh_from_db()
    assert (task.status, task.done_by, audited.count()) == ("open", None, 0)

    actions.finish_task(supervisor, task.id, dismiss=True, clock=clock)
    task.refresh_from_db()
    assert (task.status, task.done_by) == ("dismissed", supervisor)
    assert task.details["finished_at"] == clock.now().isoformat()
    (entry,) = audited
    assert (entry.action, entry.shop_id, entry.actor_id) == ("order_change", shop.id, supervisor.id)
    assert entry.data == {"work_task": task.id, "kind": "late_shipment", "status": "dismissed"}

    with pytest.raises(ActionError) as refused:
        actions.finish_task(supervisor, task.id, clock=clock)
    assert refused.value.code == "task_closed"
    assert audited.count() == 1


def test_run_all_runs_every_queue(shop, clock):
    now = clock.now()
    paid_order(shop, now - dt.timedelta(hours=80))
    unpaid_order(shop, now - dt.timedelta(hours=1))
    assert sweeps.run_all(clock) == {
        "late_shipment": {"created": 1, "closed": 0},
        "payment_reminder": {"created": 1, "paid": 0, "not_paid": 0},
        "stalled_parcel": {"created": 0, "closed": 0},
        "invoice_due": {"created": 0, "closed": 0},
    }
