"""What agents do to orders from the workbench: read them, change them, offer
concessions and compensation, record invoice promises. Every function that
reads or changes an order goes through `order_for`, which applies the order
identity rule of the compliance app; every change is written as an
`OrderChange` and to the audit log in the same transaction.

Decisions where the issue is silent:
- address, cancel and spec changes are allowed until the order ships; a
  quantity change only before payment (after it, money would move: that is a
  partial refund, i.e. an after-sales case); the invoice details until the
  order is closed or cancelled.
- a price change (改价) is only possible before payment and always waits for a
  supervisor; a supervisor's own change is approved by making it.
- concessions above the agent's authority (compliance settings) are stored as
  pending and wait in the supervisors' approval queue.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from django.db import transaction
from django.db.models import F
from django.utils import translation
from django.utils.translation import gettext as _

from kefu.accounts import queries as accounts_queries
from kefu.accounts.models import AgentLevel
from kefu.compliance import audit, identity
from kefu.compliance.actions import ensure_settings as compliance_settings
from kefu.compliance.models import AuditAction
from kefu.compliance.privacy import PHONE, mask
from kefu.core.clock import Clock, system_clock
from kefu.core.errors import ActionError, NotFound, PermissionDenied
from kefu.core.text import one_line

from . import queries
from .models import (
    ApprovalState,
    ChangeKind,
    Compensation,
    CompensationKind,
    InvoiceRequest,
    Order,
    OrderChange,
    OrderItem,
    OrderStatus,
    TaskStatus,
)

CENT = Decimal("0.01")
MAX_AMOUNT = Decimal("1000000")
_PHONE = re.compile(r"^\+?[0-9][0-9 \-]{5,19}$")
LEVELS = (AgentLevel.JUNIOR, AgentLevel.SENIOR, AgentLevel.ADVANCED, "supervisor")


# --- access -------------------------------------------------------------------------


def conversation_of(user, conversation_id: int, *, for_update: bool = False):
    """The conversation if the user may see it (least privilege per shop and group)."""
    return accounts_queries.conversation_for(user, conversation_id, for_update=for_update)


def order_for(
    conversation,
    order_id: int | None = None,
    *,
    number: str = "",
    message: str = "",
    language: str = "zh-hans",
    for_update: bool = False,
) -> Order:
    """The order, if the conversation's customer is the buyer account that placed
    it; otherwise `OrderIdentityRefused` (403, the standard answer in both
    languages). Called by every read and change of an order."""
    order = queries.order_in_shop(conversation.shop_id, order_id=order_id, number=number)
    identity.require_order_identity(
        queries.requester_of(conversation, order),
        queries.buyer_of(order),
        message=message,
        language=language,
    )
    if for_update:
        order = Order.objects.select_for_update().get(pk=order.pk)
    return order


def level_of(user, shop_id: int) -> str:
    """The authority level: supervisors and administrators of the shop are
    "supervisor", everyone else their agent level."""
    if accounts_queries.supervises(user, shop_id):
        return "supervisor"
    return accounts_queries.profile_of(user).level


def _limit(shop, level: str, name: str) -> Decimal:
    """The level's authority limit, by the same rule the guard judges with."""
    from kefu.compliance.guard.context import GuardContext

    limits = compliance_settings(shop).authority_limits or {}
    return Decimal(str(GuardContext(authority_limits=limits, agent_level=level).limit(name)))


# --- validation helpers ---------------------------------------------------------------


def money(value: Any, field: str) -> Decimal:
    try:
        amount = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        raise ActionError(
            _("%(field)s: not an amount of money.") % {"field": field}, code="invalid"
        ) from None
    if not amount.is_finite() or amount < 0 or amount >= MAX_AMOUNT:
        raise ActionError(
            _("%(field)s: give an amount between 0 and 999999.99.") % {"field": field},
            code="invalid",
        )
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


def _text(values: Mapping[str, Any], field: str, max_chars: int, *, required=True) -> str:
    text = " ".join(str(values.get(field) or "").split())
    if required and not text:
        raise ActionError(_("%(field)s is required.") % {"field": field}, code="invalid")
    if len(text) > max_chars:
        raise ActionError(
            _("%(field)s is too long (at most %(n)d characters).")
            % {"field": field, "n": max_chars},
            code="invalid",
        )
    return text


