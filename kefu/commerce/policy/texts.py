"""The decision as a text an agent can send to the buyer, in zh-hans and en at
once (explicit templates, not gettext: both languages go into every decision)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .engine import Verdict
    from .request import Request
    from .settings import PolicySettings

ZH = "zh-hans"
EN = "en"

TYPE_NAMES = {
    "return": ("退货退款", "a return with a refund"),
    "exchange": ("换货", "an exchange"),
    "refund_only": ("仅退款", "a refund without return"),
    "repair": ("维修", "a repair"),
    "reissue": ("补发", "a reissue"),
}
SHORT_TYPE_NAMES = {
    "return": ("退货退款", "return"),
    "exchange": ("换货", "exchange"),
    "refund_only": ("仅退款", "refund only"),
    "repair": ("维修", "repair"),
    "reissue": ("补发", "reissue"),
}
REASON_NAMES = {
    "no_reason": ("无理由", "no reason"),
    "quality": ("质量问题", "a quality problem"),
    "wrong_item": ("发错货", "a wrong item"),
    "missing_item": ("漏发", "a missing item"),
    "not_as_described": ("描述不符", "an item not as described"),
    "late_shipment": ("延迟发货", "late shipment"),
    "out_of_stock": ("缺货", "out of stock"),
}
FLAG_NAMES = {
    "food": ("食品", "food"),
    "custom_made": ("定制", "custom-made"),
    "hygiene": ("贴身卫生用品", "hygiene"),
    "digital": ("数码/虚拟", "digital"),
    "fresh": ("生鲜", "fresh"),
}
CONDITION_NAMES = {
    "used": ("已使用", "used"),
    "defective": ("已损坏", "damaged"),
}


def _rule_name(rule: str | None, window: int | None, settings: PolicySettings) -> tuple[str, str]:
    d = window
    names = {
        "no_reason_return": (f"{d}天无理由退货", f"{d}-day no-reason return"),
        "no_reason_exchange": (f"{d}天无理由换货", f"{d}-day no-reason exchange"),
        "quality_return": (f"质量问题{d}天内退货", f"{d}-day quality return"),
        "quality_refund_only": (f"质量问题{d}天内退款", f"{d}-day quality refund"),
        "quality_exchange": (f"质量问题{d}天内换货", f"{d}-day quality exchange"),
        "warranty": (f"{d}天保修", f"{d}-day warranty"),
        "wrong_item": (f"发错货{d}天内补发或退换", f"{d}-day wrong-item"),
        "missing_item": (f"漏发{d}天内补发或退款", f"{d}-day missing-item"),
        "late_shipment": ("延迟发货赔付", "late-shipment compensation"),
        "out_of_stock": ("缺货赔付", "out-of-stock compensation"),
        "cancel": ("未签收可取消", "cancel-before-delivery"),
        "substitute": ("缺货换购", "out-of-stock substitute"),
        "no_reason": ("无理由退换", "no-reason"),
        "quality": ("质量问题", "quality"),
    }
    return names.get(rule or "", ("售后", "after-sales"))


def _day_text(day: int | None, signed: dt.date | None) -> tuple[str, str]:
    if day is None or signed is None:
        return "商品尚未签收", "The goods have not been signed for yet"
    if day == 0:
        return (f"今天是签收当天（{signed}签收）", f"Today is the day of signing ({signed})")
    return (
        f"今天是签收后第{day}天（{signed}签收）",
        f"Today is day {day} after signing (signed {signed})",
    )


def _why(verdict: Verdict, kind: str, request: Request, signed: dt.date | None) -> tuple[str, str]:
    why, detail = verdict.why, verdict.detail
    if why == "outside_window" and signed is not None and verdict.window_days is not None:
        last = signed + dt.timedelta(days=verdict.window_days)
        return (
            f"已超过{verdict.window_days}天期限，最后一天是{last}",
            f"the {verdict.window_days}-day window ended on {last}",
        )
    if why == "excluded_flag":
        zh, en = FLAG_NAMES[detail]
        return (
            f"{zh}类商品不支持无理由退换（质量问题仍可申请售后）",
            f"{en} items cannot be returned without a reason (quality problems are still covered)",
        )
    if why == "excluded_category":
        return (
            f"“{detail}”类目不支持无理由退换",
            f"the category “{detail}” cannot be returned without a reason",
        )
    if why == "opened":
        zh, en = FLAG_NAMES[detail]
        return (
            f"{zh}类商品拆封后不支持无理由退换",
            f"{en} items cannot be returned without a reason once opened",
        )
    if why == "not_intact":
        zh, en = CONDITION_NAMES[detail]
        if detail == "defective":
            return (
                f"无理由退换要求商品完好，该商品{zh}（如属质量问题，可按质量问题申请）",
                f"a no-reason return needs the item intact, and it is {en} "
                "(a quality problem can be reported as such)",
            )
        return (
            f"无理由退换要求商品完好，该商品{zh}",
            f"a no-reason return needs the item intact, and it is {en}",
        )
    if why == "unrepairable":
        zh, en = FLAG_NAMES[detail]
        return (
            f"{zh}类商品有质量问题时退款，不提供换货或维修",
            f"{en} items with a quality problem are refunded, not exchanged or repaired",
        )
    if why == "not_delivered":
        return "商品尚未签收", "the goods have not been signed for yet"
    if why == "delivered":
        return "商品已签收", "the goods have already been signed for"
    zh, en = REASON_NAMES[request.reason]
    kind_zh, kind_en = SHORT_TYPE_NAMES[kind]
    return f"{zh}不适用{kind_zh}", f"{kind_en} does not apply to {en}"


def _yuan(amount: Decimal | None) -> str:
    return "¥" + str(amount)


def explain(
    *,
    request: Request,
    settings: PolicySettings,
    chosen: str,
    verdict: Verdict,
    granted: bool,
    exceptional: bool,
    day: int | None,
    signed: dt.date | None,
    alternatives: list[str],
    refundable: Decimal,
    compensation: Decimal,
    shipping: str | None,
    over_threshold: bool,
) -> dict[str, str]:
    zh: list[str] = []
    en: list[str] = []
    day_zh, day_en = _day_text(day, signed)
    kind_zh, kind_en = TYPE_NAMES[chosen]
    reason = request.reason

    if reason in ("late_shipment", "out_of_stock"):
        rule_zh, rule_en = _rule_name(reason, None, settings)
        percent, cap = (
            (settings.late_shipment_percent, settings.late_shipment_cap)
            if reason == "late_shipment"
            else (settings.out_of_stock_percent, settings.out_of_stock_cap)
        )
        if compensation > 0 or (reason == "late_shipment" or request.delivered is None):
            cap_zh = f"，最高{_yuan(cap)}" if cap is not None else ""
            cap_en = f", at most {_yuan(cap)}" if cap is not None else ""
            zh.append(
                f"{day_zh}。按{rule_zh}规则，我们向您支付{_yuan(compensation)}"
                f"（实付金额的{_percent(percent)}%{cap_zh}）。"
            )
            en.append(
                f"{day_en}. Under the {rule_en} rule we pay you {_yuan(compensation)} "
                f"({_percent(percent)}% of the amount paid{cap_en})."
            )
        if reason == "out_of_stock":
            if request.delivered is not None:
                zh.append(f"{day_zh}。商品已签收，缺货赔付不适用；如有少件请按漏发处理。")
                en.append(
                    f"{day_en}. The goods have been signed for, so out-of-stock compensation "
                    "does not apply; report any missing units as a missing item."
                )
            else:
                zh.append(
                    "您可以选择：换购其他规格或替代商品、等待补货、接受优惠，或取消订单并退款。"
                )
                en.append(
                    "You may choose a substitute, wait for restock, take a discount, "
                    "or cancel with a refund."
                )
        elif request.delivered is None:
            zh.append("您也可以取消订单并退款。")
            en.append("You may also cancel the order for a refund.")
        if request.requested_type is not None:
            _outcome(zh, en, verdict, chosen, request, signed, granted, exceptional, settings)
    else:
        _outcome(
            zh,
            en,
            verdict,
            chosen,
            request,
            signed,
            granted,
            exceptional,
            settings,
            day_text=(day_zh, day_en),
        )
        if not granted and alternatives:
            zh.append("可以选择：" + "、".join(SHORT_TYPE_NAMES[k][0] for k in alternatives) + "。")
            en.append(
                "Possible instead: " + ", ".join(SHORT_TYPE_NAMES[k][1] for k in alternatives) + "."
            )
        if granted and request.delivered is None:
            zh.append("签收后才开始计算退换货期限。")
            en.append("The return window starts only after the goods are signed for.")

    if granted:
        if shipping == "buyer":
            zh.append("寄回运费由您承担。")
            en.append("You pay the shipping to send it back.")
        elif shipping == "shop":
            zh.append("寄回运费由商家承担。")
            en.append("The shop pays the shipping to send it back.")
        if chosen == "return" and request.reason == "no_reason":
            zh.append("请保持商品完好、包装和配件齐全。")
            en.append("Please keep the item intact with all packaging and accessories.")
        if refundable > 0:
            partial = request.return_quantity != request.quantity
            units = f"（{request.return_quantity}/{request.quantity}件）" if partial else ""
            units_en = (
                f" ({request.return_quantity} of {request.quantity} units)" if partial else ""
            )
            zh.append(f"可退金额{_yuan(refundable)}{units}。")
            en.append(f"Refundable: {_yuan(refundable)}{units_en}.")
    if over_threshold and settings.approval_threshold is not None:
        zh.append(f"金额超过{_yuan(settings.approval_threshold)}，需主管审批后执行。")
        en.append(
            f"The amount is above {_yuan(settings.approval_threshold)}, "
            "so a supervisor must approve it first."
        )
    return {ZH: "".join(zh), EN: " ".join(en)}


def _outcome(
    zh: list[str],
    en: list[str],
    verdict: Verdict,
    chosen: str,
    request: Request,
    signed: dt.date | None,
    granted: bool,
    exceptional: bool,
    settings: PolicySettings,
    day_text: tuple[str, str] | None = None,
) -> None:
    kind_zh, kind_en = TYPE_NAMES[chosen]
    rule_zh, rule_en = _rule_name(verdict.rule, verdict.window_days, settings)
    lead_zh = f"{day_text[0]}。" if day_text else ""
    lead_en = f"{day_text[1]}. " if day_text else ""
    if verdict.allowed:
        window = ""
        window_en = ""
        if signed is not None and verdict.window_days is not None:
            last = signed + dt.timedelta(days=verdict.window_days)
            window = f"（最后一天是{last}，即第{verdict.window_days}天）"
            window_en = f" (the last day is {last}, day {verdict.window_days})"
        zh.append(f"{lead_zh}符合{rule_zh}规则{window}，可以为您办理{kind_zh}。")
        en.append(f"{lead_en}Under the {rule_en} rule{window_en}, {kind_en} is possible.")
        return
    why_zh, why_en = _why(verdict, chosen, request, signed)
    zh.append(f"{lead_zh}按{rule_zh}规则，{why_zh}，不能办理{kind_zh}。")
    en.append(f"{lead_en}Under the {rule_en} rule, {kind_en} is not possible: {why_en}.")
    if exceptional:
        zh.append("本次作为例外处理，需主管审批。")
        en.append("It is granted as an exception and needs a supervisor's approval.")


def _percent(value: Decimal) -> str:
    return format(value.normalize(), "f")
