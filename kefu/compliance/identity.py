"""The order identity rule of the Taobao course: an order's details (address,
phone, items) are shown to, and changed for, only the buyer account that
placed it. Another account "of the same person", someone paying on the
buyer's behalf (代付), a web visitor, a phone number or an email address all
get the same polite answer: contact us from the account that placed the order.

Pure functions; the orders code calls `require_order_identity` in every
function that reads or changes an order.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from kefu.core.errors import PermissionDenied

MARKETPLACE = "marketplace"

STANDARD_ANSWER = {
    "zh-hans": "亲，为了保护您的信息安全，请用拍下订单并付款的账号联系我们，我们马上为您处理。",
    "en": (
        "To keep your information safe, please contact us from the account that placed "
        "and paid for the order, and we will take care of it right away."
    ),
}


class Reason:
    """Why a request was allowed or refused (stable codes for logs and tests)."""

    SAME_ACCOUNT = "same_account"
    NO_IDENTITY = "no_identity"
    OTHER_SHOP = "other_shop"
    NOT_MARKETPLACE_ACCOUNT = "not_marketplace_account"
    BUYER_NOT_MARKETPLACE_ACCOUNT = "buyer_not_marketplace_account"
    OTHER_ACCOUNT = "other_account"
    # Refinements of OTHER_ACCOUNT / NOT_MARKETPLACE_ACCOUNT when the
    # requester's message says why they think they may ask.
    CLAIMS_SAME_PERSON = "claims_same_person"
    PAYS_ON_BEHALF = "pays_on_behalf"


@dataclass(frozen=True, slots=True)
class BuyerIdentity:
    """Who someone is on one shop's channel, like `customers.CustomerIdentity`."""

    shop_id: int
    kind: str
    value: str


@dataclass(frozen=True, slots=True)
class IdentityDecision:
    allowed: bool
    reason_code: str
    answer: dict[str, str] = field(default_factory=dict)

    def answer_in(self, language: str) -> str:
        return self.answer.get("en" if language.startswith("en") else "zh-hans", "")


_PAYS_ON_BEHALF = re.compile(
    r"代付|代拍|帮(?:他|她|朋友|家人|别人)?付|替.{0,4}付|pay(?:ing|s)? (?:for|on behalf)", re.I
)
_SAME_PERSON = re.compile(
    r"同一个?人|都是我|也是我|我的(?:另一个|另外一个|其他|别的)(?:账号|号)|我的(?:小号|大号)"
    r"|(?:换|用)了?(?:个|一个)?(?:账号|号)"
    r"|another account|other account|same person|my (?:other|second) account",
    re.I,
)


def as_identity(value) -> BuyerIdentity | None:
    """A `BuyerIdentity` from one, from a (shop_id, kind, value) tuple or from
    anything with those attributes (a `CustomerIdentity`); None stays None."""
    if value is None or isinstance(value, BuyerIdentity):
        return value
    if isinstance(value, tuple | list):
        shop_id, kind, text = value
    else:
        shop_id, kind, text = value.shop_id, value.kind, value.value
    return BuyerIdentity(int(shop_id), str(kind), str(text))


def claim_in(message: str) -> str | None:
    """What a refused requester claims, when their message says so."""
    if not message:
        return None
    if _PAYS_ON_BEHALF.search(message):
        return Reason.PAYS_ON_BEHALF
    if _SAME_PERSON.search(message):
        return Reason.CLAIMS_SAME_PERSON
    return None


def _refused(reason_code: str, message: str) -> IdentityDecision:
    return IdentityDecision(False, claim_in(message) or reason_code, dict(STANDARD_ANSWER))


def check_order_identity(requester, buyer, *, message: str = "") -> IdentityDecision:
    """Allowed only when the requester is the very marketplace account of the
    same shop that placed the order (values compared exactly, after trimming
    spaces). `message`, the requester's words, only refines the reason code."""
    requester, buyer = as_identity(requester), as_identity(buyer)
    if requester is None or buyer is None:
        return _refused(Reason.NO_IDENTITY, message)
    requester_value, buyer_value = requester.value.strip(), buyer.value.strip()
    if not requester_value or not buyer_value:
        return _refused(Reason.NO_IDENTITY, message)
    if requester.shop_id != buyer.shop_id:
        return _refused(Reason.OTHER_SHOP, message)
    if buyer.kind != MARKETPLACE:
        return _refused(Reason.BUYER_NOT_MARKETPLACE_ACCOUNT, message)
    if requester.kind != MARKETPLACE:
        return _refused(Reason.NOT_MARKETPLACE_ACCOUNT, message)
    if requester_value != buyer_value:
        return _refused(Reason.OTHER_ACCOUNT, message)
    return IdentityDecision(True, Reason.SAME_ACCOUNT)


class OrderIdentityRefused(PermissionDenied):
    code = "order_identity"

    def __init__(self, decision: IdentityDecision, language: str) -> None:
        super().__init__(decision.answer_in(language))
        self.decision = decision
        # The API's error body carries both languages and the reason.
        self.payload = {"reason": decision.reason_code, "answer": decision.answer}


def require_order_identity(
    requester, buyer, *, message: str = "", language: str = "zh-hans"
) -> IdentityDecision:
    """`check_order_identity`, raising `PermissionDenied` (code
    "order_identity", the standard answer as its message) when refused."""
    decision = check_order_identity(requester, buyer, message=message)
    if not decision.allowed:
        raise OrderIdentityRefused(decision, language)
    return decision