def _require_status(order: Order, allowed: tuple[str, ...], what: str) -> None:
    if order.status not in allowed:
        raise ActionError(
            _("%(what)s is not possible any more: the order is %(status)s.")
            % {"what": what, "status": OrderStatus(order.status).label},
            code="order_state",
        )


def _item(order: Order, values: Mapping[str, Any]) -> OrderItem:
    item = order.items.filter(id=values.get("item_id") or 0).first()
    if item is None:
        raise NotFound(_("This item is not in the order."))
    return item


# --- changes --------------------------------------------------------------------------


@dataclass(frozen=True)
class Change:
    before: dict
    after: dict
    apply: dict  # Order fields to write when the change is applied
    item_id: int | None = None


def _plan(order: Order, kind: str, values: Mapping[str, Any]) -> Change:
    """Validate a change and say what it would do; nothing is written here."""
    before_shipping = (OrderStatus.PENDING_PAYMENT, OrderStatus.PAID)
    if kind == ChangeKind.ADDRESS:
        _require_status(order, before_shipping, _("Changing the address"))
        phone = _text(values, "receiver_phone", 40)
        if not _PHONE.match(phone):
            raise ActionError(_("receiver_phone: not a phone number."), code="invalid")
        after = {
            "receiver_name": _text(values, "receiver_name", 120),
            "receiver_phone": phone,
            "receiver_address": _text(values, "receiver_address", 400),
        }
        before = {field: getattr(order, field) for field in after}
        return Change(before, after, after)
    if kind == ChangeKind.CANCEL:
        _require_status(order, before_shipping, _("Cancelling"))
        return Change(
            {"status": order.status},
            {"status": OrderStatus.CANCELLED},
            {"status": OrderStatus.CANCELLED},
        )
    if kind == ChangeKind.SPEC:
        _require_status(order, before_shipping, _("Changing the specification"))
        item = _item(order, values)
        return Change({"spec": item.spec}, {"spec": _text(values, "spec", 200)}, {}, item.id)
    if kind == ChangeKind.QUANTITY:
        _require_status(order, (OrderStatus.PENDING_PAYMENT,), _("Changing the quantity"))
        item = _item(order, values)
        try:
            quantity = int(values.get("quantity"))  # type: ignore[arg-type]
        except (TypeError, ValueError):
            quantity = 0
        if not 1 <= quantity <= 999:
            raise ActionError(_("quantity: give a whole number from 1 to 999."), code="invalid")
        return Change({"quantity": item.quantity}, {"quantity": quantity}, {}, item.id)
    if kind == ChangeKind.INVOICE:
        _require_status(
            order,
            tuple(s for s in OrderStatus.values if s not in ("cancelled", "closed")),
            _("Changing the invoice details"),
        )
        after = {
            "invoice_type": _text(values, "invoice_type", 40),
            "invoice_title": _text(values, "invoice_title", 200),
            "invoice_tax_id": _text(values, "invoice_tax_id", 40, required=False),
        }
        return Change({f: getattr(order, f) for f in after}, after, after)
    if kind == ChangeKind.PRICE:
        _require_status(order, (OrderStatus.PENDING_PAYMENT,), _("Changing the price"))
        total = money(values.get("total"), "total")
        if total <= 0 or total > order.total:
            raise ActionError(
                _("total: a new price must be above 0 and at most the current %(total)s.")
                % {"total": order.total},
                code="invalid",
            )
        return Change({"total": str(order.total)}, {"total": str(total)}, {"total": total})
    if kind == ChangeKind.NOTE:
        note = _text(values, "note", 1000)
        return Change({}, {"note": note}, {"note": (order.note + "\n" + note).strip()})
    if kind == ChangeKind.RESEND_TRACKING:
        shipment = order.shipments.order_by("-shipped_at", "-id").first()
        if shipment is None:
            raise ActionError(_("The order has not shipped yet."), code="order_state")
        return Change({}, {"courier": shipment.courier, "tracking": shipment.tracking_number}, {})
    raise ActionError(_("Unknown change: %(kind)s") % {"kind": kind}, code="invalid")


