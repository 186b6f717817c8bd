"""After-sales cases: opened from the workbench, the help center or a work
queue, judged by the shop's policy engine, then moved through the seven steps
(received → classified → solution → executing → confirmed → archived →
followed up), one step at a time, each transition recorded with who and when.

A case whose decision needs approval (an amount above the shop's threshold)
waits at "solution" until a supervisor approves it."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.db import transaction
from django.utils.translation import gettext as _

from kefu.accounts import queries as accounts_queries
from kefu.compliance import audit
from kefu.compliance.models import AuditAction
from kefu.core.clock import Clock, system_clock
from kefu.core.errors import ActionError, NotFound
from kefu.core.text import one_line

from . import policy
from .models import (
    CASE_STEPS,
    AfterSalesCase,
    ApprovalState,
    CaseItem,
    CaseSource,
    CaseState,
    CaseTransition,
    Order,
)

MAX_CASE_ITEMS = 50


class PolicyRefused(ActionError):
    """The policy does not allow the request; the payload carries the decision."""

    code = "policy_refused"

    def __init__(self, message: str, decisions: list[dict]) -> None:
        super().__init__(message)
        self.payload = {"decisions": decisions}


def _local_iso(moment: dt.datetime | None, zone: str) -> str | None:
    return moment.astimezone(ZoneInfo(zone)).isoformat() if moment else None


def policy_requests(
    order: Order,
    lines: Iterable[tuple[int, int]],
    *,
    reason: str,
    condition: str,
    requested_type: str | None,
    requested_at: dt.datetime,
) -> list[tuple]:
    """One policy request per (item id, quantity returned): the line's paid
    amount and quantity, and how many units this case is about."""
    zone = order.shop.time_zone
    items = {item.id: item for item in order.items.all()}
    requests = []
    seen = set()
    for item_id, quantity in lines:
        item = items.get(item_id)
        if item is None or item_id in seen:
            raise ActionError(_("An item is not in the order or named twice."), code="invalid")
        if not 1 <= quantity <= item.quantity:
            raise ActionError(
                _("quantity: from 1 to %(n)d for %(item)s.")
                % {"n": item.quantity, "item": item.name},
                code="invalid",
            )
        seen.add(item_id)
        data = {
            "category": item.category,
            "flags": list(item.flags or []),
            "paid": str(item.paid_amount),
            "quantity": item.quantity,
            "return_quantity": quantity,
            "ordered": _local_iso(order.ordered_at, zone),
            "delivered": _local_iso(order.delivered_at, zone),
            "requested": _local_iso(requested_at, zone),
            "reason": reason,
            "condition": condition,
        }
        if requested_type:
            data["requested_type"] = requested_type
        requests.append((item, quantity, data))
    if not requests:
        raise ActionError(_("Choose at least one item."), code="invalid")
    if len(requests) > MAX_CASE_ITEMS:
        raise ActionError(_("Too many items in one case."), code="invalid")
    return requests


def evaluate(
    order: Order,
    lines: Iterable[tuple[int, int]],
    *,
    reason: str,
    condition: str,
    requested_type: str | None = None,
    clock: Clock = system_clock,
) -> list[dict]:
    """The policy's decision for each line (what the help center pre-checks)."""
    settings = policy.settings_for_shop(order.shop)
    decisions = []
    for _item, _quantity, data in policy_requests(
        order,
        lines,
        reason=reason,
        condition=condition,
        requested_type=requested_type,
        requested_at=clock.now(),
    ):
        decision = policy.explain_json(data, settings)
        if "error" in decision:
            error = decision["error"]
            raise ActionError(f"{error['field']}: {error['message']}", code="invalid")
        decisions.append(decision)
    return decisions


def _transition(case, to_state: str, actor, note: str = "") -> None:
    CaseTransition.objects.create(
        case=case, from_state=case.state, to_state=to_state, actor=actor, note=note
    )
    case.state = to_state


