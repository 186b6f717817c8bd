"""The import writes rows with plain `executemany` (values adapted by
`sync`, not by the ORM): what it stores must read back through the ORM as the
same values, and be byte for byte what the ORM itself would have written."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.utils import translation

from kefu.commerce import sync
from kefu.commerce.models import Order, OrderItem, Product, Shipment, TrackingEvent
from kefu.core import tabular
from kefu.tests import factories as f

pytestmark = [pytest.mark.django_db, pytest.mark.backend]

NEW_YORK = ZoneInfo("America/New_York")

ORDERS = (
    "order_id,buyer_account,status,total,paid_amount,ordered_at,paid_at,ship_by,shipped_at,"
    "delivered_at,receiver_name,receiver_phone,receiver_address,invoice_type,invoice_title,"
    "invoice_tax_id,note,updated_at\n"
    # Winter (UTC-5), summer (UTC-4), a time with an offset, microseconds.
    "A1,tb_amy,paid,12345.67,0.10,2024-01-15 23:30:00,2024-01-16 00:10:05,,,,"
    "收件人,13800000000,浙江省杭州市,电子普通发票,个人,,备注,2024-01-16 00:10:05\n"
    "A2,tb_bob,delivered,0.10,0.10,2024-07-01 08:00:00.250000,2024-07-01T08:05:00+08:00,"
    "2024-07-03 08:00,2024-07-02 09:00,2024-07-04 10:00,,,,,,,,2024-07-04 10:00\n"
    "A3,tb_cy,pending_payment,59.9,0,2024-03-10 02:30:00,,,,,,,,,,,,2024-03-10 03:30:00\n"
)
ITEMS = (
    "order_id,item_id,product_id,name,spec,category,flags,quantity,unit_price,paid_amount,"
    "updated_at\n"
    "A1,A1-1,P1,蜂蜜,500g,食品,food,2,0.10,0.20,2024-01-16 00:10:05\n"
    'A1,A1-2,P2,定制T恤,XL,服装,"custom_made, food",1,12345.67,12345.67,2024-01-16 00:10:05\n'
    "A2,A2-1,P1,蜂蜜,1kg,食品,food,,,,2024-07-04 10:00\n"
)
SHIPMENTS = (
    "order_id,courier,tracking_number,shipped_at,delivered_at,event_time,event_status,"
    "event_location,event_description,updated_at\n"
    "A2,SF,SF100,2024-07-02 09:00,,2024-07-02 09:00,collected,杭州,已揽收,2024-07-02 09:00\n"
    "A2,SF,SF100,2024-07-02 09:00,2024-07-04 10:00,2024-07-04 10:00:00.5,delivered,上海,"
    "已签收,2024-07-04 10:00\n"
)


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


@pytest.fixture
def shop():
    return f.make_shop(slug="ny-shop", time_zone="America/New_York")


def _import(shop, kind: str, text: str) -> tabular.ImportReport:
    report = tabular.run_import(kind, text.encode(), f"{kind}.csv", shop=shop)
    assert report.errors == []
    return report


def _stored(model, pk: int) -> dict:
    """The row as the database holds it (the driver's values, no ORM)."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT * FROM {connection.ops.quote_name(model._meta.db_table)} WHERE id = %s",
            [pk],
        )
        columns = [column[0] for column in cursor.description]
        return dict(zip(columns, cursor.fetchone(), strict=True))


