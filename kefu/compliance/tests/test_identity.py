"""The order identity rule: only the marketplace account that placed an order
sees or changes it; everyone else gets the standard answer."""

from __future__ import annotations

import pytest

from kefu.compliance.identity import (
    STANDARD_ANSWER,
    BuyerIdentity,
    IdentityDecision,
    OrderIdentityRefused,
    Reason,
    check_order_identity,
    require_order_identity,
)
from kefu.core.errors import PermissionDenied

BUYER = (1, "marketplace", "tb_xiaomei")


@pytest.mark.parametrize(
    ("requester", "message", "allowed", "reason"),
    [
        ((1, "marketplace", "tb_xiaomei"), "", True, Reason.SAME_ACCOUNT),
        ((1, "marketplace", "  tb_xiaomei "), "", True, Reason.SAME_ACCOUNT),
        # Marketplace account names are compared exactly.
        ((1, "marketplace", "TB_XIAOMEI"), "", False, Reason.OTHER_ACCOUNT),
        ((1, "marketplace", "tb_xiaomei2"), "", False, Reason.OTHER_ACCOUNT),
        (
            (1, "marketplace", "tb_dagang"),
            "我们是同一个人，我用小号问一下",
            False,
            "claims_same_person",
        ),
        ((1, "marketplace", "tb_dagang"), "这是我的另一个账号", False, "claims_same_person"),
        (
            (1, "marketplace", "tb_dagang"),
            "I'm the same person, my other account",
            False,
            "claims_same_person",
        ),
        ((1, "marketplace", "tb_mom"), "这单是我帮她代付的", False, "pays_on_behalf"),
        ((1, "marketplace", "tb_mom"), "I am paying for my daughter", False, "pays_on_behalf"),
        # Another channel than the buyer's marketplace account.
        ((1, "visitor", "tb_xiaomei"), "", False, Reason.NOT_MARKETPLACE_ACCOUNT),
        ((1, "phone", "13812345678"), "", False, Reason.NOT_MARKETPLACE_ACCOUNT),
        ((1, "email", "xiaomei@example.com"), "", False, Reason.NOT_MARKETPLACE_ACCOUNT),
        ((1, "phone", "13812345678"), "我就是下单的人", False, Reason.NOT_MARKETPLACE_ACCOUNT),
        # Same account name in another shop.
        ((2, "marketplace", "tb_xiaomei"), "", False, Reason.OTHER_SHOP),
        # Nothing to compare.
        (None, "", False, Reason.NO_IDENTITY),
        ((1, "marketplace", "   "), "", False, Reason.NO_IDENTITY),
    ],
)
def test_order_identity_table(requester, message, allowed, reason):
    decision = check_order_identity(requester, BUYER, message=message)
    assert (decision.allowed, decision.reason_code) == (allowed, reason)
    assert decision.answer == ({} if allowed else STANDARD_ANSWER)


def test_buyer_must_be_a_marketplace_account():
    buyer = (1, "visitor", "v-123")
    decision = check_order_identity((1, "visitor", "v-123"), buyer)
    assert (decision.allowed, decision.reason_code) == (False, "buyer_not_marketplace_account")
    assert check_order_identity(BUYER, None).reason_code == Reason.NO_IDENTITY


def test_identities_may_be_objects_with_the_same_attributes():
    class Identity:
        shop_id, kind, value = 1, "marketplace", "tb_xiaomei"

    assert check_order_identity(Identity(), BuyerIdentity(*BUYER)).allowed is True


def test_standard_answer_in_both_languages():
    decision = check_order_identity((1, "phone", "13812345678"), BUYER)
    assert decision.answer_in("zh-hans") == (
        "亲，为了保护您的信息安全，请用拍下订单并付款的账号联系我们，我们马上为您处理。"
    )
    assert decision.answer_in("en").startswith("To keep your information safe")
    assert decision.answer_in("en-us") == decision.answer["en"]


def test_require_raises_permission_denied_with_the_answer():
    assert require_order_identity(BUYER, BUYER) == IdentityDecision(True, Reason.SAME_ACCOUNT)
    with pytest.raises(PermissionDenied) as refused:
        require_order_identity(
            (1, "marketplace", "tb_dagang"), BUYER, message="代付", language="en"
        )
    error = refused.value
    assert isinstance(error, OrderIdentityRefused)
    assert (error.status, error.code) == (403, "order_identity")
    assert error.message == STANDARD_ANSWER["en"]
    assert error.payload == {"reason": "pays_on_behalf", "answer": STANDARD_ANSWER}
