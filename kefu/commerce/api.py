"""The order panel's endpoints: a conversation's orders, one order, its
changes, concessions, invoice promises and after-sales cases. Every order is
reached through a conversation the caller may see, and the identity rule is
applied to it (403 `order_identity` with the standard answer otherwise)."""

from __future__ import annotations

from typing import Any

from django.utils.translation import get_language
from ninja import Router, Schema

from kefu.api import staff_auth, visitor_auth
from kefu.core import principal

from . import actions, cases, queries, serializers
from .models import ApprovalState, Compensation, Order, OrderChange

router = Router(auth=staff_auth)


class ErrorOut(Schema):
    code: str
    detail: object


class ChangeIn(Schema):
    kind: str
    values: dict[str, Any] = {}
    reason: str = ""


class ConcessionIn(Schema):
    kind: str = ""
    amount: str = ""
    reason: str = ""
    case_id: int | None = None
    ladder_step: int | None = None


class InvoiceIn(Schema):
    invoice_type: str
    title: str
    tax_id: str = ""
    amount: str = ""
    promised_by: str


class CaseLine(Schema):
    item_id: int
    quantity: int = 1


class CaseIn(Schema):
    items: list[CaseLine]
    reason: str
    condition: str = "intact"
    requested_type: str | None = None
    description: str = ""


class DecisionIn(Schema):
    approve: bool
    note: str = ""


class RevealIn(Schema):
    reason: str


class NoteIn(Schema):
    note: str = ""


def _language() -> str:
    return get_language() or "zh-hans"


def _conversation(request, conversation_id: int):
    return actions.conversation_of(principal.require_user(request), conversation_id)


ERRORS = {400: ErrorOut, 403: ErrorOut, 404: ErrorOut}


@router.get("/conversations/{conversation_id}/orders", response={200: list[dict], **ERRORS})
def conversation_orders(request, conversation_id: int):
    conversation = _conversation(request, conversation_id)
    return [
        serializers.order_summary(order) for order in queries.customer_orders(conversation)[:50]
    ]


@router.get("/conversations/{conversation_id}/lookup", response={200: dict, **ERRORS})
def lookup(request, conversation_id: int, number: str):
    """An order the buyer names by its number (identity rule applied)."""
    conversation = _conversation(request, conversation_id)
    order = actions.order_for(conversation, number=number, language=_language())
    return serializers.order_detail(order)


@router.get("/conversations/{conversation_id}/orders/{order_id}", response={200: dict, **ERRORS})
def order_detail(request, conversation_id: int, order_id: int):
    conversation = _conversation(request, conversation_id)
    order = actions.order_for(conversation, order_id, language=_language())
    return serializers.order_detail(order) | {"ladder": actions.ladder_of(order.shop_id)}


@router.post(
    "/conversations/{conversation_id}/orders/{order_id}/changes",
    response={201: dict, **ERRORS},
)
def change(request, conversation_id: int, order_id: int, payload: ChangeIn):
    made = actions.change_order(
        principal.require_user(request),
        conversation_id,
        order_id,
        payload.kind,
        payload.values,
        reason=payload.reason,
        language=_language(),
    )
    return 201, {"id": made.id, "kind": made.kind, "approval": made.approval}


@router.post(
    "/conversations/{conversation_id}/orders/{order_id}/reveal", response={200: dict, **ERRORS}
)
def reveal(request, conversation_id: int, order_id: int, payload: RevealIn):
    return actions.reveal_receiver(
        principal.require_user(request),
        conversation_id,
        order_id,
        payload.reason,
        language=_language(),
    )


@router.post(
    "/conversations/{conversation_id}/orders/{order_id}/concessions",
    response={201: dict, **ERRORS},
)
def concession(request, conversation_id: int, order_id: int, payload: ConcessionIn):
    made = actions.offer_compensation(
        principal.require_user(request),
        conversation_id,
        order_id,
        payload.kind,
        payload.amount,
        reason=payload.reason,
        case_id=payload.case_id,
        ladder_step=payload.ladder_step,
        language=_language(),
    )
    return 201, {
        "id": made.id,
        "kind": made.kind,
        "amount": str(made.amount),
        "approval": made.approval,
    }


@router.post(
    "/conversations/{conversation_id}/orders/{order_id}/invoice-requests",
    response={201: dict, **ERRORS},
)
def invoice_request(request, conversation_id: int, order_id: int, payload: InvoiceIn):
    made = actions.record_invoice_request(
        principal.require_user(request),
        conversation_id,
        order_id,
        payload.dict(),
        language=_language(),
    )
    return 201, {
        "id": made.id,
        "amount": str(made.amount),
        "promised_by": made.promised_by.isoformat(),
    }


