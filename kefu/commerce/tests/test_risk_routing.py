"""A shop routing rule with the risk condition sends customers on the shop's
risk list (恶意订单, 职业差评师 …) to the group it names, e.g. senior agents."""

from __future__ import annotations

import pytest

from kefu.tests import factories as f

from ..models import RiskEntry

pytestmark = pytest.mark.django_db


def test_customers_on_the_risk_list_go_to_the_rules_group(clock):
    shop = f.make_shop()
    f.make_rule(shop, "complaints", risk=True, position=1)
    risky = f.make_customer(shop)
    RiskEntry.objects.create(
        shop=shop, buyer_account=risky.identities.get().value, kind="professional_reviewer"
    )
    assert f.open_conversation(shop, risky, "在吗", clock=clock).group.code == "complaints"
    assert f.open_conversation(shop, f.make_customer(shop), "在吗", clock=clock).group.code == (
        "pre_sales"
    )


def test_a_list_entry_in_another_shop_does_not_count(clock):
    shop, other = f.make_shop(), f.make_shop()
    f.make_rule(shop, "complaints", risk=True, position=1)
    customer = f.make_customer(shop)
    RiskEntry.objects.create(
        shop=other, buyer_account=customer.identities.get().value, kind="malicious_order"
    )
    assert f.open_conversation(shop, customer, "在吗", clock=clock).group.code == "pre_sales"
