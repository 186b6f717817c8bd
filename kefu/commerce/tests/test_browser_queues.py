"""The work-queue page in headless Chromium against a real server: the demo
shop gets a late order, an unpaid order, a stalled parcel and an invoice
promise through `kefu shell` and the real sweeps; a supervisor reads each tab
in Chinese and English and marks a task done.

Same live server and helpers as kefu/inbox/tests/test_browser.py."""

from __future__ import annotations

import pytest

from kefu.inbox.tests.test_browser import (  # noqa: F401 (fixtures)
    browser,
    expect,
    live,
    login,
    new_page,
    shot,
)
from kefu.testing.live import run_kefu

pytestmark = pytest.mark.browser

# Runs inside the server's environment (its own database).
SETUP = """
import datetime as dt
from decimal import Decimal
from django.utils import timezone
from kefu.accounts.models import Shop
from kefu.commerce import sweeps
from kefu.commerce.models import InvoiceRequest, Order, Shipment, WorkTask
from kefu.core.clock import FixedClock

shop = Shop.objects.get(slug="demo")
now = timezone.now()
def order(number, status, hours_ago, amount):
    at = now - dt.timedelta(hours=hours_ago)
    return Order.objects.update_or_create(
        shop=shop, external_id=number,
        defaults=dict(
            buyer_account="tb_" + number.lower(), status=status, total=Decimal(amount),
            paid_amount=Decimal(amount), ordered_at=at,
            paid_at=at if status != "pending_payment" else None,
            receiver_phone="13812345678", source_updated_at=at,
        ),
    )[0]
order("WQ-LATE-1", "paid", 80, "2999.00")
order("WQ-LATE-2", "paid", 75, "129.90")
order("WQ-UNPAID-1", "pending_payment", 2, "259.00")
stalled = order("WQ-PARCEL-1", "shipped", 120, "399.00")
Shipment.objects.get_or_create(
    order=stalled, courier="ZTO", tracking_number="ZT7788990011",
    defaults=dict(shipped_at=now - dt.timedelta(hours=100),
                  last_event_at=now - dt.timedelta(hours=60)),
)
InvoiceRequest.objects.get_or_create(
    order=stalled, title="杭州暖居科技有限公司",
    defaults=dict(invoice_type="增值税普通发票", amount=Decimal("399.00"),
                  promised_by=timezone.localdate() + dt.timedelta(days=1)),
)
noon = now.astimezone(dt.UTC).replace(hour=4, minute=0, second=0, microsecond=0)
if noon < now:
    noon += dt.timedelta(days=1)
sweeps.run_all(FixedClock(noon))
for number, kind in WorkTask.objects.filter(order__external_id__startswith="WQ-").values_list(
    "order__external_id", "kind"
).order_by("order__external_id", "kind"):
    print("task", number, kind)
"""


@pytest.fixture(scope="module")
def queued(live):
    output = run_kefu(["shell", "-c", SETUP], live.env)
    tasks = [line for line in output.splitlines() if line.startswith("task ")]
    assert tasks == [
        "task WQ-LATE-1 late_shipment",
        "task WQ-LATE-2 late_shipment",
        "task WQ-PARCEL-1 invoice_due",
        "task WQ-PARCEL-1 stalled_parcel",
        "task WQ-UNPAID-1 payment_reminder",
    ], output
    return live


def test_queue_tabs_in_chinese(new_page, queued):
    page = login(new_page(locale="zh-CN"), "zhuguan")
    page.goto("/commerce/queues/")
    expect(page.locator("h1")).to_have_text("工作队列")
    tabs = page.locator(".queue-tabs .tab")
    expect(tabs).to_have_count(4)
    expect(tabs.nth(0)).to_contain_text("延迟发货")
    late = page.locator(".task").filter(has_text="WQ-LATE-1")
    expect(late).to_be_visible()
    expect(late).to_contain_text("138****5678")
    expect(late).to_contain_text("违约金 ¥500.00（天猫积分）")
    expect(late.locator(".task-script")).to_contain_text("可以稍晚2天为您发出吗")
    expect(page.locator(".queue-guide")).to_contain_text("实付金额的 30%，最高 500 元")
    expect(page.locator("body")).not_to_contain_text("13812345678")
    expect(page.locator("#reminder-rate h2")).to_have_text("催付成功率")
    shot(page, "queues-late-zh")

    page.locator(".queue-tabs .tab[data-kind='payment_reminder']").click()
    reminder = page.locator(".task").filter(has_text="WQ-UNPAID-1")
    expect(reminder.locator(".task-script")).to_have_text(
        "亲~我们马上就要安排发货了~如果您现在付钱的话~今天就能帮您发货哦~"
    )
    shot(page, "queues-reminder-zh")

    page.locator(".queue-tabs .tab[data-kind='stalled_parcel']").click()
    parcel = page.locator(".task").filter(has_text="WQ-PARCEL-1")
    expect(parcel).to_contain_text("ZTO ZT7788990011")
    expect(parcel).to_contain_text("物流未更新")
    shot(page, "queues-stalled-zh")

    page.locator(".queue-tabs .tab[data-kind='invoice_due']").click()
    expect(page.locator(".task").filter(has_text="杭州暖居科技有限公司")).to_be_visible()


def test_queue_page_in_english_and_done(new_page, queued):
    page = login(new_page(locale="en-US"), "zhuguan")
    page.goto("/commerce/queues/")
    expect(page.locator("h1")).to_have_text("Work queues")
    late = page.locator(".task").filter(has_text="WQ-LATE-2")
    expect(late).to_contain_text("Compensation ¥38.97 in Tmall points")
    expect(late.locator(".task-script-translation")).to_contain_text(
        "would it be all right if it ships two days later?"
    )
    expect(page.locator(".queue-guide")).to_contain_text("30% of the paid amount, at most 500 yuan")
    shot(page, "queues-late-en")

    late.locator("button[value='done']").click()
    expect(page.locator(".flash-success")).to_have_text("Done: order WQ-LATE-2.")
    expect(page.locator(".task").filter(has_text="WQ-LATE-2")).to_have_count(0)
    expect(page.locator("table").filter(has_text="WQ-LATE-2")).to_be_visible()
    shot(page, "queues-done-en")
