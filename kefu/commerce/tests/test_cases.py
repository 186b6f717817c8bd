"""After-sales cases through the workbench API: the policy decides and
explains, the seven steps one at a time with who and when, approval above
the threshold, platform intervention and the dispute rate, and the
supervisors' page."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.test import Client
from django.utils import timezone

from kefu.compliance.models import AuditLog
from kefu.core.clock import FixedClock

from .. import queries
from ..models import AfterSalesCase, CaseState, Order, OrderStatus, Product
from .test_orders_api import get, post, world  # noqa: F401 - the shared fixture

pytestmark = [pytest.mark.django_db, pytest.mark.backend]


def signed(order: Order, days_ago: int, paid: str = "100.00") -> Order:
    now = timezone.now()
    Order.objects.filter(id=order.id).update(
        status=OrderStatus.DELIVERED,
        ordered_at=now - dt.timedelta(days=days_ago + 3),
        paid_at=now - dt.timedelta(days=days_ago + 3),
        delivered_at=now - dt.timedelta(days=days_ago),
        paid_amount=Decimal(paid),
    )
    order.items.update(paid_amount=Decimal(paid))
    order.refresh_from_db()
    return order


def open_case(client, conversation, order, quantity=1, **fields):
    body = {
        "items": [{"item_id": order.items.get().id, "quantity": quantity}],
        "reason": "no_reason",
        "condition": "intact",
    } | fields
    return post(client, f"/conversations/{conversation.id}/orders/{order.id}/cases", body)


def test_policy_check_explains_without_opening_a_case(world):  # noqa: F811
    _shop, _agent, _sup, conversation, mine, _theirs, client = world
    signed(mine, 2)
    response = post(
        client,
        f"/conversations/{conversation.id}/orders/{mine.id}/policy-check",
        {"items": [{"item_id": mine.items.get().id, "quantity": 1}], "reason": "no_reason"},
    )
    assert response.status_code == 200
    [decision] = response.json()
    assert decision["allowed"] and decision["refundable_amount"] == "50.00"
    assert "7" in decision["explanation"]["zh-hans"]
    assert not AfterSalesCase.objects.exists()


def test_a_case_moves_through_the_seven_steps(world):  # noqa: F811
    _shop, agent, _sup, conversation, mine, _theirs, client = world
    signed(mine, 2)
    response = open_case(client, conversation, mine, quantity=2)
    assert response.status_code == 201, response.content
    case = response.json()
    assert case["state"] == CaseState.CLASSIFIED and case["refund_amount"] == "100.00"
    assert case["return_shipping_paid_by"] == "buyer"
    for expected in ("solution", "executing", "confirmed", "archived", "followed_up"):
        moved = post(client, f"/cases/{case['id']}/advance", {"note": expected})
        assert moved.json()["state"] == expected
    assert post(client, f"/cases/{case['id']}/advance", {}).status_code == 400
    transitions = AfterSalesCase.objects.get().transitions.all()
    assert [t.to_state for t in transitions] == list(
        ("received", "classified", "solution", "executing", "confirmed", "archived", "followed_up")
    )
    assert transitions.last().actor_id == agent.id
    assert AuditLog.objects.filter(action="case").count() == 6


def test_a_refused_request_stores_nothing_and_explains(world):  # noqa: F811
    _shop, _agent, _sup, conversation, mine, _theirs, client = world
    signed(mine, 9)
    response = open_case(client, conversation, mine)
    assert response.status_code == 400 and response.json()["code"] == "policy_refused"
    assert "第9天" in response.json()["decisions"][0]["explanation"]["zh-hans"]
    assert not AfterSalesCase.objects.exists()


def test_big_refunds_wait_for_a_supervisor_before_execution(world):  # noqa: F811
    _shop, _agent, supervisor, conversation, mine, _theirs, client = world
    signed(mine, 2, paid="1200.00")
    case = open_case(client, conversation, mine, quantity=2).json()
    assert case["approval"] == "pending"
    post(client, f"/cases/{case['id']}/advance", {})  # → solution
    blocked = post(client, f"/cases/{case['id']}/advance", {})
    assert blocked.status_code == 400 and blocked.json()["code"] == "approval_needed"
    assert post(client, f"/cases/{case['id']}/decide", {"approve": True}).status_code == 404
    boss = Client()
    boss.force_login(supervisor)
    assert post(boss, f"/cases/{case['id']}/decide", {"approve": True}).json()["approval"] == (
        "approved"
    )
    assert post(client, f"/cases/{case['id']}/advance", {}).json()["state"] == "executing"


def test_platform_intervention_counts_in_the_dispute_rate(world):  # noqa: F811
    shop, _agent, _sup, conversation, mine, _theirs, client = world
    signed(mine, 2)
    case = open_case(client, conversation, mine).json()
    assert queries.dispute_rate(shop.id).disputes == 0
    marked = post(client, f"/cases/{case['id']}/platform-intervention")
    assert marked.json()["platform_intervention"] is True
    rate = queries.dispute_rate(shop.id)
    assert (rate.disputes, rate.paid_orders) == (1, 2)  # both orders paid within 30 days
    assert rate.rate == Decimal("0.5000")
    later = FixedClock(timezone.now() + dt.timedelta(days=31))
    assert queries.dispute_rate(shop.id, clock=later).disputes == 0


def test_another_accounts_order_cannot_get_a_case(world):  # noqa: F811
    _shop, _agent, _sup, conversation, _mine, theirs, client = world
    signed(theirs, 2)
    response = open_case(client, conversation, theirs)
    assert response.status_code == 403 and response.json()["code"] == "order_identity"


def test_bad_case_requests_are_refused(world):  # noqa: F811
    _shop, _agent, _sup, conversation, mine, _theirs, client = world
    signed(mine, 2)
    assert open_case(client, conversation, mine, quantity=3).status_code == 400
    assert open_case(client, conversation, mine, reason="bored").status_code == 400
    url = f"/conversations/{conversation.id}/orders/{mine.id}/cases"
    assert post(client, url, {"items": [], "reason": "no_reason"}).status_code == 400
    assert post(client, url, {"items": [{"item_id": 999}], "reason": "quality"}).status_code == 400
    assert not AfterSalesCase.objects.exists()


def test_supervisors_page_lists_steps_approvals_and_disputes(world):  # noqa: F811
    shop, _agent, supervisor, conversation, mine, _theirs, client = world
    signed(mine, 2, paid="1200.00")
    product = Product.objects.create(shop=shop, external_id="P-1", name="纯棉四件套")
    mine.items.update(product=product)
    case = open_case(client, conversation, mine, quantity=2).json()
    boss = Client()
    boss.force_login(supervisor)
    page = boss.get(f"/commerce/after-sales/?shop={shop.slug}")
    assert page.status_code == 200
    text = page.content.decode()
    assert mine.external_id in text and "0.00%" in text
    decided = boss.post(
        f"/commerce/after-sales/case/{case['id']}/decide",
        {"decision": "approve", "shop": shop.slug},
    )
    assert decided.status_code == 302
    assert AfterSalesCase.objects.get().approval == "approved"
    post(client, f"/cases/{case['id']}/platform-intervention")
    text = boss.get(f"/commerce/after-sales/?shop={shop.slug}").content.decode()
    # The shop's rate (1 dispute / 2 paid orders) and the product's (1 / 1).
    assert "50.00%" in text and product.name in text and "100.00" in text
    assert client.get("/commerce/after-sales/").status_code == 403  # an agent
    assert get(client, "/approvals").json() == {"changes": [], "concessions": [], "cases": []}
