"""The Orders tab of the workbench's right panel, end to end in headless
Chromium (kefu/static/kefu/orders.js): the customer's orders, one order with
its masked receiver and tracking timeline, an address change, a lookup refused
by the identity rule with the standard answer inserted into the composer, a
junior agent's price change waiting for approval, and the after-sales policy
check with its explanation.

Same live server and helpers as kefu/inbox/tests/test_browser.py. The buyer
chats through the demo shop's widget (a web visitor); `seed` gives that
customer a marketplace account and orders in the server's database through
`kefu shell`. The demo's order TM20261101006 belongs to another account
(tb_wang_mom), so the identity rule refuses it to every test customer."""

from __future__ import annotations

import itertools
import json

import pytest

from kefu.inbox.tests.test_browser import (  # noqa: F401 (fixtures)
    XSS_PAYLOADS,
    agent_bubbles,
    browser,
    buyer_send,
    conversation_row,
    expect,
    live,
    login,
    new_page,
    open_widget,
    set_online,
    shot,
)
from kefu.testing.live import run_kefu

JUNIOR = "shouqian1"  # 小王, junior pre-sales agent: a price change waits for approval
OPENING = "你好，我想查一下我的订单"
OTHER_ACCOUNT_ORDER = "TM20261101006"
_chats = itertools.count(1)

pytestmark = pytest.mark.browser

SEED = """
import datetime as dt, json
from decimal import Decimal
from django.utils import timezone
from kefu.commerce.models import (
    Order, OrderItem, OrderStatus, Payment, PaymentStatus, Shipment, TrackingEvent,
)
from kefu.customers.models import CustomerIdentity, IdentityKind
from kefu.inbox.models import Conversation

conversation = Conversation.objects.get(id={conversation_id})
buyer = "tb_browser_{n}"
CustomerIdentity.objects.get_or_create(
    shop_id=conversation.shop_id, kind=IdentityKind.MARKETPLACE, value=buyer,
    defaults={{"customer_id": conversation.customer_id}},
)
now = timezone.now()
day = dt.timedelta(days=1)
rows = [
    ("paid", OrderStatus.PAID, 2, None, None),
    ("shipped", OrderStatus.SHIPPED, 3, 2, None),
    ("unpaid", OrderStatus.PENDING_PAYMENT, 1, None, None),
    ("signed", OrderStatus.DELIVERED, 6, 5, 2),
]
numbers = {{}}
for index, (key, status, ordered, shipped, signed) in enumerate(rows, 1):
    paid = status != OrderStatus.PENDING_PAYMENT
    number = f"BR{n:03d}{{index:02d}}"
    order = Order.objects.create(
        shop_id=conversation.shop_id, external_id=number, buyer_account=buyer,
        customer_id=conversation.customer_id, status=status,
        total=Decimal("299.00"), paid_amount=Decimal("299.00") if paid else Decimal(0),
        ordered_at=now - ordered * day, paid_at=now - ordered * day if paid else None,
        shipped_at=now - shipped * day if shipped else None,
        delivered_at=now - signed * day if signed else None,
        receiver_name="李先生", receiver_phone="13812345678",
        receiver_address="浙江省杭州市西湖区文三路 100 号 3 幢 201 室", source_updated_at=now,
        note={xss!r} if key == "paid" else "",
    )
    OrderItem.objects.create(
        order=order, external_id=f"{{number}}-1", name="纯棉四件套 1.8m", category="床品",
        spec="1.8m 灰色", quantity=1, unit_price=Decimal("299.00"),
        paid_amount=Decimal("299.00") if paid else Decimal(0), source_updated_at=now,
    )
    if paid:
        Payment.objects.create(
            order=order, external_id=f"PAY-{{number}}", method="支付宝", amount=Decimal("299.00"),
            status=PaymentStatus.PAID, paid_at=order.paid_at, source_updated_at=now,
        )
    if shipped:
        shipment = Shipment.objects.create(
            order=order, courier="顺丰速运", tracking_number=f"SF{{number}}",
            shipped_at=order.shipped_at, delivered_at=order.delivered_at,
        )
        events = [
            (order.shipped_at, "collected", "杭州", "快件已揽收"),
            (
                order.shipped_at + dt.timedelta(hours=8), "in_transit", "杭州转运中心",
                "快件已发往目的地",
            ),
        ]
        if signed:
            events.append((order.delivered_at, "signed", "目的地", "已签收，签收人：本人"))
        for at, state, location, text in events:
            TrackingEvent.objects.create(
                shipment=shipment, occurred_at=at, status=state, location=location, description=text
            )
    numbers[key] = number
print("SEEDED " + json.dumps(numbers))
"""


