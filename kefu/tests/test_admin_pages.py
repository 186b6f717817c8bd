"""Every admin page opens: the list, the add form and the change form of one
row of each model, on the demo data (a 500 here is a broken form)."""

import pytest
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse

pytestmark = pytest.mark.django_db


@pytest.fixture
def superuser_client():
    from kefu.accounts.demo import load_demo
    from kefu.bot.demo import load_bot_demo
    from kefu.knowledge.demo import load_demo_knowledge

    shop = load_demo()
    load_demo_knowledge(shop)
    load_bot_demo(shop)
    user = get_user_model().objects.create_superuser("root", "root@example.com", "x-pass-1234")
    client = Client()
    client.force_login(user)
    return client


def test_every_admin_page_opens(superuser_client):
    failures = []
    for model in admin.site._registry:
        meta = model._meta
        base = f"admin:{meta.app_label}_{meta.model_name}"
        urls = [reverse(f"{base}_changelist"), reverse(f"{base}_add")]
        first = model._default_manager.order_by("pk").first()
        if first is not None:
            urls.append(reverse(f"{base}_change", args=[first.pk]))
        for url in urls:
            status = superuser_client.get(url).status_code
            if status not in (200, 403):
                failures.append((url, status))
    assert failures == []
