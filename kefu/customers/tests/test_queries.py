"""The staff's view of a customer: phone numbers and other buyer data masked,
with the identity id the UI needs to ask for a reveal."""

from __future__ import annotations

import pytest

from kefu.customers import queries
from kefu.customers.models import CustomerIdentity
from kefu.inbox.models import Conversation
from kefu.tests import factories as f

pytestmark = pytest.mark.django_db


def test_profile_masks_phone_identities_name_notes_and_previews():
    shop = f.make_shop()
    customer = f.make_customer(shop, name="13812345678")
    customer.notes = "改地址：浙江省杭州市西湖区文三路90号3幢201室"
    customer.save()
    phone = CustomerIdentity.objects.create(
        shop=shop, customer=customer, kind="phone", value="+86 139 1234 5678"
    )
    email = CustomerIdentity.objects.create(
        shop=shop, customer=customer, kind="email", value="buyer@example.com"
    )
    conversation = f.open_conversation(shop, customer, "你好")
    Conversation.objects.filter(id=conversation.id).update(last_message_preview="电话13700001111")
    marketplace = customer.identities.get(kind="marketplace")
    profile = queries.customer_profile(customer)
    assert profile["name"] == "138****5678"
    assert profile["notes"] == "改地址：浙江省杭州市西湖区****"
    assert profile["identities"] == [
        {"id": marketplace.id, "kind": "marketplace", "value": marketplace.value, "masked": False},
        {"id": phone.id, "kind": "phone", "value": "+86 139****5678", "masked": True},
        {"id": email.id, "kind": "email", "value": "buyer@example.com", "masked": False},
    ]
    assert [c["last_message_preview"] for c in profile["conversations"]] == ["电话137****1111"]
    assert "13700001111" not in str(profile)


def test_identity_in_shops():
    shop, other = f.make_shop(), f.make_shop()
    identity = f.make_customer(shop).identities.get()
    assert queries.identity_in_shops(identity.id, [shop.id]) == identity
    assert queries.identity_in_shops(identity.id, [other.id]) is None
    assert queries.identity_in_shops(identity.id, []) is None
