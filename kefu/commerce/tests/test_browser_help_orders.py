"""The help center's order pages and the supervisors' after-sales page in
headless Chromium against a real server with the demo shop's orders: a buyer
finds their orders with the order number and the phone's last digits, checks
a return with the policy and submits it; the supervisor sees the case.

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

pytestmark = pytest.mark.browser

SIGNED = "TM20261101001"  # the demo's signed-for order of tb_li_2025 (phone …5678)


def test_buyer_tracks_orders_and_requests_a_return_in_chinese(new_page, live):
    page = new_page(locale="zh-CN")
    page.goto("/help/demo/")
    page.get_by_role("link", name="我的订单", exact=True).click()
    expect(page.locator("h1")).to_have_text("查询物流或申请退货")
    page.fill("input[name=number]", SIGNED)
    page.fill("input[name=phone_tail]", "0000")
    page.get_by_role("button", name="查询我的订单").click()
    expect(page.locator(".form-error")).to_have_text("没有找到与该订单号和手机号匹配的订单。")
    page.fill("input[name=phone_tail]", "5678")
    page.get_by_role("button", name="查询我的订单").click()
    card = page.locator(".order-card").filter(has_text=SIGNED)
    expect(card).to_contain_text("138****5678")
    expect(card.locator(".timeline li").first).to_contain_text("已签收")
    expect(page.locator("body")).not_to_contain_text("13812345678")
    shot(page, "help-orders-zh")

    card.get_by_role("link", name="申请退换货").click()
    page.get_by_role("button", name="查看可办理的服务").click()
    expect(page.locator(".policy-ok")).to_contain_text("7天无理由")
    shot(page, "help-after-sales-zh")
    page.get_by_role("button", name="提交申请").click()
    expect(page.locator(".order-notice")).to_contain_text("已收到")
    expect(page.locator(".order-case").first).to_contain_text("退货")


def test_buyer_pages_in_english(new_page, live):
    page = new_page(locale="en-US")
    page.goto("/help/demo/orders/")
    expect(page.locator("h1")).to_have_text("Track an order or request a return")
    page.fill("input[name=number]", "TM20261101004")
    page.fill("input[name=phone_tail]", "4321")
    page.get_by_role("button", name="Find my orders").click()
    card = page.locator(".order-card").filter(has_text="TM20261101004")
    card.get_by_role("link", name="Request a return or exchange").click()
    page.get_by_role("button", name="Check what is possible").click()
    # Day 9 after signing: outside 7 days; the custom-made pillow case is excluded anyway.
    expect(page.locator(".policy-no").first).to_be_visible()
    shot(page, "help-after-sales-en")


def test_supervisors_after_sales_page(new_page, live):
    for locale, title in (("zh-CN", "售后"), ("en-US", "After-sales")):
        page = login(new_page(locale=locale), "zhuguan")
        page.goto("/commerce/after-sales/")
        expect(page.locator("h1")).to_have_text(title)
        expect(page.locator(".steps .step")).to_have_count(7)
        shot(page, f"after-sales-{locale[:2]}")