def seed(live, conversation_id: int, n: int) -> dict[str, str]:
    """Orders for the conversation's customer; {"paid"|"shipped"|"unpaid"|"signed": number}."""
    script = SEED.format(conversation_id=conversation_id, n=n, xss=XSS_PAYLOADS[0])
    out = run_kefu(["shell", "-c", script], live.env)
    line = next(line for line in out.splitlines() if line.startswith("SEEDED "))
    return json.loads(line.removeprefix("SEEDED "))


def start_chat(new_page, live, locale="zh-CN"):
    """The junior agent online with a buyer's conversation open and the
    Orders tab shown; returns (agent, buyer, order numbers)."""
    agent = login(new_page(locale=locale), JUNIOR)
    set_online(agent)
    buyer = open_widget(new_page())
    n = next(_chats)
    opening = f"{OPENING}（{n}）"
    buyer_send(buyer, opening)
    conversation_row(agent, opening).locator(".conv-btn").click()
    expect(agent_bubbles(agent, "msg-customer", opening)).to_be_visible()
    conversation_id = agent.evaluate("window.kefuWorkbench.state.selectedId")
    numbers = seed(live, conversation_id, n)
    agent.locator("#tab-orders").click()
    expect(agent.locator("#panel-orders")).to_be_visible()
    expect(agent.locator("#orders-list .order-row")).to_have_count(4)
    return agent, buyer, numbers


def open_order(agent, number: str):
    agent.locator(f"#orders-list .order-row[data-number='{number}'] .order-row-btn").click()
    detail = agent.locator("#orders-detail")
    expect(detail.locator(".order-head .order-number")).to_have_text(number)
    return detail


def test_list_detail_timeline_and_address_change(new_page, live):
    agent, _buyer, numbers = start_chat(new_page, live)
    rows = agent.locator("#orders-list .order-row")
    expect(rows.first).to_contain_text("¥299.00")
    expect(rows.filter(has_text=numbers["unpaid"]).locator(".order-status")).to_have_class(
        "order-status is-warn"
    )
    shot(agent, "orders-list-zh")

    detail = open_order(agent, numbers["shipped"])
    expect(detail.locator(".order-phone")).to_have_text("138****5678")
    expect(detail).not_to_contain_text("13812345678")
    timeline = detail.locator(".order-timeline .order-event")
    expect(timeline).to_have_count(2)
    expect(timeline.first).to_contain_text("快件已发往目的地")  # newest first
    expect(timeline.first).to_have_class("order-event is-latest")
    actions = detail.locator(".order-action")
    expect(actions.locator("xpath=self::*[@data-action='resend_tracking']")).to_have_count(1)
    expect(actions.locator("xpath=self::*[@data-action='address']")).to_have_count(0)
    shot(agent, "orders-detail-shipped-zh")

    detail.locator(".order-back").click()
    detail = open_order(agent, numbers["paid"])
    # The order's note is data from the shop's system: shown as text, never parsed.
    expect(detail.locator(".order-note")).to_have_text(XSS_PAYLOADS[0])
    assert agent.evaluate("typeof window.__xss") == "undefined"
    expect(agent.locator("#orders-detail img")).to_have_count(0)
    expect(detail.locator(".order-action[data-action='quantity']")).to_have_count(0)
    expect(detail.locator(".order-action[data-action='price']")).to_have_count(0)
    detail.locator(".order-action[data-action='address']").click()
    dialog = agent.locator("#order-dialog")
    expect(dialog).to_be_visible()
    dialog.locator("[name=receiver_phone]").fill("13900001111")
    dialog.locator("[name=receiver_address]").fill("上海市浦东新区世纪大道 88 号 1801 室")
    shot(agent, "orders-dialog-address-zh")
    dialog.locator("#order-dialog-submit").click()
    expect(dialog).to_be_hidden()
    expect(detail.locator(".order-notice")).to_be_visible()
    expect(detail.locator(".order-phone")).to_have_text("139****1111")
    expect(detail.locator(".order-changes li[data-kind='address']")).to_have_count(1)
    shot(agent, "orders-address-changed-zh")


