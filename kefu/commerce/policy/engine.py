"""The after-sales decision: which remedies the shop's policy allows for one
request, who pays return shipping, what can be refunded or is owed, whether a
supervisor must approve, and a text the agent can send (zh-hans and en).

Pure: no database, no clock; the request carries its own times.

Rules (the seeds' values are the defaults, every one a shop setting):

- Day count: calendar days in the shop's time zone, starting the day after
  the buyer signed. Signed on the 1st: the 2nd is day 1, the 8th day 7 (the
  last day of a 7-day window), the 9th is outside. The day of signing is day 0
  and inside every window.
- No reason (7天无理由退货, 商品完好): a return within `no_reason_days`; the
  buyer pays return shipping. "Intact" allows an item opened for inspection
  (`opened`) but not a `used` one; hygiene and digital items
  only while never opened. Food, fresh and custom-made items (and the shop's
  excluded categories) are never returnable without a reason.
- Quality (质量问题) and `not_as_described` (treated as a quality problem):
  return or refund only within `quality_return_days` (7), exchange within
  `quality_exchange_days` (15), repair within `warranty_days` (365); the shop
  pays shipping. The no-reason exclusions do not apply (state law). A
  `defective` item is a quality problem whatever reason the buyer chose (a
  defect is a fact, and the shop pays for it). Food and fresh items with a
  quality problem are refunded (return or refund only), never exchanged (the
  replacement may be from the same batch) or repaired.
- Wrong item: reissue the right one, exchange or return, within
  `wrong_item_days`, the shop pays. Missing item: reissue or refund only
  (nothing to send back).
- Late shipment (延迟发货): compensation = the units' paid amount ×
  `late_shipment_percent` (30 %), capped at `late_shipment_cap` (500).
  Out of stock (缺货): `out_of_stock_percent` (30 %), cap
  `out_of_stock_cap` (none).
- Amounts: `paid` is the item's actual paid amount for the line's whole
  `quantity`; `return_quantity` (default: all of them) is how many units the
  request is about, as the case actions send it. Those units are worth
  paid × return_quantity ÷ quantity; refunds and compensation are rounded
  half-up to 0.01 once, from that unrounded share.
- Approval: a refundable or compensation amount above `approval_threshold`
  (500; equal is not above), or a request outside the rules granted anyway
  (`"exception": true`).

Decisions where the seeds are silent:

- `allowed` answers the requested type; without one, the best allowed option
  in this order: no reason → return, exchange; quality → return, exchange,
  refund only, repair (refund only first for food and fresh: spoiled goods are
  not sent back); wrong item → reissue, return, exchange; missing item →
  reissue, refund only. When nothing is allowed, `case_type` is the first of
  that order, and `allowed` is false.
- A no-reason exchange follows the no-reason return rule (setting
  `no_reason_exchange`), the buyer paying shipping.
- Quality refund only (no return) is allowed within the quality return window
  for any item; the agent may still ask for photos.
- Not yet signed for: no window runs (`window_days` and `day_number` null);
  only `refund_only` (cancel and refund) is allowed, whatever the reason.
- Late shipment: compensation is owed whatever is asked (the breach has
  happened); before delivery the buyer may also cancel with a refund; after
  delivery returns go through the other reasons. `case_type` stays
  `late_shipment`, and the engine trusts the reason (the sweep or the agent
  established the delay).
- Out of stock: before delivery `refund_only` (cancel; the default, so the
  paid share is refundable) and `exchange` (a substitute); waiting and a
  discount are named in the text. Signed for already: refused (a shortage in
  a delivered parcel is `missing_item`). `case_type` stays `out_of_stock`.
- `return_shipping_paid_by` is null when nothing is sent back (refund only,
  reissue for a missing item, compensation) or the request is refused.
- `refundable_amount` is non-zero only for an allowed return or refund only.
- `window_days` is the window of the rule the decision was judged on (null
  for compensation, cancellation and options that do not apply).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

from . import texts
from .request import OPTION_TYPES, Request
from .settings import PolicySettings

CENT = Decimal("0.01")
ZERO = Decimal("0.00")

QUALITY_REASONS = ("quality", "not_as_described")
COMPENSATION_REASONS = ("late_shipment", "out_of_stock")
PERISHABLE = frozenset({"food", "fresh"})


@dataclasses.dataclass(frozen=True)
class Verdict:
    """One option judged: `why` is the refusal code (None when allowed)."""

    allowed: bool
    rule: str | None = None
    window_days: int | None = None
    why: str | None = None
    detail: str = ""
    shipping: str | None = None


@dataclasses.dataclass(frozen=True)
class Decision:
    allowed: bool
    case_type: str
    options: dict[str, bool]
    window_days: int | None
    day_number: int | None
    return_shipping_paid_by: str | None
    refundable_amount: Decimal
    compensation_amount: Decimal
    approval_needed: bool
    explanation: dict[str, str]

    def as_json(self) -> dict:
        return {
            "allowed": self.allowed,
            "case_type": self.case_type,
            "options": dict(self.options),
            "window_days": self.window_days,
            "day_number": self.day_number,
            "return_shipping_paid_by": self.return_shipping_paid_by,
            "refundable_amount": _money(self.refundable_amount),
            "compensation_amount": _money(self.compensation_amount),
            "approval_needed": self.approval_needed,
            "explanation": dict(self.explanation),
        }


def _money(amount: Decimal) -> str:
    return str(amount.quantize(CENT, rounding=ROUND_HALF_UP))


def day_number(request: Request, settings: PolicySettings) -> int | None:
    """Calendar days in the shop's zone since the day the buyer signed."""
    if request.delivered is None:
        return None
    zone = ZoneInfo(settings.time_zone)
    signed = request.delivered.astimezone(zone).date()
    asked = request.requested.astimezone(zone).date()
    return (asked - signed).days


