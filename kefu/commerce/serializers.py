"""Orders as the workbench shows them: the buyer's phone and address masked
(revealing them is an audited action), money as decimal strings."""

from __future__ import annotations

from kefu.compliance.privacy import ADDRESS, PHONE, mask

from . import queries
from .models import AfterSalesCase, Order, OrderStatus


def _iso(moment) -> str | None:
    return moment.isoformat() if moment else None


def order_summary(order: Order) -> dict:
    return {
        "id": order.id,
        "number": order.external_id,
        "status": order.status,
        "status_label": str(OrderStatus(order.status).label),
        "total": str(order.total),
        "paid_amount": str(order.paid_amount),
        "ordered_at": _iso(order.ordered_at),
        "paid_at": _iso(order.paid_at),
        "shipped_at": _iso(order.shipped_at),
        "delivered_at": _iso(order.delivered_at),
    }


def case_out(case: AfterSalesCase) -> dict:
    return {
        "id": case.id,
        "order_id": case.order_id,
        "case_type": case.case_type,
        "case_type_label": case.get_case_type_display(),
        "reason": case.reason,
        "state": case.state,
        "state_label": case.get_state_display(),
        "refund_amount": str(case.refund_amount),
        "compensation_amount": str(case.compensation_amount),
        "return_shipping_paid_by": case.return_shipping_paid_by or None,
        "approval": case.approval,
        "platform_intervention": case.platform_intervention,
        "explanation": (case.decision or {}).get("explanation", {}),
        "created_at": _iso(case.created_at),
        "transitions": [
            {"from": t.from_state, "to": t.to_state, "at": _iso(t.at), "note": t.note}
            for t in case.transitions.all()
        ],
    }


def order_detail(order: Order) -> dict:
    """Everything the order panel shows for one order."""
    shipments = []
    for shipment in order.shipments.prefetch_related("events").order_by("shipped_at", "id"):
        shipments.append(
            {
                "courier": shipment.courier,
                "tracking_number": shipment.tracking_number,
                "shipped_at": _iso(shipment.shipped_at),
                "delivered_at": _iso(shipment.delivered_at),
                "events": [
                    {
                        "at": _iso(event.occurred_at),
                        "status": event.status,
                        "location": event.location,
                        "description": event.description,
                    }
                    for event in shipment.events.all()
                ],
            }
        )
    return order_summary(order) | {
        "receiver_name": order.receiver_name,
        "receiver_phone": mask(order.receiver_phone, PHONE) if order.receiver_phone else "",
        "receiver_address": (
            mask(order.receiver_address, ADDRESS) if order.receiver_address else ""
        ),
        "invoice_type": order.invoice_type,
        "invoice_title": order.invoice_title,
        "note": order.note,
        "items": [
            {
                "id": item.id,
                "name": item.name,
                "spec": item.spec,
                "quantity": item.quantity,
                "unit_price": str(item.unit_price),
                "paid_amount": str(item.paid_amount),
                "flags": item.flags,
            }
            for item in order.items.order_by("id")
        ],
        "payments": [
            {
                "method": payment.method,
                "amount": str(payment.amount),
                "status": payment.status,
                "paid_at": _iso(payment.paid_at),
            }
            for payment in order.payments.order_by("id")
        ],
        "shipments": shipments,
        "changes": [
            {
                "id": change.id,
                "kind": change.kind,
                "kind_label": change.get_kind_display(),
                "approval": change.approval,
                "created_at": _iso(change.created_at),
            }
            for change in order.changes.all()[:20]
        ],
        "cases": [case_out(case) for case in order.cases.order_by("-created_at")],
        "risks": [
            {"kind": flag.kind, "label": flag.label, "source": flag.source}
            for flag in queries.risk_flags(order)
        ],
    }
