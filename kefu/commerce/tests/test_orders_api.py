"""The order panel's API: the identity rule on every read and change, changes
before and after shipping, price changes waiting for a supervisor, the
bargaining ladder within authority, invoice promises, reveals and the audit
log, and other shops' orders out of reach."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pytest
from django.test import Client

from kefu.compliance.models import AuditLog
from kefu.inbox.models import Conversation, Message
from kefu.tests import factories as f

from ..models import (
    ApprovalState,
    Compensation,
    InvoiceRequest,
    Order,
    OrderChange,
    OrderItem,
    OrderStatus,
    RiskEntry,
    Shipment,
)

pytestmark = [pytest.mark.django_db, pytest.mark.backend]


def make_order(shop, buyer: str, number: str, status=OrderStatus.PAID, total="100.00", **fields):
    now = dt.datetime(2026, 11, 20, 10, tzinfo=dt.UTC)
    order = Order.objects.create(
        shop=shop,
        external_id=number,
        buyer_account=buyer,
        status=status,
        total=Decimal(total),
        paid_amount=Decimal(total) if status != OrderStatus.PENDING_PAYMENT else 0,
        ordered_at=now,
        paid_at=now if status != OrderStatus.PENDING_PAYMENT else None,
        receiver_name="李先生",
        receiver_phone="13812345678",
        receiver_address="浙江省杭州市西湖区文三路100号3幢201室",
        source_updated_at=now,
        **fields,
    )
    OrderItem.objects.create(
        order=order,
        external_id=f"{number}-1",
        name="四件套",
        spec="1.8m",
        quantity=2,
        unit_price=Decimal(total) / 2,
        paid_amount=order.paid_amount,
        source_updated_at=now,
    )
    return order


@pytest.fixture
def world(clock):
    shop = f.make_shop()
    agent = f.make_agent(shop, name="小王")
    supervisor = f.make_agent(shop, role="supervisor", status="offline", name="李主管")
    customer = f.make_customer(shop)
    buyer = customer.identities.get().value
    conversation = f.open_conversation(shop, customer, "我的订单", clock=clock)
    Conversation.objects.filter(id=conversation.id).update(agent=agent)
    mine = make_order(shop, buyer, "A1001")
    theirs = make_order(shop, "someone_else", "A1002")
    client = Client()
    client.force_login(agent)
    return shop, agent, supervisor, conversation, mine, theirs, client


def post(client, url, body=None):
    return client.post(
        f"/api/v1/commerce{url}", json.dumps(body or {}), content_type="application/json"
    )


def get(client, url):
    return client.get(f"/api/v1/commerce{url}")


def test_lists_the_customers_orders_only(world):
    _shop, _agent, _sup, conversation, mine, _theirs, client = world
    response = get(client, f"/conversations/{conversation.id}/orders")
    assert response.status_code == 200
    assert [o["number"] for o in response.json()] == [mine.external_id]


def test_detail_masks_the_receiver(world):
    _shop, _agent, _sup, conversation, mine, _theirs, client = world
    detail = get(client, f"/conversations/{conversation.id}/orders/{mine.id}").json()
    assert detail["receiver_phone"] == "138****5678"
    assert "文三路" not in detail["receiver_address"]
    assert detail["items"][0]["quantity"] == 2
    assert len(detail["ladder"]) >= 1


def test_another_accounts_order_gets_the_standard_answer(world):
    _shop, _agent, _sup, conversation, _mine, theirs, client = world
    for response in (
        get(client, f"/conversations/{conversation.id}/lookup?number={theirs.external_id}"),
        get(client, f"/conversations/{conversation.id}/orders/{theirs.id}"),
        post(
            client,
            f"/conversations/{conversation.id}/orders/{theirs.id}/changes",
            {"kind": "note", "values": {"note": "帮他改一下"}},
        ),
        post(
            client,
            f"/conversations/{conversation.id}/orders/{theirs.id}/reveal",
            {"reason": "核对收货地址"},
        ),
        post(
            client,
            f"/conversations/{conversation.id}/orders/{theirs.id}/concessions",
            {"kind": "coupon", "amount": "5"},
        ),
    ):
        assert response.status_code == 403, response.content
        body = response.json()
        assert body["code"] == "order_identity"
        assert "拍下订单" in body["answer"]["zh-hans"]
    assert not OrderChange.objects.exists() and not Compensation.objects.exists()


def test_an_agent_of_another_shop_cannot_reach_the_conversation(world):
    _shop, _agent, _sup, conversation, mine, _theirs, _client = world
    stranger = f.make_agent(f.make_shop(), name="外人")
    client = Client()
    client.force_login(stranger)
    assert get(client, f"/conversations/{conversation.id}/orders/{mine.id}").status_code == 404
    assert get(client, f"/conversations/{conversation.id}/orders").status_code == 404


def test_change_address_before_shipping_is_applied_and_audited(world):
    _shop, agent, _sup, conversation, mine, _theirs, client = world
    response = post(
        client,
        f"/conversations/{conversation.id}/orders/{mine.id}/changes",
        {
            "kind": "address",
            "values": {
                "receiver_name": "李先生",
                "receiver_phone": "13900001111",
                "receiver_address": "浙江省杭州市滨江区江南大道1号",
            },
        },
    )
    assert response.status_code == 201, response.content
    mine.refresh_from_db()
    assert mine.receiver_phone == "13900001111" and mine.change_count == 1
    entry = AuditLog.objects.get(action="order_change")
    assert entry.actor_id == agent.id
    assert entry.data["after"]["receiver_phone"] == "139****1111"  # masked in the log


def test_changes_after_shipping_are_refused_and_store_nothing(world):
    _shop, _agent, _sup, conversation, mine, _theirs, client = world
    Order.objects.filter(id=mine.id).update(status=OrderStatus.SHIPPED)
    response = post(
        client,
        f"/conversations/{conversation.id}/orders/{mine.id}/changes",
        {"kind": "cancel", "reason": "买家不想要了"},
    )
    assert response.status_code == 400 and response.json()["code"] == "order_state"
    assert not OrderChange.objects.exists()
    assert not AuditLog.objects.filter(action="order_change").exists()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"kind": "address", "values": {"receiver_name": "李", "receiver_phone": "abc"}}, "phone"),
        ({"kind": "cancel", "reason": ""}, "reason"),
        ({"kind": "quantity", "values": {"item_id": 0, "quantity": 1}}, "item"),
        ({"kind": "teleport"}, "Unknown"),
    ],
)
def test_bad_changes_get_a_clear_error(world, body, field):
    _shop, _agent, _sup, conversation, mine, _theirs, client = world
    response = post(client, f"/conversations/{conversation.id}/orders/{mine.id}/changes", body)
    assert response.status_code in (400, 404)
    assert response.json()["detail"]
    assert not OrderChange.objects.exists()


def test_price_change_waits_for_a_supervisor(world):
    shop, _agent, supervisor, conversation, _mine, _theirs, client = world
    unpaid = make_order(
        shop,
        conversation.customer.identities.get().value,
        "A1003",
        status=OrderStatus.PENDING_PAYMENT,
    )
    response = post(
        client,
        f"/conversations/{conversation.id}/orders/{unpaid.id}/changes",
        {"kind": "price", "values": {"total": "90"}, "reason": "老客户议价"},
    )
    assert response.status_code == 201 and response.json()["approval"] == "pending"
    unpaid.refresh_from_db()
    assert unpaid.total == Decimal("100.00")  # not yet
    change_id = response.json()["id"]
    assert post(client, f"/changes/{change_id}/decide", {"approve": True}).status_code == 404
    boss = Client()
    boss.force_login(supervisor)
    assert [c["id"] for c in get(boss, "/approvals").json()["changes"]] == [change_id]
    decided = post(boss, f"/changes/{change_id}/decide", {"approve": True, "note": "同意"})
    assert decided.status_code == 200 and decided.json()["approval"] == "approved"
    unpaid.refresh_from_db()
    assert unpaid.total == Decimal("90.00")
    again = post(boss, f"/changes/{change_id}/decide", {"approve": True})
    assert again.status_code == 400 and again.json()["code"] == "decided"
    assert AuditLog.objects.filter(action="order_approval").count() == 1


def test_bargaining_ladder_within_and_beyond_the_agents_level(world):
    shop, _agent, _sup, conversation, _mine, _theirs, client = world
    unpaid = make_order(
        shop,
        conversation.customer.identities.get().value,
        "A1004",
        status=OrderStatus.PENDING_PAYMENT,
    )
    url = f"/conversations/{conversation.id}/orders/{unpaid.id}/concessions"
    first = post(client, url, {"ladder_step": 0})
    assert first.status_code == 201 and first.json()["approval"] == "not_needed"
    senior_step = post(client, url, {"ladder_step": 3})  # a senior agent's step
    assert senior_step.json()["approval"] == "pending"
    over_limit = post(client, url, {"kind": "coupon", "amount": "50", "reason": "补偿"})
    assert over_limit.json()["approval"] == "pending"  # junior limit is 10 yuan
    within = post(client, url, {"kind": "coupon", "amount": "8", "reason": "补偿"})
    assert within.json()["approval"] == "not_needed"
    assert post(client, url, {"ladder_step": 99}).status_code == 400
    assert post(client, url, {"kind": "cash", "amount": "5"}).status_code == 400
    assert post(client, url, {"kind": "coupon", "amount": "-5"}).status_code == 400
    assert Compensation.objects.filter(approval=ApprovalState.PENDING).count() == 2


def test_ladder_only_before_payment(world):
    _shop, _agent, _sup, conversation, mine, _theirs, client = world
    response = post(
        client, f"/conversations/{conversation.id}/orders/{mine.id}/concessions", {"ladder_step": 0}
    )
    assert response.status_code == 400 and response.json()["code"] == "order_state"


def test_invoice_request_is_recorded_with_its_promised_date(world, clock):
    _shop, _agent, _sup, conversation, mine, _theirs, client = world
    url = f"/conversations/{conversation.id}/orders/{mine.id}/invoice-requests"
    promised = (clock.now() + dt.timedelta(days=3)).date().isoformat()
    too_much = post(
        client,
        url,
        {"invoice_type": "电子普通发票", "title": "个人", "amount": "500", "promised_by": promised},
    )
    assert too_much.status_code == 400 and "100.00" in too_much.json()["detail"]
    bad_date = post(
        client, url, {"invoice_type": "电子普通发票", "title": "个人", "promised_by": "next week"}
    )
    assert bad_date.status_code == 400
    ok = post(
        client, url, {"invoice_type": "电子普通发票", "title": "个人", "promised_by": promised}
    )
    assert ok.status_code == 201 and ok.json()["amount"] == "100.00"
    assert InvoiceRequest.objects.get().promised_by.isoformat() == promised


def test_reveal_needs_permission_and_a_reason_and_is_audited(world):
    _shop, _agent, supervisor, conversation, mine, _theirs, client = world
    url = f"/conversations/{conversation.id}/orders/{mine.id}/reveal"
    assert post(client, url, {"reason": "核对收货地址"}).status_code == 403  # a junior agent
    boss = Client()
    boss.force_login(supervisor)
    assert post(boss, url, {"reason": ""}).status_code == 400
    shown = post(boss, url, {"reason": "核对收货地址"})
    assert shown.status_code == 200 and shown.json()["receiver_phone"] == "13812345678"
    entry = AuditLog.objects.get(action="reveal")
    assert entry.actor_id == supervisor.id and entry.reason == "核对收货地址"


def test_resend_tracking_sends_it_through_the_conversation(world):
    _shop, _agent, _sup, conversation, mine, _theirs, client = world
    url = f"/conversations/{conversation.id}/orders/{mine.id}/changes"
    assert post(client, url, {"kind": "resend_tracking"}).json()["code"] == "order_state"
    Shipment.objects.create(order=mine, courier="顺丰速运", tracking_number="SF123456789")
    assert post(client, url, {"kind": "resend_tracking"}).status_code == 201
    last = Message.objects.filter(conversation=conversation).order_by("-seq").first()
    assert "SF123456789" in last.text and last.sender_type == "agent"
    assert "运单号" in last.text  # the buyer wrote in Chinese


def test_risk_flags_from_the_list_and_the_rules(world):
    shop, _agent, _sup, conversation, mine, _theirs, client = world
    RiskEntry.objects.create(shop=shop, buyer_account=mine.buyer_account, kind="malicious_order")
    Order.objects.filter(id=mine.id).update(total=Decimal("8000"), change_count=5)
    risks = get(client, f"/conversations/{conversation.id}/orders/{mine.id}").json()["risks"]
    assert {(r["kind"], r["source"]) for r in risks} == {
        ("malicious_order", "list"),
        ("large_order", "rule"),
        ("often_changed", "rule"),
    }


def test_needs_an_agents_login(world):
    _shop, _agent, _sup, conversation, mine, _theirs, _client = world
    assert (
        Client().get(f"/api/v1/commerce/conversations/{conversation.id}/orders").status_code == 401
    )