def open_case(
    actor,
    order: Order,
    lines: Iterable[tuple[int, int]],
    *,
    reason: str,
    condition: str,
    requested_type: str | None = None,
    description: str = "",
    source: str = CaseSource.AGENT,
    conversation=None,
    clock: Clock = system_clock,
) -> AfterSalesCase:
    """Open a case the policy allows (else `PolicyRefused` with the decisions,
    nothing stored). The caller has applied the identity rule to `order`."""
    lines = list(lines)
    decisions = evaluate(
        order, lines, reason=reason, condition=condition, requested_type=requested_type, clock=clock
    )
    if not all(decision["allowed"] for decision in decisions):
        refused = next(d for d in decisions if not d["allowed"])
        raise PolicyRefused(refused["explanation"]["zh-hans"], decisions)
    first = decisions[0]
    with transaction.atomic():
        case = AfterSalesCase.objects.create(
            shop_id=order.shop_id,
            order=order,
            conversation=conversation,
            case_type=requested_type or first["case_type"],
            reason=reason,
            condition=condition,
            description=one_line(description, 2000),
            source=source,
            decision={"lines": decisions, "explanation": first["explanation"]},
            refund_amount=sum((Decimal(d["refundable_amount"]) for d in decisions), Decimal(0)),
            compensation_amount=sum(
                (Decimal(d["compensation_amount"]) for d in decisions), Decimal(0)
            ),
            return_shipping_paid_by=first["return_shipping_paid_by"] or "",
            approval=(
                ApprovalState.PENDING
                if any(d["approval_needed"] for d in decisions)
                else ApprovalState.NOT_NEEDED
            ),
            created_by=actor,
        )
        CaseItem.objects.bulk_create(
            CaseItem(case=case, order_item_id=item_id, quantity=quantity)
            for item_id, quantity in lines
        )
        CaseTransition.objects.create(
            case=case, from_state="", to_state=CaseState.RECEIVED, actor=actor
        )
        _transition(case, CaseState.CLASSIFIED, None, _("Classified by the shop's policy"))
        case.save(update_fields=["state"])
        _audit(actor, case, "opened", clock)
    return case


def _audit(actor, case: AfterSalesCase, what: str, clock: Clock, reason: str = "") -> None:
    audit.record(
        actor,
        AuditAction.CASE,
        shop_id=case.shop_id,
        customer_id=case.order.customer_id,
        subject=f"case {case.id} ({case.order.external_id}): {what}",
        reason=reason,
        data={"case": case.id, "state": case.state, "approval": case.approval},
        clock=clock,
    )


def case_for(user, case_id: int, *, for_update: bool = False) -> AfterSalesCase:
    """A case of one of the user's shops."""
    shop_ids = list(accounts_queries.profile_of(user).shops.values_list("id", flat=True))
    queryset = AfterSalesCase.objects.select_related("order", "shop")
    if for_update:
        queryset = queryset.select_for_update(of=("self",))
    case = queryset.filter(id=case_id, shop_id__in=shop_ids).first()
    if case is None:
        raise NotFound(_("After-sales case not found."))
    return case


def advance(user, case_id: int, *, note: str = "", clock: Clock = system_clock) -> AfterSalesCase:
    """Move the case to its next step."""
    with transaction.atomic():
        case = case_for(user, case_id, for_update=True)
        position = CASE_STEPS.index(case.state)
        if position == len(CASE_STEPS) - 1:
            raise ActionError(_("The case has gone through all seven steps."), code="case_state")
        if (
            case.approval in (ApprovalState.PENDING, ApprovalState.REJECTED)
            and CASE_STEPS[position + 1] == CaseState.EXECUTING
        ):
            raise ActionError(
                _("The solution needs a supervisor's approval before it is carried out."),
                code="approval_needed",
            )
        _transition(case, CASE_STEPS[position + 1], user, one_line(note, 400))
        case.save(update_fields=["state", "updated_at"])
        _audit(user, case, case.state, clock)
    return case


def decide(
    supervisor, case_id: int, approve: bool, *, note: str = "", clock: Clock = system_clock
) -> AfterSalesCase:
    with transaction.atomic():
        case = case_for(supervisor, case_id, for_update=True)
        if not accounts_queries.supervises(supervisor, case.shop_id):
            raise NotFound(_("After-sales case not found."))
        if case.approval != ApprovalState.PENDING:
            raise ActionError(_("This case was already decided."), code="decided")
        case.approval = ApprovalState.APPROVED if approve else ApprovalState.REJECTED
        case.save(update_fields=["approval", "updated_at"])
        _audit(supervisor, case, f"approval {case.approval}", clock, one_line(note, 300))
    return case


def mark_platform_intervention(
    user, case_id: int, *, clock: Clock = system_clock
) -> AfterSalesCase:
    """The buyer escalated to the marketplace (counts in the dispute rate)."""
    with transaction.atomic():
        case = case_for(user, case_id, for_update=True)
        if not case.platform_intervention:
            case.platform_intervention = True
            case.platform_intervention_at = clock.now()
            case.save(
                update_fields=["platform_intervention", "platform_intervention_at", "updated_at"]
            )
            _audit(user, case, "platform intervention", clock)
    return case
