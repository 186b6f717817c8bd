"""The web chat widget: signed visitor tokens, sessions, the visitor's sends.

A visitor token is signed with the server's secret and names the shop and a
random visitor id; a customer record is made only when the visitor first
writes, so page views create nothing."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from django.conf import settings
from django.core import signing
from django.utils.translation import gettext as _

from kefu.accounts.models import Shop
from kefu.core import ratelimit
from kefu.core.clock import Clock, system_clock
from kefu.core.errors import ActionError, NotFound, RateLimited
from kefu.customers import actions as customer_actions
from kefu.customers import queries as customer_queries

from .. import actions
from ..models import Channel, SenderType
from ..serializers import conversation_public

SALT = "kefu.widget.visitor"
SESSIONS_PER_IP_PER_HOUR = 120


class InvalidToken(ActionError):
    code = "invalid_token"
    status = 401


@dataclass(frozen=True, slots=True)
class Visitor:
    shop_id: int
    visitor_id: str


def issue_token(shop: Shop, visitor_id: str | None = None) -> tuple[str, str]:
    visitor_id = visitor_id or uuid.uuid4().hex
    return signing.dumps({"s": shop.id, "v": visitor_id}, salt=SALT, compress=True), visitor_id


def read_token(token: str | None) -> Visitor:
    """The visitor of a valid token; InvalidToken for a forged or expired one."""
    if not token or len(token) > 400:
        raise InvalidToken(_("Missing or malformed visitor token."))
    try:
        data = signing.loads(token, salt=SALT, max_age=settings.KEFU_VISITOR_TOKEN_MAX_AGE)
        return Visitor(shop_id=int(data["s"]), visitor_id=str(data["v"]))
    except signing.SignatureExpired as error:
        raise InvalidToken(_("The visitor token has expired; reload the page.")) from error
    except (signing.BadSignature, KeyError, TypeError, ValueError) as error:
        raise InvalidToken(_("The visitor token is not valid.")) from error


def start_session(shop_slug: str, old_token: str | None, ip: str | None, name: str = "") -> dict:
    """Open (or resume) a widget session: a token and what the widget shows first."""
    shop = Shop.objects.filter(slug=shop_slug).first()
    if shop is None:
        raise NotFound(_("Shop not found."))
    visitor = None
    if old_token:
        try:
            visitor = read_token(old_token)
        except InvalidToken:
            visitor = None
        if visitor and visitor.shop_id != shop.id:
            visitor = None
    if visitor is None:
        if not ratelimit.hit(f"session:ip:{ip}", SESSIONS_PER_IP_PER_HOUR, 3600):
            raise RateLimited(_("Too many new chat sessions from your network. Try again later."))
        token, visitor_id = issue_token(shop)
    else:
        token, visitor_id = issue_token(shop, visitor.visitor_id)
    customer = customer_queries.find_visitor_customer(shop.id, visitor_id)
    conversation = actions.current_conversation(customer.id) if customer else None
    return {
        "token": token,
        "visitor_id": visitor_id,
        "shop": {"name": shop.name, "slug": shop.slug, "greeting": shop.greeting},
        "conversation_id": conversation.id if conversation else None,
        "conversation": conversation_public(conversation) if conversation else None,
        "limits": {"max_message_chars": shop.max_message_chars},
    }


@dataclass(frozen=True, slots=True)
class VisitorContext:
    """What a widget socket keeps for its life: no database trip per message."""

    shop_id: int
    visitor_id: str
    max_message_chars: int
    messages_per_visitor: int
    messages_window_seconds: int
    customer_id: int | None
    customer_name: str
    conversation_id: int | None


def visitor_context(visitor: Visitor) -> VisitorContext:
    shop = Shop.objects.filter(id=visitor.shop_id).first()
    if shop is None:
        raise InvalidToken(_("The visitor token is not valid."))
    customer = customer_queries.find_visitor_customer(shop.id, visitor.visitor_id)
    conversation = actions.current_conversation(customer.id) if customer else None
    return VisitorContext(
        shop_id=shop.id,
        visitor_id=visitor.visitor_id,
        max_message_chars=shop.max_message_chars,
        messages_per_visitor=shop.messages_per_visitor,
        messages_window_seconds=shop.messages_window_seconds,
        customer_id=customer.id if customer else None,
        customer_name=customer.name if customer else "",
        conversation_id=conversation.id if conversation else None,
    )


def message_rate_key(visitor_id: str) -> str:
    return f"msg:visitor:{visitor_id}"


def check_message_rate(context: VisitorContext) -> None:
    if not ratelimit.hit(
        message_rate_key(context.visitor_id),
        context.messages_per_visitor,
        context.messages_window_seconds,
    ):
        raise RateLimited(_("You are sending messages too fast. Please wait a moment."))


def customer_message(
    conversation_id: int, customer_name: str, client_id: str, text: str, origin: str = ""
) -> actions.IngestRequest:
    return actions.IngestRequest(
        conversation_id=conversation_id,
        sender_type=SenderType.CUSTOMER,
        client_id=client_id,
        text=text,
        sender_name=customer_name,
        origin=origin,
    )


def open_for_visitor(
    visitor: Visitor, *, text: str, client_id: str, ip: str | None, clock: Clock = system_clock
):
    """Send the visitor's message into a new conversation (or the one another tab
    just opened). Returns (conversation, IngestResult)."""
    shop = Shop.objects.get(id=visitor.shop_id)
    customer = customer_actions.visitor_customer(shop, visitor.visitor_id)
    current = actions.current_conversation(customer.id)
    if current is not None:
        return current, actions.ingest_message(
            customer_message(current.id, customer.name, client_id, text), clock
        )
    if not ratelimit.hit(
        f"newconv:ip:{shop.id}:{ip}",
        shop.new_conversations_per_ip,
        shop.new_conversations_window_seconds,
    ):
        raise RateLimited(
            _("Too many new conversations from your network. Please try again later.")
        )
    return actions.open_conversation(
        shop=shop,
        customer=customer,
        channel=Channel.WIDGET,
        first_text=text,
        client_id=client_id,
        clock=clock,
    )


def visitor_send(visitor: Visitor, *, text: object, client_id: object, ip: str | None):
    """The whole visitor send for synchronous callers (the HTTP fallback)."""
    from kefu.core.text import clean_client_id, clean_message_text

    context = visitor_context(visitor)
    client_id = clean_client_id(client_id)
    text = clean_message_text(text, context.max_message_chars)
    check_message_rate(context)
    if context.conversation_id:
        result = actions.ingest_message(
            customer_message(context.conversation_id, context.customer_name, client_id, text)
        )
        if not (result.error and result.error.code == "closed"):
            hand_to_bot(context.conversation_id, result)
            return context.conversation_id, result
    conversation, result = open_for_visitor(visitor, text=text, client_id=client_id, ip=ip)
    hand_to_bot(conversation.id, result)
    return conversation.id, result


def hand_to_bot(conversation_id: int, result: actions.IngestResult) -> None:
    """After the customer's message committed: let the bot answer it (sync callers)."""
    if result.bot_seq:
        from kefu.bot import actions as bot_actions

        bot_actions.handle_customer_message(conversation_id, result.bot_seq)


def visitor_messages(visitor: Visitor, after_seq: int, limit: int = 200) -> dict:
    from .. import queries

    customer = customer_queries.find_visitor_customer(visitor.shop_id, visitor.visitor_id)
    conversation = None
    if customer:
        conversation = actions.current_conversation(customer.id) or (
            customer.conversations.order_by("-id").first()
        )
    if conversation is None:
        return {"conversation_id": None, "status": None, "messages": []}
    return {
        "conversation_id": conversation.id,
        "status": conversation.status,
        "messages": queries.messages_after(conversation.id, after_seq, limit, staff=False),
    }
