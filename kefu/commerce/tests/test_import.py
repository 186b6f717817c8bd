"""Orders, items, payments and shipment events from spreadsheets: the upsert
rules (`sync`), bad rows, --atomic, both formats, progress and the admin."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.test import Client
from django.utils import translation
from openpyxl import Workbook

from kefu.commerce.models import Order, OrderItem, Payment, Product, Shipment, TrackingEvent
from kefu.core import tabular
from kefu.tests import factories as f

pytestmark = [pytest.mark.django_db, pytest.mark.backend]

SHANGHAI = dt.timezone(dt.timedelta(hours=8))
ORDER_HEADER = "order_id,buyer_account,status,total,paid_amount,ordered_at,paid_at,updated_at\n"


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


@pytest.fixture
def shop():
    return f.make_shop(slug="warm-home")


def run(shop, kind, text, name=None, **options):
    return tabular.run_import(kind, text.encode(), name or f"{kind}.csv", shop=shop, **options)


def orders_csv(*rows: str) -> str:
    return ORDER_HEADER + "".join(row + "\n" for row in rows)


def test_an_order_sent_twice_stays_one(shop):
    data = orders_csv(
        "T1001,tb_amy,paid,99.00,99.00,2024-05-01 10:00,2024-05-01 10:05,2024-05-01 10:05"
    )
    first = run(shop, "orders", data)
    second = run(shop, "orders", data)
    assert (first.created, first.updated, first.unchanged) == (1, 0, 0)
    assert (second.created, second.updated, second.unchanged) == (0, 0, 1)
    order = Order.objects.get(shop=shop)
    assert order.external_id == "T1001"
    assert order.status == "paid"
    assert order.total == Decimal("99.00")
    # No offset: the shop's time zone (Asia/Shanghai).
    assert order.ordered_at == dt.datetime(2024, 5, 1, 10, 0, tzinfo=SHANGHAI)
    assert order.source_updated_at == dt.datetime(2024, 5, 1, 10, 5, tzinfo=SHANGHAI)


def test_an_older_update_never_overwrites_a_newer(shop):
    run(shop, "orders", orders_csv("T1,tb_amy,shipped,50,50,2024-05-01T10:00,,2024-05-03T09:00"))
    older = run(
        shop, "orders", orders_csv("T1,tb_amy,paid,60,60,2024-05-01T10:00,,2024-05-02T09:00")
    )
    assert (older.updated, older.unchanged) == (0, 1)
    order = Order.objects.get(shop=shop, external_id="T1")
    assert (order.status, order.total) == ("shipped", Decimal("50.00"))
    newer = run(
        shop, "orders", orders_csv("T1,tb_amy,delivered,50,50,2024-05-01T10:00,,2024-05-04T09:00")
    )
    assert newer.updated == 1
    order.refresh_from_db()
    assert order.status == "delivered"
    assert order.source_updated_at == dt.datetime(2024, 5, 4, 9, 0, tzinfo=SHANGHAI)


def test_a_tie_resolves_to_the_later_lifecycle_state(shop):
    stamp = "2024-05-02T09:00:00+08:00"
    run(shop, "orders", orders_csv(f"T1,tb_amy,shipped,50,50,2024-05-01T10:00,,{stamp}"))
    earlier_state = run(
        shop, "orders", orders_csv(f"T1,tb_amy,paid,50,50,2024-05-01T10:00,,{stamp}")
    )
    assert (earlier_state.updated, earlier_state.unchanged) == (0, 1)
    assert Order.objects.get(shop=shop).status == "shipped"
    later_state = run(
        shop, "orders", orders_csv(f"T1,tb_amy,delivered,50,50,2024-05-01T10:00,,{stamp}")
    )
    assert later_state.updated == 1
    assert Order.objects.get(shop=shop).status == "delivered"


def test_every_bad_row_is_reported_with_its_line(shop):
    data = orders_csv(
        "T1,tb_amy,paid,99.00,99.00,2024-05-01 10:00,,2024-05-01 10:05",
        "T2,tb_bob,teleported,99.00,99.00,2024-05-01 10:00,,2024-05-01 10:05",
        "T3,tb_cat,paid,-5,99.00,2024-05-01 10:00,,yesterday",
        ",tb_dan,paid,1,1,2024-05-01 10:00,,2024-05-01 10:05",
        "T1,tb_amy,paid,99.00,99.00,2024-05-01 10:00,,2024-05-01 10:06",
        "T6,,paid,1,1,,,2024-05-01 10:05",
    )
    report = run(shop, "orders", data)
    assert [(e.line, e.column) for e in report.errors] == [
        (3, "status"),
        (4, "total"),
        (4, "updated_at"),
        (5, "order_id"),
        (6, "order_id"),
        (7, "buyer_account"),
        (7, "ordered_at"),
    ]
    reasons = {(e.line, e.column): e.reason for e in report.errors}
    assert "pending_payment" in reasons[(3, "status")]
    assert reasons[(6, "order_id")] == "The same record as line 2."
    assert (report.created, report.rejected) == (1, 5)
    assert list(Order.objects.values_list("external_id", flat=True)) == ["T1"]


def test_atomic_stores_nothing_when_one_row_is_bad(shop):
    data = orders_csv(
        "T1,tb_amy,paid,99.00,99.00,2024-05-01 10:00,,2024-05-01 10:05",
        "T2,tb_bob,paid,abc,99.00,2024-05-01 10:00,,2024-05-01 10:05",
    )
    report = run(shop, "orders", data, atomic=True)
    assert not report.committed
    assert (report.created, report.rejected) == (0, 1)
    assert Order.objects.count() == 0


def test_items_payments_and_events_need_a_known_order(shop):
    run(shop, "orders", orders_csv("T1,tb_amy,shipped,128,118,2024-05-01 10:00,,2024-05-01 10:05"))
    items = (
        "order_id,item_id,product_id,name,spec,category,flags,quantity,unit_price,paid_amount,updated_at\n"
        'T1,I1,P9,蜂蜜,500g,食品,"food, fresh",2,64.00,59.00,2024-05-01 10:05\n'
        "T404,I2,P9,蜂蜜,500g,食品,food,1,64.00,59.00,2024-05-01 10:05\n"
        "T1,I3,,床单,1.8m,家纺,washable,1,10,10,2024-05-01 10:05\n"
    )
    report = run(shop, "items", items)
    assert [(e.line, e.column) for e in report.errors] == [(3, "order_id"), (4, "flags")]
    assert "T404" in report.errors[0].reason
    item = OrderItem.objects.get()
    assert (item.external_id, item.flags, item.quantity, item.paid_amount) == (
        "I1",
        ["food", "fresh"],
        2,
        Decimal("59.00"),
    )
    assert item.product == Product.objects.get(shop=shop, external_id="P9")
    assert item.product.flags == ["food", "fresh"]

    payments = (
        "order_id,payment_id,method,amount,status,paid_at,updated_at\n"
        "T1,PAY1,alipay,118.00,paid,2024-05-01 10:05,2024-05-01 10:05\n"
        "T1,PAY1,alipay,118.00,pending,2024-05-01 10:05,2024-05-01 10:05\n"
    )
    report = run(shop, "payments", payments)
    assert [(e.line, e.column) for e in report.errors] == [(3, "payment_id")]
    report = run(
        shop,
        "payments",
        "order_id,payment_id,amount,status,updated_at\nT1,PAY1,118.00,pending,2024-05-01 10:05\n",
    )
    assert report.unchanged == 1  # a tie with an earlier state changes nothing
    report = run(
        shop,
        "payments",
        "order_id,payment_id,amount,status,updated_at\nT1,PAY1,118.00,refunded,2024-05-01 10:05\n",
    )
    assert report.updated == 1
    assert Payment.objects.get().status == "refunded"


def test_shipment_events(shop):
    run(shop, "orders", orders_csv("T1,tb_amy,shipped,128,118,2024-05-01 10:00,,2024-05-01 10:05"))
    header = (
        "order_id,courier,tracking_number,shipped_at,delivered_at,event_time,event_status,"
        "event_location,event_description,updated_at\n"
    )
    rows = (
        "T1,SF,SF100,2024-05-02 09:00,,2024-05-02 09:00,collected,杭州,已揽收,2024-05-02 09:00\n"
        "T1,SF,SF100,,,2024-05-03 18:00,in_transit,上海,运输中,2024-05-03 18:00\n"
        "T1,SF,SF100,,2024-05-04 11:00,2024-05-04 11:00,delivered,上海,已签收,2024-05-04 11:00\n"
    )
    report = run(shop, "shipments", header + rows)
    assert (report.created, report.errors) == (3, [])
    shipment = Shipment.objects.get()
    assert shipment.shipped_at == dt.datetime(2024, 5, 2, 9, 0, tzinfo=SHANGHAI)
    assert shipment.delivered_at == dt.datetime(2024, 5, 4, 11, 0, tzinfo=SHANGHAI)
    assert shipment.last_event_at == dt.datetime(2024, 5, 4, 11, 0, tzinfo=SHANGHAI)
    assert list(TrackingEvent.objects.values_list("status", flat=True)) == [
        "collected",
        "in_transit",
        "delivered",
    ]
    again = run(shop, "shipments", header + rows)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 3)
    assert TrackingEvent.objects.count() == 3


def test_order_is_linked_to_the_buyer_customer(shop):
    customer = f.make_customer(shop)
    account = customer.identities.get().value
    run(shop, "orders", orders_csv(f"T1,{account},paid,1,1,2024-05-01 10:00,,2024-05-01 10:05"))
    assert Order.objects.get().customer == customer


def test_xlsx(shop):
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["order_id", "buyer_account", "status", "total", "ordered_at", "updated_at"])
    sheet.append(
        ["T7", "tb_amy", "paid", 59.9, dt.datetime(2024, 5, 1, 10, 0), "2024-05-01T10:00:00Z"]
    )
    stream = io.BytesIO()
    workbook.save(stream)
    report = tabular.run_import("orders", stream.getvalue(), "orders.xlsx", shop=shop)
    assert (report.created, report.errors) == (1, [])
    order = Order.objects.get()
    assert order.total == Decimal("59.90")
    assert order.ordered_at == dt.datetime(2024, 5, 1, 10, 0, tzinfo=SHANGHAI)
    assert order.source_updated_at == dt.datetime(2024, 5, 1, 10, 0, tzinfo=dt.UTC)


def test_command_shows_progress_and_reports_bad_rows(shop, tmp_path, capsys):
    rows = [f"T{n},tb_{n},paid,10,10,2024-05-01 10:00,,2024-05-01 10:05" for n in range(5)]
    rows.append("T9,tb_9,paid,10,10,2024-05-01 10:00,,not-a-time")
    path = tmp_path / "orders.csv"
    path.write_text(orders_csv(*rows))
    with pytest.raises(SystemExit) as exit_info:
        call_command("import", "orders", str(path), "--shop", "warm-home", "--progress-every", "2")
    assert exit_info.value.code == 1
    out, err = capsys.readouterr()
    assert "orders: 6/6 rows" in err
    assert "line 7, column updated_at: Not a date and time" in err
    assert "6 rows: 5 created, 0 updated, 0 unchanged, 1 rejected." in out
    assert Order.objects.count() == 5


def test_command_atomic(shop, tmp_path, capsys):
    path = tmp_path / "orders.csv"
    path.write_text(
        orders_csv("T1,tb,paid,10,10,2024-05-01 10:00,,2024-05-01 10:05", "T2,tb,paid,10,10,,,x")
    )
    with pytest.raises(SystemExit):
        call_command("import", "orders", str(path), "--atomic")
    assert "Nothing was stored" in capsys.readouterr().out
    assert Order.objects.count() == 0


def test_admin_import(shop):
    from django.contrib.auth import get_user_model

    admin_user = get_user_model().objects.create_superuser("root", "root@example.com", "pw-9c1!x")
    client = Client()
    client.force_login(admin_user)
    assert client.get("/admin/commerce/order/").status_code == 200
    page = client.get("/admin/commerce/order/import/")
    assert page.status_code == 200 and b"buyer_account" in page.content
    upload = io.BytesIO(orders_csv("T1,tb,paid,10,10,2024-05-01 10:00,,2024-05-01 10:05").encode())
    upload.name = "orders.csv"
    response = client.post(
        "/admin/commerce/order/import/", {"shop": shop.id, "file": upload, "atomic": "on"}
    )
    assert response.status_code == 200
    assert b'id="import-summary"' in response.content
    assert b'id="import-errors"' not in response.content
    assert Order.objects.get().external_id == "T1"
