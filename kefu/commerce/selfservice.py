"""Self-service for buyers in the help center: a buyer proves who they are
with an order number and the last four digits of its receiver's phone, then
tracks the orders of that buyer account and opens a return or exchange that
the policy engine pre-checks and explains.

Four digits are guessable, so attempts are limited per visitor IP and per
order number; a wrong number or wrong digits get the same answer, so the
form does not tell which orders exist."""

from __future__ import annotations

import re

from django.utils.translation import gettext as _

from kefu.core import ratelimit
from kefu.core.errors import ActionError, RateLimited

from .models import CaseSource, Order

ATTEMPTS_PER_IP = 10
ATTEMPTS_PER_ORDER = 5
ATTEMPT_WINDOW_SECONDS = 3600
SESSION_KEY = "kefu_buyer"
_DIGITS = re.compile(r"^\d{4}$")
SELF_SERVICE_TYPES = ("return", "exchange")


def verify_buyer(shop, number: str, phone_tail: str, ip: str | None) -> Order:
    """The order, if `phone_tail` is the last four digits of its receiver's
    phone; otherwise an ActionError that does not say which part was wrong."""
    number = (number or "").strip()[:64]
    phone_tail = (phone_tail or "").strip()
    if not number or not _DIGITS.match(phone_tail):
        raise ActionError(
            _("Enter the order number and the last 4 digits of the receiver’s phone."),
            code="invalid",
        )
    for key, limit in (
        (f"selfservice:ip:{ip or 'unknown'}", ATTEMPTS_PER_IP),
        (f"selfservice:order:{shop.id}:{number}", ATTEMPTS_PER_ORDER),
    ):
        if not ratelimit.hit(key, limit, ATTEMPT_WINDOW_SECONDS):
            raise RateLimited(_("Too many attempts. Please try again in an hour."))
    order = Order.objects.filter(shop=shop, external_id=number).first()
    digits = "".join(c for c in (order.receiver_phone if order else "") if c.isdigit())
    if order is None or len(digits) < 4 or digits[-4:] != phone_tail:
        raise ActionError(
            _("We could not find an order with this number and phone."), code="not_verified"
        )
    return order


def remember(session, order: Order) -> None:
    """The session may see this buyer account's orders in this shop."""
    buyers = dict(session.get(SESSION_KEY) or {})
    buyers[str(order.shop_id)] = order.buyer_account
    session[SESSION_KEY] = buyers


def buyer_in(session, shop) -> str | None:
    return (session.get(SESSION_KEY) or {}).get(str(shop.id))


def forget(session, shop) -> None:
    buyers = dict(session.get(SESSION_KEY) or {})
    buyers.pop(str(shop.id), None)
    session[SESSION_KEY] = buyers


def buyer_orders(shop, buyer_account: str):
    return (
        Order.objects.filter(shop=shop, buyer_account=buyer_account)
        .prefetch_related("items", "shipments__events", "cases")
        .order_by("-ordered_at", "-id")[:20]
    )


def buyer_order(shop, buyer_account: str, order_id: int) -> Order:
    order = Order.objects.filter(shop=shop, buyer_account=buyer_account, id=order_id).first()
    if order is None:
        from kefu.core.errors import NotFound

        raise NotFound(_("Order not found."))
    return order


def request_after_sales(order: Order, form, *, check_only: bool):
    """Pre-check (the policy's decisions) or open the case. `form` holds
    item quantities as `qty_<item id>`, `reason`, `condition`, `type`."""
    from . import cases

    lines = []
    for item in order.items.all():
        raw = str(form.get(f"qty_{item.id}") or "0").strip()
        quantity = int(raw) if raw.isdigit() else -1
        if quantity < 0 or quantity > item.quantity:
            raise ActionError(
                _("Choose from 0 to %(n)d of %(item)s.") % {"n": item.quantity, "item": item.name},
                code="invalid",
            )
        if quantity:
            lines.append((item.id, quantity))
    requested_type = form.get("type") or ""
    if requested_type not in SELF_SERVICE_TYPES:
        raise ActionError(_("Choose return or exchange."), code="invalid")
    reason = str(form.get("reason") or "")
    condition = str(form.get("condition") or "")
    if check_only:
        return cases.evaluate(
            order, lines, reason=reason, condition=condition, requested_type=requested_type
        )
    return cases.open_case(
        None,
        order,
        lines,
        reason=reason,
        condition=condition,
        requested_type=requested_type,
        description=str(form.get("description") or "")[:2000],
        source=CaseSource.SELF_SERVICE,
    )
