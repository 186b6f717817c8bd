"""Customers through the API and the admin: buyer data masked; the plain value
only through the audited reveal."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse

from kefu.compliance.models import AuditLog
from kefu.customers.models import CustomerIdentity
from kefu.tests import factories as f

pytestmark = pytest.mark.django_db

PHONE = "13812345678"


@pytest.fixture
def setup():
    shop = f.make_shop()
    agent = f.make_agent(shop)
    customer = f.make_customer(shop, name=f"买家{PHONE}")
    customer.notes = f"备用电话 {PHONE}"
    customer.save()
    phone = CustomerIdentity.objects.create(shop=shop, customer=customer, kind="phone", value=PHONE)
    client = Client()
    client.force_login(agent)
    return customer, phone, client


def test_list_and_profile_mask_buyer_data(setup):
    customer, phone, client = setup
    [listed] = client.get("/api/v1/customers").json()
    assert (listed["id"], listed["name"], listed["notes"]) == (
        customer.id,
        "买家138****5678",
        "备用电话 138****5678",
    )
    profile = client.get(f"/api/v1/customers/{customer.id}").json()
    assert {"id": phone.id, "kind": "phone", "value": "138****5678", "masked": True} in (
        profile["identities"]
    )
    assert PHONE not in str(profile)
    assert not AuditLog.objects.filter(action="reveal").exists()


def test_admin_shows_identities_masked_and_read_only(setup):
    customer, phone, _client = setup
    # (A name is shown as written in the admin's titles; the identity never is.)
    customer.name, customer.notes = "小美", ""
    customer.save()
    root = get_user_model().objects.create_superuser("root", "root@example.com", "x-pass-1234")
    admin = Client()
    admin.force_login(root)
    listing = admin.get(reverse("admin:customers_customer_changelist")).content.decode()
    assert "小美" in listing and PHONE not in listing
    page = admin.get(reverse("admin:customers_customer_change", args=[customer.id]))
    body = page.content.decode()
    assert page.status_code == 200
    assert "138****5678" in body
    # The identity's value is not an editable field.
    assert 'name="identities-0-value"' not in body
    assert PHONE not in body
