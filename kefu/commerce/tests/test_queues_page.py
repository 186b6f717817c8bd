"""The work-queue page: what it shows in both languages, who sees which
queues, and that a refused "done" changes nothing."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.test import Client
from django.utils import timezone

from kefu.commerce import sweeps
from kefu.commerce.models import Order, OrderStatus, TaskKind, WorkTask
from kefu.compliance.models import AuditLog
from kefu.core.clock import FixedClock
from kefu.tests import factories

pytestmark = pytest.mark.django_db

URL = "/commerce/queues/"


def order(shop, number, *, status=OrderStatus.PAID, hours_ago=80, **fields) -> Order:
    at = timezone.now() - dt.timedelta(hours=hours_ago)
    return Order.objects.create(
        shop=shop,
        external_id=number,
        buyer_account=fields.pop("buyer_account", f"tb_{number}"),
        status=status,
        total=Decimal("1999.00"),
        paid_amount=Decimal("1999.00"),
        ordered_at=at,
        paid_at=at if status == OrderStatus.PAID else None,
        receiver_phone="13812345678",
        source_updated_at=at,
        **fields,
    )


@pytest.fixture
def shop():
    shop = factories.make_shop()
    order(shop, "LATE001")
    order(shop, "UNPAID01", status=OrderStatus.PENDING_PAYMENT, hours_ago=2)
    # The next noon in Shanghai: inside the reminder hours.
    noon = timezone.now().astimezone(dt.UTC).replace(hour=4, minute=0)
    if noon < timezone.now():
        noon += dt.timedelta(days=1)
    sweeps.run_all(FixedClock(noon))
    return shop


def client_for(user, language="zh-hans", **options) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE=language, **options)
    client.force_login(user)
    return client


def test_supervisor_sees_the_late_shipment_queue_in_chinese(shop):
    supervisor = factories.make_agent(shop, "vip", role="supervisor")
    page = client_for(supervisor).get(URL)
    assert page.status_code == 200
    html = page.content.decode()
    assert "工作队列" in html
    assert "LATE001" in html
    assert "138****5678" in html
    assert "13812345678" not in html
    assert "违约金 ¥500.00（天猫积分）" in html
    assert "可以稍晚2天为您发出吗" in html
    assert "实付金额的 30%，最高 500 元" in html
    assert "催付成功率" in html
    assert "UNPAID01" not in html  # another tab


def test_payment_reminder_tab_in_english_shows_both_scripts(shop):
    supervisor = factories.make_agent(shop, "vip", role="supervisor")
    page = client_for(supervisor, "en").get(URL, {"tab": TaskKind.PAYMENT_REMINDER})
    html = page.content.decode()
    assert page.status_code == 200
    assert "Work queues" in html
    assert "UNPAID01" in html
    assert "亲~我们马上就要安排发货了~如果您现在付钱的话~今天就能帮您发货哦~" in html
    assert "Dear~ we are about to arrange shipping~" in html
    assert "Payment reminder success rate" in html


def test_a_user_of_another_shop_sees_nothing_of_this_shop(shop):
    other = factories.make_shop()
    outsider = factories.make_agent(other, "after_sales", role="supervisor")
    client = client_for(outsider)

    page = client.get(URL)
    assert page.status_code == 200
    assert "LATE001" not in page.content.decode()
    asked_for_it = client.get(URL, {"shop": shop.slug, "tab": TaskKind.LATE_SHIPMENT})
    assert asked_for_it.status_code == 403
    assert "LATE001" not in asked_for_it.content.decode()

    task = WorkTask.objects.get(order__external_id="LATE001")
    response = client.post(f"/commerce/queues/{task.id}/finish", {"action": "done"})
    assert response.status_code == 302
    task.refresh_from_db()
    assert (task.status, task.done_by) == ("open", None)
    assert not AuditLog.objects.filter(action="order_change").exists()


def test_user_without_a_shop_is_refused(shop):
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.create_user("nobody", password="x-pass-1234")
    assert client_for(user).get(URL).status_code == 403


def test_agents_see_only_their_groups_queues(shop):
    pre_sales = factories.make_agent(shop, "pre_sales")
    client = client_for(pre_sales)
    late = client.get(URL).content.decode()
    assert "LATE001" not in late
    reminders = client.get(URL, {"tab": TaskKind.PAYMENT_REMINDER}).content.decode()
    assert "UNPAID01" in reminders


def test_done_button_closes_the_task_with_csrf(shop):
    agent = factories.make_agent(shop, "after_sales")
    task = WorkTask.objects.get(order__external_id="LATE001")
    strict = client_for(agent, enforce_csrf_checks=True)
    assert strict.post(f"/commerce/queues/{task.id}/finish", {"action": "done"}).status_code == 403
    task.refresh_from_db()
    assert task.status == "open"

    page = strict.get(URL)
    token = page.cookies["csrftoken"].value
    response = strict.post(
        f"/commerce/queues/{task.id}/finish", {"action": "done", "csrfmiddlewaretoken": token}
    )
    assert response.status_code == 302
    assert response["Location"] == f"{URL}?shop={shop.slug}&tab=late_shipment"
    task.refresh_from_db()
    assert (task.status, task.done_by) == ("done", agent)
    follow = strict.get(response["Location"]).content.decode()
    assert "已完成：订单 LATE001。" in follow
    assert AuditLog.objects.filter(action="order_change", shop_id=shop.id).count() == 1