def test_imported_values_read_back_through_the_orm(shop):
    _import(shop, "orders", ORDERS)
    _import(shop, "items", ITEMS)
    _import(shop, "shipments", SHIPMENTS)

    first = Order.objects.get(shop=shop, external_id="A1")
    assert first.total == Decimal("12345.67")
    assert first.paid_amount == Decimal("0.10")
    assert first.ordered_at == dt.datetime(2024, 1, 15, 23, 30, tzinfo=NEW_YORK)
    assert first.ordered_at == dt.datetime(2024, 1, 16, 4, 30, tzinfo=dt.UTC)
    assert first.paid_at == dt.datetime(2024, 1, 16, 0, 10, 5, tzinfo=NEW_YORK)
    assert (first.ship_by, first.shipped_at, first.delivered_at) == (None, None, None)
    assert (first.receiver_name, first.invoice_type, first.note) == (
        "收件人",
        "电子普通发票",
        "备注",
    )
    assert first.source_updated_at == dt.datetime(2024, 1, 16, 5, 10, 5, tzinfo=dt.UTC)

    second = Order.objects.get(shop=shop, external_id="A2")
    assert second.status == "delivered"
    assert second.total == Decimal("0.10")
    assert second.ordered_at == dt.datetime(2024, 7, 1, 12, 0, 0, 250000, tzinfo=dt.UTC)
    assert second.paid_at == dt.datetime(2024, 7, 1, 0, 5, tzinfo=dt.UTC)  # its own offset
    assert second.ship_by == dt.datetime(2024, 7, 3, 8, 0, tzinfo=NEW_YORK)
    assert second.delivered_at == dt.datetime(2024, 7, 4, 14, 0, tzinfo=dt.UTC)

    # 02:30 on the day clocks go forward does not exist: read as parse_time
    # reads it (fold 0, the offset before the change).
    third = Order.objects.get(shop=shop, external_id="A3")
    assert third.ordered_at == sync.parse_time("2024-03-10 02:30:00", NEW_YORK)
    assert third.total == Decimal("59.90")
    assert third.paid_amount == Decimal("0.00")

    honey, shirt = (
        OrderItem.objects.get(order=first, external_id="A1-1"),
        OrderItem.objects.get(order=first, external_id="A1-2"),
    )
    assert (honey.unit_price, honey.paid_amount, honey.quantity) == (
        Decimal("0.10"),
        Decimal("0.20"),
        2,
    )
    assert honey.flags == ["food"]
    assert shirt.flags == ["food", "custom_made"]
    assert shirt.unit_price == Decimal("12345.67")
    assert shirt.product.external_id == "P2"
    assert shirt.product.flags == ["food", "custom_made"]
    later = OrderItem.objects.get(order=second, external_id="A2-1")
    assert (later.quantity, later.unit_price, later.paid_amount) == (1, Decimal("0"), Decimal("0"))
    assert later.source_updated_at == dt.datetime(2024, 7, 4, 10, 0, tzinfo=NEW_YORK)
    # The later row describing P1 refreshed nothing it says differently.
    assert Product.objects.get(shop=shop, external_id="P1").name == "蜂蜜"

    parcel = Shipment.objects.get(order=second)
    assert parcel.shipped_at == dt.datetime(2024, 7, 2, 13, 0, tzinfo=dt.UTC)
    assert parcel.delivered_at == dt.datetime(2024, 7, 4, 14, 0, tzinfo=dt.UTC)
    assert parcel.last_event_at == dt.datetime(2024, 7, 4, 14, 0, 0, 500000, tzinfo=dt.UTC)
    events = list(TrackingEvent.objects.filter(shipment=parcel))
    assert [(e.status, e.location, e.occurred_at) for e in events] == [
        ("collected", "杭州", dt.datetime(2024, 7, 2, 13, 0, tzinfo=dt.UTC)),
        ("delivered", "上海", dt.datetime(2024, 7, 4, 14, 0, 0, 500000, tzinfo=dt.UTC)),
    ]


def test_imported_rows_are_what_the_orm_writes(shop):
    """Saving each imported object through the ORM rewrites every column: the
    stored row must not change (but `Order.updated_at`, which save() sets)."""
    _import(shop, "orders", ORDERS)
    _import(shop, "items", ITEMS)
    _import(shop, "shipments", SHIPMENTS)
    checked = 0
    for model in (Order, OrderItem, Product, Shipment, TrackingEvent):
        for instance in model.objects.all():
            before = _stored(model, instance.pk)
            instance.save()
            after = _stored(model, instance.pk)
            if model is Order:
                before.pop("updated_at"), after.pop("updated_at")
            assert after == before, model.__name__
            checked += 1
    assert checked == 3 + 3 + 2 + 1 + 2


def test_a_second_import_changes_nothing(shop):
    for kind, text in (("orders", ORDERS), ("items", ITEMS), ("shipments", SHIPMENTS)):
        _import(shop, kind, text)
    for kind, text in (("orders", ORDERS), ("items", ITEMS), ("shipments", SHIPMENTS)):
        report = _import(shop, kind, text)
        assert (report.created, report.updated) == (0, 0), kind


def test_the_fast_cleaner_agrees_with_prepare():
    zone = NEW_YORK
    for kind, text in (("orders", ORDERS), ("items", ITEMS), ("shipments", SHIPMENTS)):
        header, rows = tabular.read_table(text.encode(), f"{kind}.csv")
        clean = sync.cleaner(kind, header, zone)
        for row in rows:
            assert clean(row.cells) == sync.prepare(kind, row.values, zone)
    header = ["order_id", "buyer_account", "total", "ordered_at", "updated_at"]
    clean = sync.cleaner("orders", header, zone)
    for cells in (
        ["A", "b", " 1,234.5 ", "2024-01-01", "2024-01-01T00:00Z"],
        ["A", "b", "", " 2024-01-01 10:00 ", "2024-11-03 01:30"],  # ambiguous hour
    ):
        assert clean(cells) == sync.prepare("orders", dict(zip(header, cells, strict=True)), zone)
    for cells in (
        ["A", "b", "-1.00", "2024-01-01", "2024-01-01"],
        ["A", "b", "1.001", "2024-01-01", "2024-01-01"],
        ["A", "b", "1.00", "yesterday", "2024-01-01"],
        ["", "b", "1.00", "2024-01-01", "2024-01-01"],
    ):
        with pytest.raises(sync.Invalid) as fast:
            clean(cells)
        with pytest.raises(sync.Invalid) as slow:
            sync.prepare("orders", dict(zip(header, cells, strict=True)), zone)
        assert fast.value.errors == slow.value.errors