def _masked(values: dict) -> dict:
    """Audit-log data: buyers' phone numbers and addresses masked."""
    from kefu.compliance.privacy import ADDRESS

    shown = dict(values)
    if shown.get("receiver_phone"):
        shown["receiver_phone"] = mask(shown["receiver_phone"], PHONE)
    if shown.get("receiver_address"):
        shown["receiver_address"] = mask(shown["receiver_address"], ADDRESS)
    return shown


def _apply(order: Order, change: OrderChange, plan: Change) -> None:
    if plan.apply:
        Order.objects.filter(pk=order.pk).update(**plan.apply, change_count=F("change_count") + 1)
    if plan.item_id is not None:
        OrderItem.objects.filter(pk=plan.item_id).update(**plan.after)
        Order.objects.filter(pk=order.pk).update(change_count=F("change_count") + 1)


def change_order(
    user,
    conversation_id: int,
    order_id: int,
    kind: str,
    values: Mapping[str, Any],
    *,
    reason: str = "",
    language: str = "zh-hans",
    clock: Clock = system_clock,
) -> OrderChange:
    """Make (or, for a price change by an agent, request) one change."""
    conversation = conversation_of(user, conversation_id)
    needs_approval = (
        kind == ChangeKind.PRICE and level_of(user, conversation.shop_id) != "supervisor"
    )
    with transaction.atomic():
        order = order_for(conversation, order_id, language=language, for_update=True)
        plan = _plan(order, kind, values)
        reason_text = one_line(reason, 400)
        if kind in (ChangeKind.CANCEL, ChangeKind.PRICE):
            reason_text = audit.clean_reason(reason)
        change = OrderChange.objects.create(
            order=order,
            kind=kind,
            before=plan.before | ({"item_id": plan.item_id} if plan.item_id else {}),
            after=plan.after,
            reason=reason_text,
            approval=ApprovalState.PENDING if needs_approval else ApprovalState.NOT_NEEDED,
            requested_by=user,
        )
        if not needs_approval:
            if kind == ChangeKind.PRICE:
                change.approval = ApprovalState.APPROVED
                change.decided_by, change.decided_at = user, clock.now()
                change.save(update_fields=["approval", "decided_by", "decided_at"])
            _apply(order, change, plan)
        if kind == ChangeKind.RESEND_TRACKING:
            _send_tracking(user, conversation, change, plan.after)
        audit.record(
            user,
            AuditAction.ORDER_CHANGE,
            shop_id=order.shop_id,
            customer_id=order.customer_id or conversation.customer_id,
            subject=f"{order.external_id}: {kind}",
            reason=reason_text,
            data={
                "change": change.id,
                "before": _masked(plan.before),
                "after": _masked(plan.after),
                "approval": change.approval,
            },
            clock=clock,
        )
    return change


def _send_tracking(user, conversation, change: OrderChange, after: dict) -> None:
    from kefu.bot.nlp.text import language_of
    from kefu.inbox import actions as inbox_actions
    from kefu.inbox.models import Message, SenderType

    # In the buyer's language: that of their latest message.
    last = (
        Message.objects.filter(conversation_id=conversation.id, sender_type=SenderType.CUSTOMER)
        .order_by("-seq")
        .values_list("text", flat=True)
        .first()
    )
    with translation.override(language_of(last) if last else "zh-hans"):
        text = _("Your parcel was sent with %(courier)s, tracking number %(tracking)s.") % after
    result = inbox_actions.send_agent_message(
        user, conversation.id, client_id=f"tracking-{change.id}", text=text
    )
    if result.error is not None:  # refused (e.g. by the guard): the change is not recorded
        raise result.error


