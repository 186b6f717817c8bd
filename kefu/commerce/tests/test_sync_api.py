"""The sync API: idempotent upsert by the shop's ids, precedence, per-record
errors, `atomic`, and a token only ever reaching its own shop."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pytest
from django.test import Client
from django.utils import translation

from kefu.accounts import actions as account_actions
from kefu.commerce.models import Order, OrderItem, Payment, TrackingEvent
from kefu.tests import factories as f

pytestmark = [pytest.mark.django_db, pytest.mark.backend]


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


@pytest.fixture
def shop():
    return f.make_shop(slug="warm-home")


def client_for(shop) -> Client:
    _token, raw = account_actions.create_api_token(shop, "ERP")
    return Client(HTTP_AUTHORIZATION=f"Bearer {raw}")


def post(client, kind, records, **extra):
    response = client.post(
        f"/api/v1/commerce/sync/{kind}",
        json.dumps({"records": records, **extra}),
        content_type="application/json",
    )
    return response.status_code, response.json()


def order(order_id="T1", status="paid", updated_at="2024-05-02T09:00:00+08:00", **fields):
    return {
        "order_id": order_id,
        "buyer_account": "tb_amy",
        "status": status,
        "total": "99.00",
        "paid_amount": "99.00",
        "ordered_at": "2024-05-01T10:00:00",
        "updated_at": updated_at,
        **fields,
    }


def test_an_order_sent_twice_stays_one(shop):
    client = client_for(shop)
    status, body = post(client, "orders", [order()])
    assert (status, body["created"], body["results"]) == (
        200,
        1,
        [{"index": 0, "outcome": "created", "errors": []}],
    )
    status, body = post(client, "orders", [order()])
    assert (body["created"], body["unchanged"]) == (0, 1)
    assert Order.objects.filter(shop=shop, external_id="T1").count() == 1


def test_older_never_overwrites_newer_and_a_tie_goes_to_the_later_state(shop):
    client = client_for(shop)
    post(client, "orders", [order(status="shipped", updated_at="2024-05-03T09:00:00+08:00")])
    _status, body = post(
        client, "orders", [order(status="paid", updated_at="2024-05-02T09:00:00+08:00")]
    )
    assert body["results"][0]["outcome"] == "ignored_older"
    assert Order.objects.get().status == "shipped"
    # Same stamp, written in another zone: a tie; an earlier state is ignored...
    _status, body = post(
        client, "orders", [order(status="paid", updated_at="2024-05-03T01:00:00Z")]
    )
    assert body["results"][0]["outcome"] == "ignored_older"
    # ...a later one wins.
    _status, body = post(
        client, "orders", [order(status="completed", updated_at="2024-05-03T01:00:00Z")]
    )
    assert body["results"][0]["outcome"] == "updated"
    assert Order.objects.get().status == "completed"


def test_bad_records_are_reported_by_field_and_good_ones_stored(shop):
    client = client_for(shop)
    records = [
        order("T1"),
        order("T2", status="lost", total="abc"),
        order("T1"),
        {"order_id": "T4", "updated_at": "2024-05-02T09:00:00", "colour": "red"},
    ]
    status, body = post(client, "orders", records)
    assert status == 200
    assert [(r["index"], r["outcome"]) for r in body["results"]] == [
        (0, "created"),
        (1, None),
        (2, None),
        (3, None),
    ]
    assert [e["field"] for e in body["results"][1]["errors"]] == ["total", "status"]
    [duplicate] = body["results"][2]["errors"]
    assert duplicate["field"] == "order_id" and "0" in duplicate["reason"]
    assert [e["field"] for e in body["results"][3]["errors"]] == ["colour"]
    assert (body["stored"], body["created"], body["rejected"]) == (True, 1, 3)
    assert list(Order.objects.values_list("external_id", flat=True)) == ["T1"]


def test_atomic_stores_nothing_for_a_bad_batch(shop):
    client = client_for(shop)
    _status, body = post(client, "orders", [order("T1"), order("T2", total="-1")], atomic=True)
    assert (body["stored"], body["created"], body["rejected"]) == (False, 0, 1)
    assert body["results"][0] == {"index": 0, "outcome": None, "errors": []}
    assert Order.objects.count() == 0


def test_items_payments_and_shipments(shop):
    client = client_for(shop)
    post(client, "orders", [order("T1")])
    stamp = "2024-05-02T09:00:00+08:00"
    _status, body = post(
        client,
        "items",
        [
            {
                "order_id": "T1",
                "item_id": "I1",
                "name": "定制T恤",
                "flags": ["custom_made"],
                "quantity": 2,
                "unit_price": 49.5,
                "paid_amount": "99.00",
                "updated_at": stamp,
            },
            {"order_id": "T9", "item_id": "I1", "name": "x", "updated_at": stamp},
        ],
    )
    assert [r["outcome"] for r in body["results"]] == ["created", None]
    assert body["results"][1]["errors"][0]["field"] == "order_id"
    item = OrderItem.objects.get()
    assert (item.flags, item.quantity, item.unit_price) == (["custom_made"], 2, Decimal("49.50"))

    _status, body = post(
        client,
        "payments",
        [
            {
                "order_id": "T1",
                "payment_id": "P1",
                "amount": "99.00",
                "status": "paid",
                "updated_at": stamp,
            }
        ],
    )
    assert body["created"] == 1 and Payment.objects.get().status == "paid"

    event = {
        "order_id": "T1",
        "courier": "YTO",
        "tracking_number": "YT1",
        "event_time": "2024-05-02T12:00:00",
        "event_status": "collected",
        "updated_at": stamp,
    }
    assert post(client, "shipments", [event])[1]["created"] == 1
    assert post(client, "shipments", [event])[1]["unchanged"] == 1
    assert TrackingEvent.objects.get().shipment.last_event_at == dt.datetime(
        2024, 5, 2, 4, 0, tzinfo=dt.UTC
    )


def test_a_token_of_another_shop_cannot_touch_this_shops_orders(shop):
    post(client_for(shop), "orders", [order("T1", status="paid")])
    other = f.make_shop(slug="rival")
    intruder = client_for(other)
    _status, body = post(
        intruder, "orders", [order("T1", status="closed", updated_at="2030-01-01T00:00:00Z")]
    )
    # The same number is another order, in the token's own shop.
    assert body["results"][0]["outcome"] == "created"
    mine = Order.objects.get(shop=shop, external_id="T1")
    assert (mine.status, mine.source_updated_at.year) == ("paid", 2024)
    _status, body = post(
        intruder,
        "payments",
        [
            {
                "order_id": "T1",
                "payment_id": "X",
                "amount": "1",
                "updated_at": "2030-01-01T00:00:00Z",
            }
        ],
    )
    assert not Payment.objects.filter(order=mine).exists()


def test_needs_a_token_and_at_most_1000_records(shop):
    status, _body = post(Client(), "orders", [order()])
    assert status == 401
    admin_user = f.make_agent(shop, role="supervisor", status="offline")
    session = Client()
    session.force_login(admin_user)
    status, body = post(session, "orders", [order()])
    assert (status, body["code"]) == (403, "forbidden")
    status, _body = post(client_for(shop), "orders", [order(f"T{n}") for n in range(1001)])
    assert status == 422
    assert Order.objects.count() == 0
