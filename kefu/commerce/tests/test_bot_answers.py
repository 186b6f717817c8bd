"""The bot answers "when will it ship / where is my order" from the shop's
order data for a verified buyer, and hands off otherwise."""

from __future__ import annotations

import datetime as dt

import pytest

from kefu.bot import actions
from kefu.bot.models import HandoffReason, Outcome
from kefu.bot.tests.conftest import bot_shop  # noqa: F401 - the bot's trained test shop
from kefu.inbox import actions as inbox_actions
from kefu.tests import factories as f

from ..models import OrderStatus, Shipment, TrackingEvent
from .test_orders_api import make_order

pytestmark = pytest.mark.django_db


def ask(shop, customer, text, clock):
    conversation, result = inbox_actions.open_conversation(
        shop=shop, customer=customer, first_text=text, client_id="c1", clock=clock
    )
    turn = actions.handle_customer_message(conversation.id, result.bot_seq, clock=clock)
    last = conversation.messages.order_by("-seq").first()
    return turn, last.text


def test_a_buyer_with_a_paid_order_gets_its_shipping_deadline(bot_shop, clock):  # noqa: F811
    customer = f.make_customer(bot_shop)
    order = make_order(bot_shop, customer.identities.get().value, "B2001")
    order.paid_at = clock.now() - dt.timedelta(hours=2)
    order.save()
    turn, text = ask(bot_shop, customer, "什么时候发货", clock)
    assert turn.outcome == Outcome.ANSWERED and turn.faq is None
    assert "B2001" in text and "发货" in text


def test_a_shipped_order_gets_the_courier_and_the_latest_event(bot_shop, clock):  # noqa: F811
    customer = f.make_customer(bot_shop)
    order = make_order(
        bot_shop, customer.identities.get().value, "B20260002", status=OrderStatus.SHIPPED
    )
    shipment = Shipment.objects.create(order=order, courier="顺丰速运", tracking_number="SF99")
    TrackingEvent.objects.create(
        shipment=shipment, occurred_at=clock.now(), status="in_transit", location="杭州转运中心"
    )
    turn, text = ask(bot_shop, customer, "几天能发货 B20260002", clock)
    assert turn.outcome == Outcome.ANSWERED
    assert "SF99" in text and "杭州转运中心" in text


def test_an_order_of_another_account_is_handed_to_a_person(bot_shop, clock):  # noqa: F811
    make_order(bot_shop, "someone_else", "B20260003")
    customer = f.make_customer(bot_shop)
    turn, text = ask(bot_shop, customer, "什么时候发货 B20260003", clock)
    assert (turn.outcome, turn.reason) == (Outcome.HANDOFF, HandoffReason.INTENT)
    assert "B20260003" not in text


def test_a_late_order_is_handed_to_a_person(bot_shop, clock):  # noqa: F811
    customer = f.make_customer(bot_shop)
    order = make_order(bot_shop, customer.identities.get().value, "B2004")
    order.paid_at = clock.now() - dt.timedelta(hours=100)
    order.save()
    turn, _text = ask(bot_shop, customer, "什么时候发货", clock)
    assert (turn.outcome, turn.reason) == (Outcome.HANDOFF, HandoffReason.INTENT)


def test_without_any_order_it_stays_a_pre_sales_question(bot_shop, clock):  # noqa: F811
    turn, text = ask(bot_shop, f.make_customer(bot_shop), "什么时候发货", clock)
    assert turn.outcome == Outcome.ANSWERED and turn.faq is not None
    assert text == "亲，付款后48小时内发货。"


def test_english_question_gets_an_english_answer(bot_shop, clock):  # noqa: F811
    customer = f.make_customer(bot_shop)
    order = make_order(bot_shop, customer.identities.get().value, "B2005")
    order.paid_at = clock.now()
    order.save()
    turn, text = ask(bot_shop, customer, "when will you ship", clock)
    assert turn.outcome == Outcome.ANSWERED
    assert text.startswith("Order B2005 is paid")