def decide_change(
    supervisor, change_id: int, approve: bool, *, note: str = "", clock: Clock = system_clock
) -> OrderChange:
    """A supervisor of the order's shop approves (the change is applied, if the
    order still allows it) or rejects a pending change."""
    with transaction.atomic():
        change = (
            OrderChange.objects.select_for_update()
            .select_related("order")
            .filter(
                id=change_id, order__shop_id__in=accounts_queries.supervised_shop_ids(supervisor)
            )
            .first()
        )
        if change is None:
            raise NotFound(_("No such change waiting for your approval."))
        if change.approval != ApprovalState.PENDING:
            raise ActionError(_("This change was already decided."), code="decided")
        order = Order.objects.select_for_update().get(pk=change.order_id)
        if approve:
            values = change.after | (
                {"item_id": change.before["item_id"]} if "item_id" in change.before else {}
            )
            _apply(order, change, _plan(order, change.kind, values))
        change.approval = ApprovalState.APPROVED if approve else ApprovalState.REJECTED
        change.decided_by, change.decided_at = supervisor, clock.now()
        change.save(update_fields=["approval", "decided_by", "decided_at"])
        audit.record(
            supervisor,
            AuditAction.ORDER_APPROVAL,
            shop_id=order.shop_id,
            customer_id=order.customer_id,
            subject=f"{order.external_id}: {change.kind}",
            reason=one_line(note, 300),
            data={"change": change.id, "approval": change.approval},
            clock=clock,
        )
    return change


# --- concessions: the bargaining ladder and compensation --------------------------------

DEFAULT_LADDER = (
    {"kind": CompensationKind.FREE_SHIPPING, "amount": "10", "level": AgentLevel.JUNIOR},
    {"kind": CompensationKind.GIFT, "amount": "10", "level": AgentLevel.JUNIOR},
    {"kind": CompensationKind.COUPON, "amount": "5", "level": AgentLevel.JUNIOR},
    {"kind": CompensationKind.COUPON, "amount": "20", "level": AgentLevel.SENIOR},
    {"kind": CompensationKind.COUPON, "amount": "40", "level": AgentLevel.ADVANCED},
)
"""议价的阶梯: what an agent may offer before payment, smallest first. Ours
(the seeds name the ladder, not its steps); each shop sets its own."""


def ladder_of(shop_id: int) -> list[dict]:
    steps = queries.settings_of(shop_id).bargaining_ladder or {}
    return list(steps.get("steps") or DEFAULT_LADDER)


def _rank(level: str) -> int:
    return LEVELS.index(level) if level in LEVELS else 0


def needs_approval(shop, level: str, amount: Decimal, *, step_level: str | None = None) -> bool:
    """Above the level's compensation limit, or a ladder step for higher levels."""
    if step_level is not None and _rank(step_level) > _rank(level):
        return True
    return amount > _limit(shop, level, "compensation_yuan")


def offer_compensation(
    user,
    conversation_id: int,
    order_id: int,
    kind: str,
    amount: Any,
    *,
    reason: str = "",
    case_id: int | None = None,
    ladder_step: int | None = None,
    language: str = "zh-hans",
    clock: Clock = system_clock,
) -> Compensation:
    """Record a concession; within the agent's limit it is granted at once,
    above it it waits for a supervisor. `ladder_step` offers a preset step of
    the bargaining ladder (before payment only) instead of kind and amount."""
    conversation = conversation_of(user, conversation_id)
    level = level_of(user, conversation.shop_id)
    step_level = None
    with transaction.atomic():
        order = order_for(conversation, order_id, language=language, for_update=True)
        if ladder_step is not None:
            _require_status(order, (OrderStatus.PENDING_PAYMENT,), _("Bargaining"))
            steps = ladder_of(order.shop_id)
            if not 0 <= ladder_step < len(steps):
                raise ActionError(_("No such step of the bargaining ladder."), code="invalid")
            step = steps[ladder_step]
            kind, amount, step_level = step["kind"], step["amount"], step.get("level")
            reason = reason or _("Bargaining ladder, step %(n)d") % {"n": ladder_step + 1}
        if kind not in CompensationKind.values:
            raise ActionError(_("Unknown kind of compensation: %(kind)s") % {"kind": kind})
        value = money(amount, "amount")
        if value <= 0:
            raise ActionError(_("amount: give an amount above 0."), code="invalid")
        case = None
        if case_id is not None:
            case = order.cases.filter(id=case_id).first()
            if case is None:
                raise NotFound(_("No such after-sales case on this order."))
        pending = needs_approval(conversation.shop, level, value, step_level=step_level)
        compensation = Compensation.objects.create(
            shop_id=order.shop_id,
            order=order,
            case=case,
            kind=kind,
            amount=value,
            reason=one_line(reason, 400),
            approval=ApprovalState.PENDING if pending else ApprovalState.NOT_NEEDED,
            requested_by=user,
            requested_level=level,
        )
        audit.record(
            user,
            AuditAction.ORDER_CHANGE,
            shop_id=order.shop_id,
            customer_id=order.customer_id or conversation.customer_id,
            subject=f"{order.external_id}: {kind} {value}",
            reason=compensation.reason,
            data={"compensation": compensation.id, "approval": compensation.approval},
            clock=clock,
        )
    return compensation