@router.post(
    "/conversations/{conversation_id}/orders/{order_id}/policy-check",
    response={200: list[dict], **ERRORS},
)
def policy_check(request, conversation_id: int, order_id: int, payload: CaseIn):
    """What the policy would decide, without opening a case."""
    conversation = _conversation(request, conversation_id)
    order = actions.order_for(conversation, order_id, language=_language())
    return cases.evaluate(
        order,
        [(line.item_id, line.quantity) for line in payload.items],
        reason=payload.reason,
        condition=payload.condition,
        requested_type=payload.requested_type,
    )


@router.post(
    "/conversations/{conversation_id}/orders/{order_id}/cases",
    response={201: dict, **ERRORS},
)
def open_case(request, conversation_id: int, order_id: int, payload: CaseIn):
    user = principal.require_user(request)
    conversation = actions.conversation_of(user, conversation_id)
    order = actions.order_for(conversation, order_id, language=_language())
    case = cases.open_case(
        user,
        order,
        [(line.item_id, line.quantity) for line in payload.items],
        reason=payload.reason,
        condition=payload.condition,
        requested_type=payload.requested_type,
        description=payload.description,
        conversation=conversation,
    )
    return 201, serializers.case_out(case)


@router.post("/cases/{case_id}/advance", response={200: dict, **ERRORS})
def advance_case(request, case_id: int, payload: NoteIn):
    return serializers.case_out(
        cases.advance(principal.require_user(request), case_id, note=payload.note)
    )


@router.post("/cases/{case_id}/decide", response={200: dict, **ERRORS})
def decide_case(request, case_id: int, payload: DecisionIn):
    case = cases.decide(
        principal.require_user(request), case_id, payload.approve, note=payload.note
    )
    return serializers.case_out(case)


@router.post("/cases/{case_id}/platform-intervention", response={200: dict, **ERRORS})
def platform_intervention(request, case_id: int):
    return serializers.case_out(
        cases.mark_platform_intervention(principal.require_user(request), case_id)
    )


@router.post("/changes/{change_id}/decide", response={200: dict, **ERRORS})
def decide_change(request, change_id: int, payload: DecisionIn):
    made = actions.decide_change(
        principal.require_user(request), change_id, payload.approve, note=payload.note
    )
    return {"id": made.id, "approval": made.approval}


@router.post("/concessions/{compensation_id}/decide", response={200: dict, **ERRORS})
def decide_concession(request, compensation_id: int, payload: DecisionIn):
    made = actions.decide_compensation(
        principal.require_user(request), compensation_id, payload.approve, note=payload.note
    )
    return {"id": made.id, "approval": made.approval}


@router.get("/approvals", response={200: dict, **ERRORS})
def approvals(request):
    """What waits for the supervisor: price changes, concessions, cases."""
    from kefu.accounts import queries as accounts_queries

    shop_ids = accounts_queries.supervised_shop_ids(principal.require_user(request))
    pending = ApprovalState.PENDING
    return {
        "changes": [
            {
                "id": c.id,
                "order": c.order.external_id,
                "kind": c.kind,
                "after": c.after,
                "reason": c.reason,
            }
            for c in OrderChange.objects.filter(
                order__shop_id__in=shop_ids, approval=pending
            ).select_related("order")[:100]
        ],
        "concessions": [
            {
                "id": c.id,
                "order": c.order.external_id,
                "kind": c.kind,
                "amount": str(c.amount),
                "reason": c.reason,
            }
            for c in Compensation.objects.filter(
                shop_id__in=shop_ids, approval=pending
            ).select_related("order")[:100]
        ],
        "cases": [
            serializers.case_out(case)
            for case in cases.AfterSalesCase.objects.filter(
                shop_id__in=shop_ids, approval=pending
            ).select_related("order")[:100]
        ],
    }


widget_router = Router(auth=visitor_auth)


@widget_router.get("", response={200: list[dict], 401: ErrorOut})
def widget_orders(request):
    """The widget visitor's own orders: those placed by a marketplace account
    the shop has linked to this visitor's customer record (the identity rule);
    a plain web visitor has none and gets an empty list."""
    from kefu.inbox.connectors import widget

    context = widget.visitor_context(request.visitor)
    if context.customer_id is None:
        return []
    accounts = queries.marketplace_accounts(context.customer_id)
    orders = Order.objects.filter(shop_id=context.shop_id, buyer_account__in=accounts)
    return [serializers.order_detail(order) for order in orders.order_by("-ordered_at")[:20]]
