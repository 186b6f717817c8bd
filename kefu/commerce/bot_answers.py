"""The bot's answer to "where is my order / when will it ship", from the
shop's own shipment data, for a verified buyer only.

A verified buyer is a customer whose marketplace account placed the order
(the identity rule): the order named by its number in the message, else the
customer's latest order. Anyone else, or a customer without orders, gets no
answer here and the bot hands the conversation to a person."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from django.utils import translation
from django.utils.translation import gettext as _

from kefu.compliance import identity
from kefu.core.clock import Clock, system_clock

from . import queries
from .models import Order, OrderStatus

ORDER_INTENTS = frozenset({"order_status", "logistics", "shipping_time"})
_NUMBER = re.compile(r"[A-Za-z]{0,4}\d{8,24}")


def _when(moment: dt.datetime, zone: str, english: bool) -> str:
    local = moment.astimezone(ZoneInfo(zone))
    return local.strftime("%Y-%m-%d %H:%M") if english else local.strftime("%m月%d日 %H:%M")


def _ship_by(order: Order) -> dt.datetime | None:
    if order.ship_by:
        return order.ship_by
    if order.paid_at is None:
        return None
    hours = queries.ship_within_hours([order.shop_id])[order.shop_id]
    return order.paid_at + dt.timedelta(hours=hours)


PRE_SALES_INTENTS = frozenset({"shipping_time"})
"""Asked without any order ("when do you ship?"), these are pre-sales
questions the knowledge base answers."""


@dataclass(frozen=True)
class OrderAnswer:
    reply: str | None  # None: a person must answer
    about_an_order: bool  # the message names an order, or the customer has orders


def _verified(conversation, order: Order) -> bool:
    return identity.check_order_identity(
        queries.requester_of(conversation, order), queries.buyer_of(order)
    ).allowed


def order_asked_about(conversation, text: str) -> tuple[Order | None, bool]:
    """(the order, whether the message is about an order at all): the order the
    message names if the customer placed it, else the customer's latest order.
    A named order of another account gives (None, True)."""
    for number in _NUMBER.findall(text or ""):
        order = Order.objects.filter(shop_id=conversation.shop_id, external_id=number).first()
        if order is not None:
            return (order if _verified(conversation, order) else None), True
    order = queries.customer_orders(conversation).first()
    if order is None:
        return None, False
    return (order if _verified(conversation, order) else None), True


def answer(conversation, text: str, language: str, *, clock: Clock = system_clock) -> OrderAnswer:
    """The bot's reply about the order in the customer's language (reply None:
    hand off)."""
    order, about = order_asked_about(conversation, text)
    if order is None:
        return OrderAnswer(None, about)
    english = language.startswith("en")
    with translation.override("en" if english else "zh-hans"):
        return OrderAnswer(_reply(order, conversation.shop.time_zone, english, clock), True)


def _reply(order: Order, zone: str, english: bool, clock: Clock) -> str | None:
    values = {"number": order.external_id}
    if order.status == OrderStatus.PENDING_PAYMENT:
        return (
            _(
                "Order %(number)s is waiting for payment; once it is paid we ship it "
                "within the time we promise."
            )
            % values
        )
    if order.status == OrderStatus.PAID:
        ship_by = _ship_by(order)
        if ship_by is None or ship_by < clock.now():
            return None  # already late: a person apologises and offers the compensation
        values["when"] = _when(ship_by, zone, english)
        return _("Order %(number)s is paid and being prepared; it ships by %(when)s.") % values
    shipment = order.shipments.order_by("-shipped_at", "-id").first()
    if order.status == OrderStatus.SHIPPED and shipment is not None:
        values |= {"courier": shipment.courier, "tracking": shipment.tracking_number}
        reply = (
            _("Order %(number)s has shipped with %(courier)s, tracking number %(tracking)s.")
            % values
        )
        last = shipment.events.order_by("-occurred_at", "-id").first()
        if last is not None:
            event = " ".join(
                part
                for part in (
                    _when(last.occurred_at, zone, english),
                    last.location,
                    last.description,
                )
                if part
            )
            reply += " " + _("Latest: %(event)s") % {"event": event}
        return reply
    if order.status in (OrderStatus.DELIVERED, OrderStatus.COMPLETED) and order.delivered_at:
        values["when"] = _when(order.delivered_at, zone, english)
        return (
            _(
                "Order %(number)s was signed for on %(when)s. If anything is wrong with it, "
                "tell us and we will sort it out right away."
            )
            % values
        )
    return None
