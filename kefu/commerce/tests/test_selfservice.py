"""The help center's order pages: a buyer proves the order with its number and
the phone's last digits, sees that account's orders (masked), and requests a
return or exchange that the policy pre-checks; guessing is rate-limited."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.test import Client
from django.utils import timezone

from kefu.tests import factories as f

from ..models import AfterSalesCase, CaseSource, OrderStatus
from .test_orders_api import make_order

pytestmark = pytest.mark.django_db


@pytest.fixture
def shop_orders():
    shop = f.make_shop()
    now = timezone.now()
    signed = make_order(shop, "tb_buyer", "H20260001", status=OrderStatus.DELIVERED)
    signed.ordered_at = now - dt.timedelta(days=5)
    signed.delivered_at = now - dt.timedelta(days=2)
    signed.save()
    make_order(shop, "tb_buyer", "H20260002")  # paid, not shipped
    make_order(shop, "tb_other", "H20260003")  # another buyer's
    return shop, signed


def find(client, shop, number, tail):
    return client.post(f"/help/{shop.slug}/orders/", {"number": number, "phone_tail": tail})


def test_the_right_digits_show_this_buyers_orders_masked(shop_orders):
    shop, _signed = shop_orders
    client = Client()
    response = find(client, shop, "H20260001", "5678")
    assert response.status_code == 302
    page = client.get(response["Location"]).content.decode()
    assert "H20260001" in page and "H20260002" in page
    assert "H20260003" not in page
    assert "138****5678" in page and "13812345678" not in page
    assert "文三路" not in page


def test_wrong_digits_or_number_get_the_same_answer(shop_orders):
    shop, _signed = shop_orders
    client = Client()
    wrong_digits = find(client, shop, "H20260001", "0000")
    wrong_number = find(client, shop, "NOPE", "5678")
    assert wrong_digits.status_code == wrong_number.status_code == 400
    assert wrong_digits.content.count(b"form-error") == 1
    assert client.get(f"/help/{shop.slug}/orders/mine/").status_code == 302  # still unknown


def test_guessing_is_rate_limited(shop_orders):
    shop, _signed = shop_orders
    client = Client()
    for tail in range(5):
        find(client, shop, "H20260001", f"{tail:04d}")
    response = find(client, shop, "H20260001", "5678")  # right, but too late
    assert response.status_code == 429


def test_precheck_explains_and_submit_opens_a_self_service_case(shop_orders):
    shop, signed = shop_orders
    client = Client()
    find(client, shop, "H20260001", "5678")
    url = f"/help/{shop.slug}/orders/{signed.id}/after-sales/"
    item = signed.items.get()
    form = {f"qty_{item.id}": "1", "type": "return", "reason": "no_reason", "condition": "intact"}
    check = client.post(url, form | {"action": "check"})
    assert check.status_code == 200 and "policy-ok" in check.content.decode()
    assert not AfterSalesCase.objects.exists()
    submitted = client.post(url, form | {"action": "submit"})
    assert submitted.status_code == 302
    case = AfterSalesCase.objects.get()
    assert case.source == CaseSource.SELF_SERVICE and case.state == "classified"
    assert case.refund_amount == Decimal("50.00")  # 1 of 2 units of 100.00
    assert case.transitions.count() == 2


def test_a_refused_request_is_explained_and_stores_nothing(shop_orders):
    shop, signed = shop_orders
    signed.ordered_at = timezone.now() - dt.timedelta(days=25)
    signed.delivered_at = timezone.now() - dt.timedelta(days=20)
    signed.save()
    client = Client()
    find(client, shop, "H20260001", "5678")
    item = signed.items.get()
    response = client.post(
        f"/help/{shop.slug}/orders/{signed.id}/after-sales/",
        {
            f"qty_{item.id}": "1",
            "type": "return",
            "reason": "no_reason",
            "condition": "intact",
            "action": "submit",
        },
    )
    assert response.status_code == 200 and "policy-no" in response.content.decode()
    assert not AfterSalesCase.objects.exists()


def test_bad_form_input_gets_a_clear_error(shop_orders):
    shop, signed = shop_orders
    client = Client()
    find(client, shop, "H20260001", "5678")
    item = signed.items.get()
    url = f"/help/{shop.slug}/orders/{signed.id}/after-sales/"
    for form in (
        {f"qty_{item.id}": "9", "type": "return", "reason": "no_reason", "condition": "intact"},
        {f"qty_{item.id}": "1", "type": "teleport", "reason": "no_reason", "condition": "intact"},
        {f"qty_{item.id}": "1", "type": "return", "reason": "bored", "condition": "intact"},
        {f"qty_{item.id}": "0", "type": "return", "reason": "no_reason", "condition": "intact"},
    ):
        response = client.post(url, form | {"action": "submit"})
        assert response.status_code == 400 and b"form-error" in response.content
    assert not AfterSalesCase.objects.exists()


def test_another_buyers_order_is_out_of_reach(shop_orders):
    shop, _signed = shop_orders
    client = Client()
    find(client, shop, "H20260001", "5678")
    other = shop.order_set.get(external_id="H20260003")
    response = client.get(f"/help/{shop.slug}/orders/{other.id}/after-sales/")
    assert response.status_code == 404


def test_the_widget_visitor_sees_the_orders_of_a_linked_marketplace_account(shop_orders):
    from kefu.customers.models import Customer, CustomerIdentity
    from kefu.inbox.connectors import widget

    shop, _signed = shop_orders
    token, visitor_id = widget.issue_token(shop)
    client = Client()
    url = "/api/v1/widget/orders"
    headers = {"HTTP_AUTHORIZATION": f"Visitor {token}"}
    assert client.get(url).status_code == 401
    assert client.get(url, **headers).json() == []  # an unknown visitor: nothing
    customer = Customer.objects.create(shop=shop, name="买家")
    CustomerIdentity.objects.create(shop=shop, customer=customer, kind="visitor", value=visitor_id)
    assert client.get(url, **headers).json() == []  # a plain web visitor: nothing
    CustomerIdentity.objects.create(
        shop=shop, customer=customer, kind="marketplace", value="tb_buyer"
    )
    orders = client.get(url, **headers).json()
    assert sorted(o["number"] for o in orders) == ["H20260001", "H20260002"]
    assert orders[0]["receiver_phone"] == "138****5678"