def signed_date(request: Request, settings: PolicySettings) -> dt.date | None:
    if request.delivered is None:
        return None
    return request.delivered.astimezone(ZoneInfo(settings.time_zone)).date()


def decide(request: Request, settings: PolicySettings) -> Decision:
    day = day_number(request, settings)
    verdicts = {kind: _judge(kind, request, settings, day) for kind in OPTION_TYPES}
    options = {kind: verdict.allowed for kind, verdict in verdicts.items()}
    order = _preference(request)

    if request.requested_type is not None:
        chosen = request.requested_type
    else:
        chosen = next((kind for kind in order if options[kind]), order[0])
    verdict = verdicts[chosen]

    compensation = _compensation(request, settings)
    if request.reason == "late_shipment" and request.requested_type is None:
        # The compensation is the remedy; nothing else need be allowed.
        by_rule = True
        verdict = Verdict(True, "late_shipment")
    elif request.reason == "out_of_stock" and request.delivered is not None:
        by_rule = False
        compensation = ZERO
    else:
        by_rule = verdict.allowed
    granted = by_rule or request.exception
    exceptional = granted and not by_rule

    case_type = request.reason if request.reason in COMPENSATION_REASONS else chosen
    refundable = ZERO
    if granted and chosen in ("return", "refund_only") and verdict.rule != "late_shipment":
        refundable = request.share.quantize(CENT, rounding=ROUND_HALF_UP)
    shipping = None
    if granted:
        shipping = verdict.shipping if by_rule else _exception_shipping(chosen, request)

    threshold = settings.approval_threshold
    over_threshold = threshold is not None and (refundable > threshold or compensation > threshold)
    approval_needed = exceptional or over_threshold

    explanation = texts.explain(
        request=request,
        settings=settings,
        chosen=chosen,
        verdict=verdict,
        granted=granted,
        exceptional=exceptional,
        day=day,
        signed=signed_date(request, settings),
        alternatives=[kind for kind in order if options[kind] and kind != chosen],
        refundable=refundable,
        compensation=compensation,
        shipping=shipping,
        over_threshold=over_threshold,
    )
    return Decision(
        allowed=granted,
        case_type=case_type,
        options=options,
        window_days=verdict.window_days if request.delivered is not None else None,
        day_number=day,
        return_shipping_paid_by=shipping,
        refundable_amount=refundable,
        compensation_amount=compensation,
        approval_needed=approval_needed,
        explanation=explanation,
    )


def is_quality(request: Request) -> bool:
    """A quality problem: its reason, or a defective item whatever the buyer
    chose as the reason (a defect is a fact; the shop pays for it)."""
    return request.reason in QUALITY_REASONS or (
        request.reason == "no_reason" and request.condition == "defective"
    )


def _preference(request: Request) -> tuple[str, ...]:
    reason = request.reason
    if request.delivered is None or reason in COMPENSATION_REASONS:
        return ("refund_only", "exchange", "return", "reissue", "repair")
    if is_quality(request):
        if request.flags & PERISHABLE:
            return ("refund_only", "return", "exchange", "repair", "reissue")
        return ("return", "exchange", "refund_only", "repair", "reissue")
    if reason == "no_reason":
        return ("return", "exchange", "refund_only", "repair", "reissue")
    if reason == "wrong_item":
        return ("reissue", "return", "exchange", "refund_only", "repair")
    return ("reissue", "refund_only", "return", "exchange", "repair")  # missing_item