def decide_compensation(
    supervisor, compensation_id: int, approve: bool, *, note: str = "", clock: Clock = system_clock
) -> Compensation:
    with transaction.atomic():
        compensation = (
            Compensation.objects.select_for_update()
            .filter(
                id=compensation_id,
                shop_id__in=accounts_queries.supervised_shop_ids(supervisor),
            )
            .first()
        )
        if compensation is None:
            raise NotFound(_("No such concession waiting for your approval."))
        if compensation.approval != ApprovalState.PENDING:
            raise ActionError(_("This concession was already decided."), code="decided")
        if approve and compensation.amount > _limit(
            compensation.shop, "supervisor", "compensation_yuan"
        ):
            raise PermissionDenied(
                _("This is above the supervisors' limit too; the shop owner must decide.")
            )
        compensation.approval = ApprovalState.APPROVED if approve else ApprovalState.REJECTED
        compensation.decided_by, compensation.decided_at = supervisor, clock.now()
        compensation.save(update_fields=["approval", "decided_by", "decided_at"])
        audit.record(
            supervisor,
            AuditAction.ORDER_APPROVAL,
            shop_id=compensation.shop_id,
            customer_id=compensation.order.customer_id,
            subject=f"{compensation.order.external_id}: {compensation.kind} {compensation.amount}",
            reason=one_line(note, 300),
            data={"compensation": compensation.id, "approval": compensation.approval},
            clock=clock,
        )
    return compensation


# --- invoices --------------------------------------------------------------------------


def record_invoice_request(
    user,
    conversation_id: int,
    order_id: int,
    values: Mapping[str, Any],
    *,
    language: str = "zh-hans",
    clock: Clock = system_clock,
) -> InvoiceRequest:
    """The buyer asked for an invoice and the agent promised a date. The amount
    is the goods' paid amount at most (an invoice must match the goods)."""
    conversation = conversation_of(user, conversation_id)
    with transaction.atomic():
        order = order_for(conversation, order_id, language=language, for_update=True)
        amount = money(values.get("amount") or order.paid_amount, "amount")
        if amount <= 0 or amount > order.paid_amount:
            raise ActionError(
                _("amount: an invoice is for at most the paid amount, %(paid)s.")
                % {"paid": order.paid_amount},
                code="invalid",
            )
        try:
            promised_by = dt.date.fromisoformat(str(values.get("promised_by") or ""))
        except ValueError:
            raise ActionError(
                _("promised_by: give a date as YYYY-MM-DD."), code="invalid"
            ) from None
        today = clock.now().date()
        if not today <= promised_by <= today + dt.timedelta(days=90):
            raise ActionError(_("promised_by: a date from today to 90 days ahead."), code="invalid")
        request = InvoiceRequest.objects.create(
            order=order,
            invoice_type=_text(values, "invoice_type", 40),
            title=_text(values, "title", 200),
            tax_id=_text(values, "tax_id", 40, required=False),
            amount=amount,
            promised_by=promised_by,
            created_by=user,
        )
        audit.record(
            user,
            AuditAction.ORDER_CHANGE,
            shop_id=order.shop_id,
            customer_id=order.customer_id or conversation.customer_id,
            subject=f"{order.external_id}: invoice promised by {promised_by}",
            data={"invoice_request": request.id},
            clock=clock,
        )
    return request


