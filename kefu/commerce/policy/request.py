"""An after-sales request as the engine reads it: parsed from a JSON object,
every invalid value refused with `RequestError` naming its field."""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo

from .settings import FLAGS, PolicySettings

REASONS = (
    "no_reason",
    "quality",
    "wrong_item",
    "missing_item",
    "not_as_described",
    "late_shipment",
    "out_of_stock",
)
CONDITIONS = ("intact", "opened", "used", "defective")
OPTION_TYPES = ("return", "exchange", "refund_only", "repair", "reissue")
# Reasons where the item's condition plays no part (it may be omitted: "intact").
CONDITION_OPTIONAL = ("late_shipment", "out_of_stock", "missing_item")
KNOWN_FIELDS = frozenset(
    {
        "category",
        "flags",
        "paid",
        "quantity",
        "return_quantity",
        "ordered",
        "delivered",
        "requested",
        "reason",
        "condition",
        "requested_type",
        "exception",
        # Annotations a supervisor may keep in a test file; ignored.
        "id",
        "note",
    }
)


class RequestError(ValueError):
    """An invalid request; `field` names the value to correct."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


@dataclasses.dataclass(frozen=True)
class Request:
    category: str
    flags: frozenset[str]
    # The item's actual paid amount for its whole `quantity`.
    paid: Decimal
    # The units of the order line, and those the request is about (returned,
    # missing, late...; all of them unless `return_quantity` says fewer).
    quantity: int
    return_quantity: int
    ordered: dt.datetime
    delivered: dt.datetime | None
    requested: dt.datetime
    reason: str
    condition: str
    requested_type: str | None = None
    # The agent asks to grant it even outside the rules (then approval is needed).
    exception: bool = False

    @property
    def share(self) -> Decimal:
        """The paid amount of the units concerned, unrounded."""
        if self.return_quantity == self.quantity:
            return self.paid
        return self.paid * self.return_quantity / self.quantity


def parse_request(data: Any, settings: PolicySettings) -> Request:
    """`data` (a decoded JSON object) as a `Request`; times without an offset
    are read in the shop's time zone."""
    if not isinstance(data, dict):
        raise RequestError("request", "must be a JSON object")
    for name in data:
        if name not in KNOWN_FIELDS and not str(name).startswith("_"):
            raise RequestError(str(name), "unknown field")
    zone = ZoneInfo(settings.time_zone)

    category = data.get("category", "")
    if category is None:
        category = ""
    if not isinstance(category, str):
        raise RequestError("category", "must be a string")

    flags = data.get("flags", [])
    if flags is None:
        flags = []
    if not isinstance(flags, list):
        raise RequestError("flags", f"must be a list of flags ({', '.join(FLAGS)})")
    for flag in flags:
        if flag not in FLAGS:
            raise RequestError("flags", f"unknown flag {flag!r} (one of {', '.join(FLAGS)})")

    paid = _decimal("paid", data.get("paid"))
    quantity = _count("quantity", data.get("quantity"))
    return_quantity = (
        quantity
        if data.get("return_quantity") is None
        else _count("return_quantity", data["return_quantity"])
    )
    if return_quantity > quantity:
        raise RequestError("return_quantity", f"more than the {quantity} ordered")

    reason = _choice("reason", data.get("reason"), REASONS)
    if data.get("condition") is None and reason in CONDITION_OPTIONAL:
        condition = "intact"
    else:
        condition = _choice("condition", data.get("condition"), CONDITIONS)
    requested_type = data.get("requested_type")
    if requested_type is not None:
        requested_type = _choice("requested_type", requested_type, OPTION_TYPES)
    exception = data.get("exception", False)
    if not isinstance(exception, bool):
        raise RequestError("exception", "must be true or false")

    ordered = _moment("ordered", data.get("ordered"), zone)
    delivered = (
        None if data.get("delivered") is None else _moment("delivered", data["delivered"], zone)
    )
    requested = _moment("requested", data.get("requested"), zone)
    if delivered is not None and delivered < ordered:
        raise RequestError("delivered", "before the order was placed")
    if requested < ordered:
        raise RequestError("requested", "before the order was placed")
    if delivered is not None and requested < delivered:
        raise RequestError("requested", "before the goods were signed for")

    return Request(
        category=category.strip(),
        flags=frozenset(flags),
        paid=paid,
        quantity=quantity,
        return_quantity=return_quantity,
        ordered=ordered,
        delivered=delivered,
        requested=requested,
        reason=reason,
        condition=condition,
        requested_type=requested_type,
        exception=exception,
    )


def _decimal(field: str, value: Any) -> Decimal:
    if value is None:
        raise RequestError(field, 'missing (a decimal string such as "99.00")')
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise RequestError(field, 'must be a decimal string such as "99.00"')
    try:
        amount = Decimal(str(value).strip())
    except InvalidOperation:
        raise RequestError(field, f"not a decimal number: {value!r}") from None
    if not amount.is_finite():
        raise RequestError(field, f"not a decimal number: {value!r}")
    if amount < 0:
        raise RequestError(field, "must not be negative")
    return amount


def _count(field: str, value: Any) -> int:
    if value is None:
        raise RequestError(field, "missing (a whole number of at least 1)")
    if isinstance(value, bool) or not isinstance(value, int):
        raise RequestError(field, "must be a whole number of at least 1")
    if value < 0:
        raise RequestError(field, "must not be negative")
    if value == 0:
        raise RequestError(field, "must be at least 1")
    return value


def _choice(field: str, value: Any, choices: tuple[str, ...]) -> str:
    if value is None:
        raise RequestError(field, f"missing (one of {', '.join(choices)})")
    if value not in choices:
        raise RequestError(field, f"unknown value {value!r} (one of {', '.join(choices)})")
    return value


def _moment(field: str, value: Any, zone: ZoneInfo) -> dt.datetime:
    if value is None:
        raise RequestError(field, "missing (an ISO-8601 date and time)")
    if not isinstance(value, str):
        raise RequestError(field, "must be an ISO-8601 date and time")
    try:
        moment = dt.datetime.fromisoformat(value.strip())
    except ValueError:
        raise RequestError(field, f"not an ISO-8601 date and time: {value!r}") from None
    if moment.tzinfo is None or moment.utcoffset() is None:
        moment = moment.replace(tzinfo=zone)
    return moment