def test_lookup_of_another_accounts_order_inserts_the_standard_answer(new_page, live):
    agent, _buyer, _numbers = start_chat(new_page, live)
    agent.locator("#orders-number").fill(OTHER_ACCOUNT_ORDER)
    agent.locator("#orders-number").press("Enter")
    refused = agent.locator("#orders-refused")
    expect(refused).to_be_visible()
    answer = refused.locator(".order-answer[data-language='zh-hans'] .order-answer-text")
    expect(answer).not_to_be_empty()
    expect(agent.locator("#orders-detail")).to_be_hidden()
    shot(agent, "orders-lookup-refused-zh")
    text = answer.text_content()
    refused.locator(".order-answer[data-language='zh-hans'] .order-insert").click()
    expect(agent.locator("#composer-text")).to_have_value(text)
    # Inserted, never sent.
    expect(agent.locator("#messages .msg-agent")).to_have_count(0)


def test_junior_price_change_awaits_approval(new_page, live):
    agent, _buyer, numbers = start_chat(new_page, live, locale="en-US")
    detail = open_order(agent, numbers["unpaid"])
    expect(detail.locator(".order-action[data-action='price']")).to_be_visible()
    expect(detail.locator(".order-action[data-action='resend_tracking']")).to_have_count(0)
    detail.locator(".order-action[data-action='price']").click()
    dialog = agent.locator("#order-dialog")
    dialog.locator("[name=total]").fill("279.00")
    dialog.locator("[name=reason]").fill("Regular customer, agreed discount")
    shot(agent, "orders-dialog-price-en")
    dialog.locator("#order-dialog-submit").click()
    expect(dialog).to_be_hidden()
    expect(detail.locator(".order-notice")).to_contain_text("awaiting approval")
    change = detail.locator(".order-changes li[data-kind='price']")
    expect(change.locator(".order-approval")).to_have_text("Awaiting approval")
    expect(detail.locator(".order-facts").first).to_contain_text(
        "¥299.00"
    )  # unchanged until approved
    shot(agent, "orders-price-pending-en")

    # A refused action shows the server's reason next to the form.
    detail.locator(".order-action[data-action='cancel']").click()
    dialog.locator("[name=reason]").fill("太贵了换个")
    dialog.locator("[name=reason]").evaluate("(el) => { el.minLength = 0; el.value = '  a  '; }")
    dialog.locator("#order-dialog-submit").click()
    expect(dialog.locator("#order-dialog-error")).to_be_visible()
    expect(dialog).to_be_visible()
    dialog.locator("#order-dialog-cancel").click()
    expect(dialog).to_be_hidden()


@pytest.mark.parametrize("locale", ["zh-CN", "en-US"])
def test_after_sales_policy_check_explains(new_page, live, locale):
    agent, _buyer, numbers = start_chat(new_page, live, locale=locale)
    detail = open_order(agent, numbers["signed"])
    detail.locator(".order-action[data-action='after_sales']").click()
    dialog = agent.locator("#order-dialog")
    dialog.locator("[name=reason]").select_option("no_reason")
    dialog.locator("[name=condition]").select_option("intact")
    dialog.locator("#order-dialog-submit").click()
    decision = dialog.locator("#order-dialog-result .order-decision")
    expect(decision).to_have_count(1)
    expect(decision.locator(".order-explanation")).not_to_be_empty()
    expect(decision).to_have_class("order-decision is-allowed")
    suffix = "zh" if locale == "zh-CN" else "en"
    shot(agent, f"orders-policy-check-{suffix}")
    dialog.locator("#order-dialog-submit").click()  # now "Open case"
    expect(dialog).to_be_hidden()
    case = detail.locator(".order-case")
    expect(case).to_have_count(1)
    expect(case.locator(".order-explanation")).not_to_be_empty()
    case.locator(".order-insert").click()
    expect(agent.locator("#composer-text")).to_have_value(
        case.locator(".order-explanation").text_content()
    )
    case.get_by_role("button", name="下一步" if locale == "zh-CN" else "Next step").click()
    dialog.locator("#order-dialog-submit").click()
    expect(dialog).to_be_hidden()
    expect(case).to_have_attribute("data-state", "solution")
    shot(agent, f"orders-case-{suffix}")
