"""Shops maintain their risk list and settings in the back office: scoped to
the supervisor's shops, and settings the engine or the sweeps could not use are
refused when saved."""

from __future__ import annotations

import pytest
from django.test import Client

from kefu.core.errors import ActionError
from kefu.tests import factories as f

from .. import actions
from ..models import CommerceSettings, Product, RiskEntry

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "ladder",
    [
        {"steps": []},
        {"steps": [{"kind": "cash", "amount": "5"}]},
        {"steps": [{"kind": "coupon", "amount": "-5"}]},
        {"steps": [{"kind": "coupon", "amount": "5", "level": "boss"}]},
        ["coupon"],
    ],
)
def test_bad_ladders_are_refused(ladder):
    with pytest.raises(ActionError):
        actions.check_ladder(ladder)


def test_a_good_ladder_is_normalised():
    assert actions.check_ladder({"steps": [{"kind": "coupon", "amount": "5"}]}) == {
        "steps": [{"kind": "coupon", "amount": "5.00", "level": "junior"}]
    }
    assert actions.check_ladder({}) == {}


def test_bad_policies_are_refused():
    with pytest.raises(ActionError) as refused:
        actions.check_policy({"no_reason_days": "seven"})
    assert "no_reason_days" in refused.value.message
    assert actions.check_policy({"no_reason_days": 15}) == {"no_reason_days": 15}


@pytest.fixture
def supervisor_client():
    shop = f.make_shop()
    supervisor = f.make_agent(shop, role="supervisor", status="offline")
    client = Client()
    client.force_login(supervisor)
    return shop, supervisor, client


def test_supervisor_adds_a_risk_entry_for_their_shop_only(supervisor_client):
    shop, supervisor, client = supervisor_client
    other = f.make_shop()
    url = "/admin/commerce/riskentry/add/"
    form = {"buyer_account": "tb_bad", "kind": "malicious_order", "note": "多次恶意拍下不付款"}
    assert client.post(url, form | {"shop": other.id}).status_code == 200  # not a choice
    assert not RiskEntry.objects.exists()
    assert client.post(url, form | {"shop": shop.id}).status_code == 302
    entry = RiskEntry.objects.get()
    assert entry.created_by_id == supervisor.id and entry.shop_id == shop.id
    theirs = RiskEntry.objects.create(shop=other, buyer_account="x", kind="malicious_order")
    assert client.get(f"/admin/commerce/riskentry/{theirs.id}/change/").status_code == 302


def test_settings_form_refuses_what_cannot_be_used(supervisor_client):
    shop, _supervisor, client = supervisor_client
    settings = CommerceSettings.objects.create(shop=shop)
    url = f"/admin/commerce/commercesettings/{settings.id}/change/"
    base = {
        "shop": shop.id,
        "policy": "{}",
        "bargaining_ladder": "{}",
        "payment_reminder_after_minutes": 30,
        "reminder_hours": "09:00-22:00",
        "reminder_success_hours": 24,
        "stalled_after_hours": 48,
        "stalled_hours_by_courier": "{}",
        "invoice_due_days": 2,
        "large_order_amount": "5000",
        "often_changed_count": 3,
        "serial_returner_cases": 3,
    }
    for bad in (
        {"policy": '{"no_reason_days": -3}'},
        {"bargaining_ladder": '{"steps": [{"kind": "cash", "amount": "5"}]}'},
        {"reminder_hours": "nine to ten"},
        {"stalled_hours_by_courier": '{"顺丰": "soon"}'},
    ):
        response = client.post(url, base | bad)
        assert response.status_code == 200 and b"errorlist" in response.content, bad
    good = client.post(url, base | {"policy": '{"no_reason_days": 15}'})
    assert good.status_code == 302
    settings.refresh_from_db()
    assert settings.policy == {"no_reason_days": 15}


def test_supervisor_sets_a_products_usage_cycle_and_nothing_else(supervisor_client):
    shop, _supervisor, client = supervisor_client
    product = Product.objects.create(shop=shop, external_id="P1", name="洗衣液", category="日用")
    url = f"/admin/commerce/product/{product.id}/change/"
    assert client.post(url, {"usage_cycle_days": "45", "name": "改名"}).status_code == 302
    product.refresh_from_db()
    assert (product.usage_cycle_days, product.name) == (45, "洗衣液")  # the name is the import's
    assert client.post(url, {"usage_cycle_days": "-1"}).status_code == 200  # refused
    theirs = Product.objects.create(shop=f.make_shop(), external_id="P1", name="别家")
    assert client.get(f"/admin/commerce/product/{theirs.id}/change/").status_code == 302
    assert client.get("/admin/commerce/product/add/").status_code == 403