def reveal_receiver(
    user,
    conversation_id: int,
    order_id: int,
    reason: str,
    *,
    language: str = "zh-hans",
    clock: Clock = system_clock,
) -> dict[str, str]:
    """The order's receiver phone and address as written: needs the reveal
    permission and a reason, and is written to the audit log."""
    conversation = conversation_of(user, conversation_id)
    order = order_for(conversation, order_id, language=language)
    if not audit.can_reveal(user, order.shop_id):
        raise PermissionDenied(_("You may not see buyers' personal data."))
    reason = audit.clean_reason(reason)
    audit.record(
        user,
        AuditAction.REVEAL,
        shop_id=order.shop_id,
        customer_id=order.customer_id or conversation.customer_id,
        subject=f"order {order.external_id}: receiver",
        reason=reason,
        data={"field": "order_receiver", "order_id": order.id},
        clock=clock,
    )
    return {"receiver_phone": order.receiver_phone, "receiver_address": order.receiver_address}


# --- shop settings -----------------------------------------------------------------------


def check_ladder(value: Any) -> dict:
    """A bargaining ladder as stored: {"steps": [{"kind", "amount", "level"}, …]};
    an empty value means the default ladder. ActionError names what is wrong."""
    if value in (None, "", {}):
        return {}
    steps = value.get("steps") if isinstance(value, Mapping) else None
    if not isinstance(steps, list) or not steps or len(steps) > 20:
        raise ActionError(_('The ladder is {"steps": [...]} with 1 to 20 steps.'), code="invalid")
    cleaned = []
    for position, step in enumerate(steps, 1):
        if not isinstance(step, Mapping) or step.get("kind") not in CompensationKind.values:
            raise ActionError(
                _("Step %(n)d: kind must be one of %(kinds)s.")
                % {"n": position, "kinds": ", ".join(CompensationKind.values)},
                code="invalid",
            )
        if step.get("level", AgentLevel.JUNIOR) not in LEVELS:
            raise ActionError(
                _("Step %(n)d: level must be one of %(levels)s.")
                % {"n": position, "levels": ", ".join(LEVELS)},
                code="invalid",
            )
        amount = money(step.get("amount"), f"step {position} amount")
        if amount <= 0:
            raise ActionError(_("Step %(n)d: give an amount above 0.") % {"n": position})
        cleaned.append(
            {"kind": step["kind"], "amount": str(amount), "level": step.get("level", "junior")}
        )
    return {"steps": cleaned}


def check_policy(value: Any) -> dict:
    """The after-sales policy overrides, refused with the setting's name when the
    engine could not use them (checked when saved, never at decision time)."""
    from .policy import PolicyError, PolicySettings

    if value in (None, ""):
        return {}
    if not isinstance(value, Mapping):
        raise ActionError(_("The policy is a JSON object of settings."), code="invalid")
    try:
        PolicySettings.from_overrides(value)
    except PolicyError as error:
        raise ActionError(str(error), code="invalid") from None
    return dict(value)


# --- work queues ------------------------------------------------------------------------


def finish_task(user, task_id: int, *, dismiss: bool = False, clock: Clock = system_clock):
    """An agent marks a task done (contacted the buyer) or dismisses it. Only
    someone who can see the task in the queue page may; anything else is
    NotFound and changes nothing. Who and when go into the task and the audit
    log; the outcome (`result`) stays the sweep's to record."""
    from . import queues

    with transaction.atomic():
        task = (
            queues.visible_tasks(user)
            .select_related("order")
            .select_for_update(of=("self",))
            .filter(id=task_id)
            .first()
        )
        if task is None:
            raise NotFound(_("Task not found."))
        if task.status != TaskStatus.OPEN:
            raise ActionError(_("This task is already closed."), code="task_closed")
        task.status = TaskStatus.DISMISSED if dismiss else TaskStatus.DONE
        task.done_by = user
        task.details = {**task.details, "finished_at": clock.now().isoformat()}
        task.save(update_fields=["status", "done_by", "details"])
        audit.record(
            user,
            AuditAction.ORDER_CHANGE,
            shop_id=task.shop_id,
            customer_id=task.order.customer_id,
            subject=f"{task.order.external_id}: {task.kind} {task.status}",
            data={"work_task": task.id, "kind": task.kind, "status": task.status},
            clock=clock,
        )
    return task