def _judge(kind: str, request: Request, settings: PolicySettings, day: int | None) -> Verdict:
    reason = request.reason
    if request.delivered is None or day is None:
        if reason == "out_of_stock" and kind == "exchange":
            return Verdict(True, "substitute")
        if kind == "refund_only":
            return Verdict(True, "cancel")
        return Verdict(False, "cancel", why="not_delivered")
    if reason in COMPENSATION_REASONS:
        return Verdict(False, reason, why="delivered")
    if is_quality(request):
        return _quality(kind, request, settings, day)
    if reason == "no_reason":
        return _no_reason(kind, request, settings, day)
    if reason == "wrong_item":
        if kind in ("reissue", "return", "exchange"):
            return _within("wrong_item", settings.wrong_item_days, day, "shop")
        return Verdict(False, "wrong_item", why="not_applicable")
    if kind in ("reissue", "refund_only"):  # missing_item
        return _within("missing_item", settings.wrong_item_days, day, None)
    return Verdict(False, "missing_item", why="not_applicable")


def _within(rule: str, window: int, day: int, shipping: str | None) -> Verdict:
    if day > window:
        return Verdict(False, rule, window, "outside_window")
    return Verdict(True, rule, window, shipping=shipping)


def _no_reason(kind: str, request: Request, settings: PolicySettings, day: int) -> Verdict:
    if kind not in ("return", "exchange") or (
        kind == "exchange" and not settings.no_reason_exchange
    ):
        return Verdict(False, "no_reason", why="not_applicable")
    rule, window = f"no_reason_{kind}", settings.no_reason_days
    if request.category and request.category in settings.no_reason_excluded_categories:
        return Verdict(False, rule, window, "excluded_category", request.category)
    for flag in settings.no_reason_excluded_flags:
        if flag in request.flags:
            return Verdict(False, rule, window, "excluded_flag", flag)
    if request.condition in ("used", "defective"):
        return Verdict(False, rule, window, "not_intact", request.condition)
    if request.condition == "opened":
        for flag in settings.unopened_only_flags:
            if flag in request.flags:
                return Verdict(False, rule, window, "opened", flag)
    return _within(rule, window, day, "buyer")


def _quality(kind: str, request: Request, settings: PolicySettings, day: int) -> Verdict:
    if kind in ("return", "refund_only"):
        shipping = "shop" if kind == "return" else None
        return _within(f"quality_{kind}", settings.quality_return_days, day, shipping)
    if kind in ("exchange", "repair"):
        # Perishables are refunded, never exchanged (the replacement may be
        # from the same batch) or repaired.
        for flag in settings.unrepairable_flags:
            if flag in request.flags:
                if kind == "exchange":
                    rule, window = "quality_exchange", settings.quality_exchange_days
                else:
                    rule, window = "warranty", settings.warranty_days
                return Verdict(False, rule, window, "unrepairable", flag)
    if kind == "exchange":
        return _within("quality_exchange", settings.quality_exchange_days, day, "shop")
    if kind == "repair":
        return _within("warranty", settings.warranty_days, day, "shop")
    return Verdict(False, "quality", why="not_applicable")


def _exception_shipping(kind: str, request: Request) -> str | None:
    if kind not in ("return", "exchange", "repair") or request.delivered is None:
        return None
    return "buyer" if request.reason == "no_reason" else "shop"


def _compensation(request: Request, settings: PolicySettings) -> Decimal:
    if request.reason == "late_shipment":
        percent, cap = settings.late_shipment_percent, settings.late_shipment_cap
    elif request.reason == "out_of_stock":
        percent, cap = settings.out_of_stock_percent, settings.out_of_stock_cap
    else:
        return ZERO
    return percent_of(request.share, percent, cap)


def percent_of(amount: Decimal, percent: Decimal, cap: Decimal | None) -> Decimal:
    """`percent` of `amount`, rounded half-up to 0.01, at most `cap` (the
    compensation rule for late shipment and out of stock)."""
    value = (amount * percent / 100).quantize(CENT, rounding=ROUND_HALF_UP)
    if cap is not None:
        value = min(value, cap.quantize(CENT, rounding=ROUND_HALF_UP))
    return value
