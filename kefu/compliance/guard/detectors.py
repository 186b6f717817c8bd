"""Detectors: what a phrase list cannot express. Each runs only when one of
its triggers (phrases in the shared automaton, expressions in the shared RE2
set) was seen, and reads the folded text (lower case, simplified Chinese,
half-width) — spans are the same in the original.

`needs_facts` detectors judge against the conversation's context (the order,
the agent's authority, the shop's shipping settings); without it they report
on the defaults and never block (engine caps them at `warn`)."""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

import re2

from .context import GuardContext
from .normalize import clause_after, clause_before


@dataclass(frozen=True, slots=True)
class Hit:
    start: int
    end: int
    suggestion: str | None = None
    # False when judged on defaults rather than the conversation's facts:
    # such a finding never blocks.
    certain: bool = True


@dataclass(frozen=True)
class Detector:
    name: str
    run: Callable[[str, str, GuardContext], list[Hit]]
    triggers: tuple[str, ...] = ()
    trigger_patterns: tuple[str, ...] = ()
    needs_facts: bool = False


_REGISTRY: dict[str, Detector] = {}


def register(detector: Detector) -> None:
    _REGISTRY[detector.name] = detector


def get(name: str) -> Detector | None:
    return _REGISTRY.get(name)


def names() -> list[str]:
    return sorted(_REGISTRY)


# --- numbers -----------------------------------------------------------------

_CN_DIGITS = {"零": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7}
_CN_DIGITS |= {"八": 8, "九": 9}
NUM = r"\d+(?:\.\d+)?|[一二两三四五六七八九十半]+"


def number(token: str) -> float | None:
    """'12', '1.5', '十五', '二十', '两', '半' → value; None if unreadable."""
    try:
        return float(token)
    except ValueError:
        pass
    if token == "半":
        return 0.5
    if "十" in token:
        tens, _, ones = token.partition("十")
        value = (_CN_DIGITS.get(tens, 0) if tens else 1) * 10
        if ones:
            if ones not in _CN_DIGITS:
                return None
            value += _CN_DIGITS[ones]
        return float(value)
    if len(token) == 1 and token in _CN_DIGITS:
        return float(_CN_DIGITS[token])
    return None


def _negated(norm: str, start: int) -> bool:
    before = norm[max(0, start - 4) : start]
    return any(
        word in before for word in ("不", "没", "无需", "无须", "无法", "not ", "no ", "never ")
    )


_NEGATORS = ("不会", "不用", "无需", "无须", "不需要", "不必", "免", "不收", "不加", "没有")
_NEGATORS_EN = ("won't", "will not", "don't", "do not", "never", "no extra", "not charge")


def _clause_negated(norm: str, start: int) -> bool:
    before = clause_before(norm, start, 16)
    return any(word in before for word in _NEGATORS + _NEGATORS_EN)


# --- privacy -----------------------------------------------------------------


# The sender's own number ("打我电话 139…", "call me on my cell, 138…",
# "WhatsApp: +86 139…") is not buyer data: steering the buyer to it is
# off_platform's finding. A buyer word after the sender's ("加我微信，您的手机号
# 139…") makes it the buyer's again. find_pii and mask_text still find and
# mask every number (what staff see); only the guard's privacy finding skips it.
_OWN_BEFORE = re.compile(
    r"(?:打|加|找|联系|转|转给|打给|汇给|呼|call|q|v|私)\s*我"
    r"|我\s*(?:的)?\s*(?:私人|个人|本人|工作)?\s*(?:的)?\s*"
    r"(?:手机|电话|号码|号|座机|微信|v信|vx|qq|支付宝|卡号|whatsapp)"
    r"|本人\s*(?:的)?\s*(?:手机|电话|号码)|(?:打|拨|拨打)\s*这个\s*(?:电话|号码|号|手机)"
    r"|(?:微信|[威薇徽维唯蔚][信芯]|v信|vx|wx|qq|扣扣|支付宝|钉钉|wechat|whatsapp|telegram"
    r"|signal|viber|line|alipay)\s*(?:号|id|号码|账号|number|no\.?)?\s*(?:是|为|:|：|at\b)"
    r"|\b(?:call|text|message|reach|contact|ping|whatsapp|add|find)\s+(?:me|us)\b"
    r"|\b(?:my|our)\s+(?:own\s+)?(?:personal\s+|private\s+|work\s+)?"
    r"(?:cell|number|phone|mobile|whatsapp|wechat|line|telegram|contact)\b",
)
_OWN_AFTER = re.compile(r"^\s*[，,]?\s*(?:找我|联系我|加我|打给我|微信同号|同号|是我的|is my)")
_BUYER = re.compile(
    r"您|你的|买家|收件人|收货人|客户|顾客|订单|\b(?:your|buyer|recipient|consignee|customer|order)\b"
)
_OWN_WINDOW = 24
_SENTENCE_STOP = re.compile(r"[。！？!?\n]|\.\s")


def sender_contact(norm: str, start: int, end: int) -> bool:
    """Whether the number at norm[start:end] is given as the sender's own."""
    low = max(0, start - _OWN_WINDOW)
    for stop in _SENTENCE_STOP.finditer(norm, low, start):
        low = stop.end()
    before = norm[low:start]
    last = None
    for match in _OWN_BEFORE.finditer(before):
        last = match
    if last is not None:
        return _BUYER.search(before, last.end()) is None
    return _OWN_AFTER.search(norm[end : end + 8]) is not None


def _pii(kind: str) -> Callable[[str, str, GuardContext], list[Hit]]:
    def run(text: str, norm: str, context: GuardContext) -> list[Hit]:
        from kefu.compliance import privacy

        return [
            Hit(p.start, p.end, privacy.mask(text[p.start : p.end], p.kind))
            for p in privacy.find_pii(text)
            if p.kind == kind
            and not (kind == privacy.PHONE and sender_contact(norm, p.start, p.end))
        ]

    return run


def _privacy_triggers(kind: str) -> tuple[str, ...]:
    """privacy.find_pii's prefilters; case-insensitive, as the guard matches
    on lower-cased text (find_pii itself reads the original)."""
    from kefu.compliance.privacy import TRIGGERS

    return tuple(f"(?i:{pattern})" for pattern in TRIGGERS[kind])


register(Detector("privacy_phone", _pii("phone"), trigger_patterns=_privacy_triggers("phone")))
register(Detector("privacy_id", _pii("id_number"), trigger_patterns=_privacy_triggers("id_number")))
register(
    Detector("privacy_address", _pii("address"), trigger_patterns=_privacy_triggers("address"))
)


class _Present:
    """Which of a detector's expressions can match a text: one RE2 set pass
    (linear, in C++) instead of running every Python expression over every
    text the detector's gate let in. Only the ones it names run in Python;
    one RE2 cannot read (a lookaround) is always named."""

    def __init__(self, *patterns: re.Pattern[str]) -> None:
        self._patterns = patterns
        self._compiled: tuple[Any, list[re.Pattern[str]], set[re.Pattern[str]]] | None = None

    def _compile(self) -> tuple[Any, list[re.Pattern[str]], set[re.Pattern[str]]]:
        options = re2.Options()
        options.log_errors = False
        compiled = re2.Set.SearchSet(options)
        added: list[re.Pattern[str]] = []
        always: set[re.Pattern[str]] = set()
        for pattern in self._patterns:
            try:
                compiled.Add(pattern.pattern)
            except re2.error:
                always.add(pattern)
            else:
                added.append(pattern)
        compiled.Compile()
        return compiled, added, always

    def __call__(self, norm: str) -> set[re.Pattern[str]]:
        if self._compiled is None:
            self._compiled = self._compile()
        compiled, added, always = self._compiled
        return always | {added[i] for i in compiled.Match(norm) or ()}


# --- invoices ----------------------------------------------------------------

_INVOICE_REFUSAL = re.compile(
    r"(?:不|没法|无法|不能|没办法|不给|不提供)\s*(?:给您|帮您|为您)?\s*(?:开|开具|提供|出)\s*"
    r"(?:发票|票)"
    r"|(?:发票|开票)\s*(?:需要|要|得)?\s*(?:另外|额外|另)?\s*(?:加收|加|收|补|交|付)\s*"
    r"\d*(?:\.\d+)?\s*(?:个点|%|税点|点税|税费|税|的税)"
    r"|(?:发票|开票)\s*(?:另收费|另外收费|要加钱|需要加钱|另付费)"
    r"|no invoices?\b|(?:invoice|receipt) costs? extra"
)
# General invoice grammar (round 8): charging for the invoice, another item or
# service written in, another buyer, several invoices for one order, refusals.
# Each expression runs only when its rare literal is in the message.
_INVOICE_MORE = re.compile(
    r"\d+(?:\.\d+)?\s*(?:块钱|元|块)\s*(?:的)?\s*开票费"
    r"|(?:发票|开票)[^。！？；不无免没]{0,8}?(?:加收|另收|多收|要加|得加|加|补|交)\s*(?:税费|税点|点税)"
)
_INVOICE_MORE_EN = re.compile(
    r"\binvoices?\b[^.!?]{0,40}?\b(?:pay|charge|add|cost)s?\s+(?:you\s+)?(?:an?\s+)?"
    r"(?:extra|additional)\s+(?:\d+(?:\.\d+)?\s*(?:%|percent|yuan|rmb)|tax)"
    r"|\b(?:don't|do not|does not|doesn't|can't|cannot|won't|will not)"
    r"\s+(?:issue|provide|give|offer)"
    r"\s+(?:an?\s+|any\s+)?(?:invoices?|fapiaos?)\b"
)
_INVOICE_MORE3 = re.compile(
    r"\bsplit\b[^.!?]{0,40}?\b(?:several|multiple|smaller|\d+|two|three|four|five|six|seven"
    r"|eight|nine|ten)\s+(?:separate\s+)?(?:invoices|fapiaos|receipts)\b"
)
_INVOICE_MORE2 = re.compile(
    r"(?:分成|拆成|分开成|分)\s*(?:\d+|[两二三四五六七八九十几多])\s*张\s*(?:发票|票|开)"
    r"|(?:开到|开给|开在|写到|挂到|落到|开成)[^。！？，,]{0,8}?(?:朋友|别人|亲戚|其他人|别家|另一家|第三方)"
    r"[^。！？，,]{0,4}?(?:公司|单位|名下)"
)
_INVOICE_AS = re.compile(
    r"按\s*[“\"「]?([一-鿿]{1,5}费)\s*[”\"」]?\s*(?:给您|帮您|来|的名目)?\s*开"
)
_INVOICE_MORE_GATES = (
    (_INVOICE_MORE, ("开票费", "税费", "税点", "点税")),
    (_INVOICE_MORE_EN, ("invoice", "fapiao")),
    (_INVOICE_MORE2, ("张", "名下", "公司", "单位")),
    (_INVOICE_MORE3, ("split",)),
    (_INVOICE_AS, ("费",)),
)
_SHIPPING_FEES = {"运费", "邮费", "快递费", "开票费", "税费"}
_INVOICE_AMOUNT = re.compile(
    r"(?:开|开具|开成|写成|写|改成)\s*(?:一张)?\s*(\d+(?:\.\d+)?)\s*(?:元|块)?\s*(?:的)?\s*(?:发票|票)"
    r"|(?:发票|票面)\s*(?:金额)?\s*(?:可以|能)?\s*(?:开|写|改|开成|写成|改成)\s*(\d+(?:\.\d+)?)"
    r"|invoice (?:for|of) (?:¥|rmb|\$)?\s*(\d+(?:\.\d+)?)"
)
_INVOICE_TYPE = re.compile(
    r"(?:开|开成|写成|改成|换成|开具|开个|开张)\s*([一-鿿]{2,6}?)\s*(?:类|类的)?\s*(?:的)?\s*"
    r"发票"
    r"|发票[^，。！？；,.!?]{0,8}?(?:随便|任意|自己)\s*(?:写|填|开|选|定)"
    r"|发票\s*(?:内容|类目|品名|项目)\s*(?:可以|能|都能)?\s*(?:改成|写成|换成)"
    r"|(?:write|put|list|mark|state|show|call it)\s+[^.!?]{1,30}?\s+on\s+the\s+(?:invoice|receipt)"
    r"\s+(?:instead|rather)"
    r"|(?:invoice|bill)\s+(?:it\s+)?as\s+[^.!?]{1,30}?\s+instead"
    # "发票我们写成“劳保用品”": the invoice first, then what it will say.
    r"|(?:发票|票面|开票)\s*(?:上|内容|品名|项目|类目)?\s*(?:我们|我这边|这边|可以|能|都)?\s*(?:可以|能|帮您|给您|都)?"
    r"\s*(?:写成|开成|改成|换成|写为|开为|填成)\s*[\"“「『'‘]?\s*([一-鿿]{2,8})"
)
# "化妆品可以开文具发票": the goods, then another kind of goods on the invoice.
_INVOICE_OTHER_GOODS = re.compile(
    r"([一-鿿]{2,4})\s*(?:可以|能|也能|都可以)\s*开\s*([一-鿿]{2,4}?)\s*(?:类|类的)?(?:的)?发票"
)
# Its cheap precondition: "可以开…发票" somewhere (the full expression, which
# opens with any Chinese character, is slow to search).
_OTHER_GOODS_GATE = re.compile(r"(?:可以|能)\s*开\s*[一-鿿]{2,4}?\s*(?:类|类的)?(?:的)?发票")
_TYPE_STOPWORDS = {"一张", "增值税", "普通", "专用", "电子", "纸质", "正规", "普票", "专票"}
_TYPE_STOPWORDS |= {"增值税普通"}
# What an invoice may lawfully be made out to or as: not another kind of goods.
_NOT_GOODS = re.compile(
    r"发票|抬头|公司|个人|单位|税号|电子|纸质|增值税|普票|专票|普通|专用"
    r"|名称|名字|姓名|实际"
)
_INFLATE = re.compile(
    r"多开|开高|开大|虚开|金额(?:可以|能)?(?:改|调|多写)|按\s*\d+\s*(?:元|块)?\s*开"
    r"|比(?:实际|实付)(?:金额|价格|价钱)?(?:高|多|大)"
    r"|按\s*(?:原价|标价|吊牌价|划线价|市场价|零售价)\s*(?:来|给您|帮您)?\s*开|不按(?:照)?实付"
    r"|多报(?:销|一点|点|些)"
)


_PAID = re.compile(
    r"(?:实付|实际支付|实际付款|实收|付款金额|支付金额|订单金额)[^。！？；]{0,8}?(\d+(?:\.\d+)?)"
)


def _paid_amount(norm: str, inflate: str) -> bool:
    """ "按356元开" where the message says 356 is what was paid: the true amount."""
    amount = re.search(r"\d+(?:\.\d+)?", inflate)
    return amount is not None and any(m.group(1) == amount.group() for m in _PAID.finditer(norm))


def _invoice(text: str, norm: str, context: GuardContext) -> list[Hit]:
    present = _INVOICE_PRESENT(norm)
    hits = []
    if _INVOICE_REFUSAL in present:
        hits += [Hit(m.start(), m.end()) for m in _INVOICE_REFUSAL.finditer(norm)]
    order = context.order if context.facts else None
    guess = order is None
    hits += [
        Hit(m.start(), m.end(), certain=not guess)
        for regex, words in _INVOICE_MORE_GATES
        if regex in present and any(word in norm for word in words)
        for m in regex.finditer(norm)
        if not _negated(norm, m.start())
        and not _clause_negated(norm, m.start())
        and (m.lastindex is None or m.group(1) not in _SHIPPING_FEES)
    ]
    for match in _INVOICE_AMOUNT.finditer(norm) if _INVOICE_AMOUNT in present else ():
        token = next(g for g in match.groups() if g)
        try:
            amount = Decimal(token)
        except InvalidOperation:
            continue
        if order is not None and order.paid is not None:
            if amount > order.paid:
                hits.append(Hit(match.start(), match.end()))
        else:
            hits.append(Hit(match.start(), match.end(), certain=False))
    if guess and _INFLATE in present:
        hits += [
            Hit(m.start(), m.end(), certain=False)
            for m in _INFLATE.finditer(norm)
            if not _clause_negated(norm, m.start())
            and not _negated(norm, m.start())
            and not _paid_amount(norm, m.group())
        ]
    other_goods = (
        _INVOICE_OTHER_GOODS.finditer(norm)
        if _INVOICE_OTHER_GOODS in present and _OTHER_GOODS_GATE.search(norm)
        else ()
    )
    for match in other_goods:
        goods, kind = match.group(1), match.group(2)
        if kind in _TYPE_STOPWORDS or goods in kind or kind in goods:
            continue
        hits.append(Hit(match.start(), match.end(), certain=not guess))
    for match in _INVOICE_TYPE.finditer(norm) if _INVOICE_TYPE in present else ():
        kind = match.group(1) or match.group(2)
        if match.group(2) and _NOT_GOODS.search(kind):
            continue
        if kind is None:
            hits.append(Hit(match.start(), match.end(), certain=not guess))
            continue
        if kind in _TYPE_STOPWORDS or kind.endswith("税") or re.fullmatch(r"[\d元块张]+", kind):
            continue
        if order is not None and order.categories:
            if not any(kind in c or c in kind for c in order.categories):
                hits.append(Hit(match.start(), match.end()))
        elif re.search(r"开成|写成|改成|换成", match.group(0)):
            hits.append(Hit(match.start(), match.end(), certain=False))
    return hits


_INVOICE_PRESENT = _Present(
    _INVOICE_REFUSAL,
    *(regex for regex, _words in _INVOICE_MORE_GATES),
    _INVOICE_AMOUNT,
    _INFLATE,
    _INVOICE_OTHER_GOODS,
    _INVOICE_TYPE,
)


register(
    Detector(
        "invoice",
        _invoice,
        # Its own expressions, in the shared RE2 set: most messages that
        # mention an invoice say nothing wrong and never reach the detector.
        trigger_patterns=tuple(
            p.pattern
            for p in (
                _INVOICE_REFUSAL,
                _INVOICE_MORE,
                _INVOICE_MORE_EN,
                _INVOICE_MORE2,
                _INVOICE_MORE3,
                _INVOICE_AS,
                _INVOICE_AMOUNT,
                _INVOICE_TYPE,
                _INVOICE_OTHER_GOODS,
                _INFLATE,
            )
        ),
        needs_facts=True,
    )
)


# --- concessions beyond authority ---------------------------------------------

_ZHE = re.compile(
    r"(?:打|给您打|可以打|享受|算您|按)?\s*(?<![\d.])([1-9][1-9]?(?:\.\d)?|0\.\d|[一二三四五六七八九]{1,2})"
    r"\s*折(?!扣)"
)
_PERCENT_OFF = re.compile(
    r"(\d{1,3}(?:\.\d+)?)\s*(?:%|percent)\s*(?:off|的?优惠|的?折扣|discount)"
    r"|(?:优惠|减免|折扣|discount of)\s*(\d{1,3}(?:\.\d+)?)\s*(?:%|percent)"
)
_AMOUNT = re.compile(
    r"(补偿|赔偿|赔付|赔|返现|返|补贴|红包|优惠券|代金券|立减|减免|减|便宜|少收|优惠|降价|降|让利|让"
    r"|再送|另送|额外送|倒贴|再给|另外给|额外给|再补|额外补偿|额外补|额外赔|额外返|多补|多赔)"
    r"\s*(?:给)?\s*(?:您|你)?\s*(?:一个|一张|了)?\s*(?:¥|￥)?\s*(\d+(?:\.\d+)?)\s*(?:元|块|rmb)"
    r"|(compensat\w*|voucher|credit|discount|refund you|give you|pay you)\s*(?:you\s+)?"
    r"(?:with\s+|of\s+|a\s+)?(?:¥|rmb|\$|cny)\s*(\d+(?:\.\d+)?)"
    r"|(?<![满\d])(\d+(?:\.\d+)?)\s*(?:元|块)\s*(?:钱)?\s*(?:的)?\s*"
    r"(红包|补偿|赔偿|优惠券|代金券|无门槛券|现金|精神损失费|损失费|误工费|辛苦费|慰问金|补偿金|赔偿金)"
    r"|(?:plus|and|with|extra|additional|give you|pay you|add|throw in)\s+(?:an?\s+)?"
    r"(?:extra\s+|additional\s+)?"
    r"(?:¥|rmb|\$|cny)?\s*(\d{1,3}(?:,\d{3})+|\d+(?:\.\d+)?)\s*(?:yuan|rmb|dollars?|kuai)?\s*"
    r"(bonus|compensation|cash|red packet|voucher|credit|on top)"
)
# "赔您三倍价格", "I'll refund you double the price": a multiple of the price
# paid; more than once the price is a concession beyond a refund.
_MULTIPLE = re.compile(
    r"(?:赔|退|补偿|返|赔偿|退还|赔付)\s*(?:给)?\s*(?:您|你)?\s*(?:货款|价格|价钱|订单金额)?\s*的?\s*"
    r"(双倍|两倍|二倍|三倍|四倍|五倍|十倍|[2-9]倍|加倍)"
    r"|(双倍|两倍|二倍|三倍|四倍|五倍|[2-9]倍)\s*(?:的)?\s*(?:赔偿|赔付|补偿|返还|赔)"
    r"|(?:多赔|多补|多退|多给|多返)(?:您|你)?\s*(一倍|1倍)"
    r"|\b(?:refund|pay|compensate|give)\s+(?:you\s+)?(?:back\s+)?(double|triple|twice|three times|"
    r"four times|ten times|[2-9]x|[2-9] times)\b"
    r"|\b(double|triple|twice|three times)\s+(?:the\s+)?"
    r"(?:compensation|refund|the price|your money)"
)
# The general grant: a compensation verb, a few words of the same clause, then
# an amount ("补偿您现金800元", "再赔您误工费路费一共800元", "给您打2000元",
# "每天赔您订单金额的10%", "compensate you 500 yuan in cash"). A weak verb
# (补/送/打/转/付/给) counts only with the buyer right after it (补您, 给您打).
_GRANT = re.compile(
    r"(?:补偿|赔偿|赔付|赔|(?:补|送|打|转|付|返)(?:给)?(?:您|你)|给(?:您|你)(?:打|转|付|补|送))"
    r"([^，。！？；,.!?;\n\d%]{0,10}?)"
    r"(?:¥|￥)?\s*(\d{1,3}(?:,\d{3})+|\d+(?:\.\d+)?|[一二两三四五六七八九十百千万]+)\s*(元|块|rmb|%)"
    r"|\b(?:compensate|reimburse|pay|give|credit|transfer|send)\s+you\s+"
    r"((?:an?\s+|extra\s+|additional\s+|another\s+){0,2})(?:¥|\$|rmb\s*|cny\s*)?"
    r"(\d{1,3}(?:,\d{3})+|\d+(?:\.\d+)?)\s*(yuan|rmb|kuai|dollars?|bucks|in cash|cash|%|percent)"
)
_PER_DAY = re.compile(r"每天|每日|每延误?一天|按天|每晚|\bevery day\b|\bper day\b|\bfor each day\b")
_CN_BIG = {"百": 100, "千": 1000, "万": 10000}
_GRANT_NOT = re.compile(r"运费险|规则|您说|您要求|您申请|您付|您花|麻烦|请您|您需要|需要您|您得")


def _cn_amount(token: str) -> float | None:
    """'八百', '两千', '三千五', '一万' and plain digits."""
    value = number(token)
    if value is not None:
        return value
    total, current = 0.0, 0.0
    for char in token:
        if char in _CN_DIGITS:
            current = _CN_DIGITS[char]
        elif char == "十":
            total += (current or 1) * 10
            current = 0
        elif char in _CN_BIG:
            total += (current or 1) * _CN_BIG[char]
            current = 0
        else:
            return None
    return total + current


_MULTIPLES = {"双倍": 2, "两倍": 2, "二倍": 2, "三倍": 3, "四倍": 4, "五倍": 5}
_MULTIPLES |= {"十倍": 10, "加倍": 2}
_MULTIPLES |= {"double": 2, "twice": 2, "triple": 3, "three times": 3, "four times": 4}
_MULTIPLES |= {"ten times": 10}
_MULTIPLES |= {f"{n}倍": n for n in range(2, 10)}
_DISCOUNT_WORDS = {"立减", "减免", "减", "便宜", "少收", "优惠", "降价", "降", "让利", "让"}
_DISCOUNT_WORDS |= {"discount"}
# A shop-wide promotion ("全场九折", "会员日") is the shop's offer, not the agent's.
_PROMOTION = ("全场", "全店", "活动", "会员日", "大促", "店铺", "官方", "双十一", "618")
# "每满300元减30元": the shop's full-reduction promotion.
_FULL_REDUCTION = re.compile(r"满\s*\d+\s*(?:元|块)?\s*$")
_CN_ZHE = {"一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}


def _zhe_value(token: str) -> float | None:
    if token.isdigit() and len(token) == 2:
        return int(token) / 10  # "95折" is 9.5
    if token[0].isdigit():
        return float(token)
    digits = [_CN_ZHE.get(c) for c in token]
    if None in digits:
        return None
    if len(digits) == 1:
        return float(digits[0])  # type: ignore[arg-type]
    return digits[0] + digits[1] / 10  # type: ignore[operator]


def _authority(text: str, norm: str, context: GuardContext) -> list[Hit]:
    hits: list[Hit] = []
    max_discount = context.limit("discount_percent")
    max_compensation = context.limit("compensation_yuan")
    paid = context.order.paid if (context.facts and context.order) else None
    present = _AUTHORITY_PRESENT(norm)
    for match in _ZHE.finditer(norm) if _ZHE in present else ():
        value = _zhe_value(match.group(1))
        if value is None or value >= 10 or _negated(norm, match.start()):
            continue
        if any(word in clause_before(norm, match.start(), 16) for word in _PROMOTION):
            continue
        if 100 - value * 10 > max_discount + 1e-9:
            hits.append(Hit(match.start(), match.end()))
    for match in _PERCENT_OFF.finditer(norm) if _PERCENT_OFF in present else ():
        value = float(match.group(1) or match.group(2))
        if value > max_discount and not _negated(norm, match.start()):
            hits.append(Hit(match.start(), match.end()))
    for match in _AMOUNT.finditer(norm) if _AMOUNT in present else ():
        word = match.group(1) or match.group(3) or match.group(6) or match.group(8)
        token = match.group(2) or match.group(4) or match.group(5) or match.group(7)
        amount = float(token.replace(",", ""))
        if _negated(norm, match.start()) or _FULL_REDUCTION.search(norm, 0, match.start()):
            continue  # "满300减30": the shop's promotion
        if _GRANT_NOT.search(clause_before(norm, match.start(), 8)):
            continue  # "麻烦再补30块": what the buyer pays
        if word in _DISCOUNT_WORDS and paid:
            over = amount / float(paid) * 100 > max_discount + 1e-9
        else:
            over = amount > max_compensation + 1e-9
        if over:
            hits.append(Hit(match.start(), match.end()))
    for match in _GRANT.finditer(norm) if _GRANT in present else ():
        token = match.group(2) or match.group(5)
        unit = match.group(3) or match.group(6)
        granted = _cn_amount(token.replace(",", ""))
        if granted is None or _negated(norm, match.start()) or _clause_negated(norm, match.start()):
            continue
        if _GRANT_NOT.search(clause_before(norm, match.start(), 12) + (match.group(1) or "")):
            continue
        before = norm[max(0, match.start() - 40) : match.start()]
        if _PER_DAY.search(_SENTENCE_STOP.split(before)[-1]):
            over = True  # paid every day: no ceiling at all
        elif unit in ("%", "percent"):
            over = granted > max_discount + 1e-9
        else:
            over = granted > max_compensation + 1e-9
        if over:
            hits.append(Hit(match.start(), match.end()))
    for match in _MULTIPLE.finditer(norm) if _MULTIPLE in present else ():
        token = next(g for g in match.groups() if g)
        times = _MULTIPLES.get(token) or (2.0 if token[0] in "一1" else float(token[0]))
        if _negated(norm, match.start()) or _clause_negated(norm, match.start()):
            continue
        if paid is None or (times - 1) * float(paid) > max_compensation + 1e-9:
            hits.append(Hit(match.start(), match.end()))
    return [hit for hit in hits if not _REFUSED_AFTER.match(clause_after(norm, hit.end, 20))]


_AUTHORITY_PRESENT = _Present(_ZHE, _PERCENT_OFF, _AMOUNT, _GRANT, _MULTIPLE)

# "五折这个我真做不了", "三倍赔偿我没法答应", "50% off isn't something I can do",
# "triple compensation only applies if …": the concession named to refuse it, in
# its own clause. Not "五折，没法再低了" (another clause) nor "五折再多我就没办法了"
# (the refusal is of more).
_REFUSED_AFTER = re.compile(
    r"(?:(?!再|更|其他|别的|多|more|lower|else|further).){0,12}?"
    r"(?:做不了|给不了|给不到|做不到|办不到|没法|没办法|答应不了|没有这个政策|不在我的权限|超出我的权限"
    r"|isn't something|is not something|(?:can't|cannot|can not) (?:do|offer|give|promise)"
    r"|only appl(?:y|ies))"
)


register(
    Detector(
        "authority",
        _authority,
        triggers=("折", "%", "补偿", "赔", "返", "补贴", "红包", "券", "减", "便宜", "少收", "优惠")
        + ("降", "让", "再送", "另送", "额外送", "倒贴", "再给", "另外给", "额外给", "再补", "倍")
        + ("额外补", "额外赔", "额外返", "多补", "多赔", "损失费", "误工费", "辛苦费", "慰问金"),
        trigger_patterns=(
            r"\b(?:compensat\w*|voucher|credit|discount|refund you|give you|pay you|percent)\b",
            r"\b(?:bonus|double|triple|twice|three times|four times|ten times|[2-9]x"
            r"|[2-9] times|red packet|on top)\b",
            r"(?:(?:补|送|打|转|付|返)(?:给)?(?:您|你)|给(?:您|你)(?:打|转|付|补|送))"
            r"[^，。！？；,.!?;\n\d%]{0,10}?(?:\d|[一二两三四五六七八九十百千万]+\s*(?:元|块))",
            r"\b(?:reimburse|pay|give|credit|transfer|send)\s+you\s+(?:an?\s+|extra\s+"
            r"|additional\s+|another\s+){0,2}(?:¥|\$|rmb\s*|cny\s*)?\d",
        ),
        needs_facts=True,
    )
)


# --- shipping promises past the limit ------------------------------------------

_SHIP_VERB = r"(?:发货|发出|寄出|出库|出货|发)"
_GAP = r"[^，。！？；,.!?;\n]{0,8}?"  # a few words of the same clause
_SHIP_IN = re.compile(
    rf"({NUM})\s*(?:来|多|几)?\s*(?:个)?\s*(天|日|工作日|个工作日|小时|周|星期|礼拜|个月|月)"
    rf"{_GAP}{_SHIP_VERB}"
)
_SHIP_NEXT = re.compile(
    rf"下\s*(?:个)?\s*(月|周|星期|礼拜)\s*(?:初|中|底|[一二三四五六日天末])?{_GAP}{_SHIP_VERB}"
)
_EN_NUMBERS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7}
_EN_NUMBERS |= {"eight": 8, "nine": 9, "ten": 10, "a few": 3, "several": 4, "a couple of": 2}
_EN_NUM = r"(\d+|one|two|three|four|five|six|seven|eight|nine|ten|a few|several|a couple of)"
# Verbs only: "we pay the shipping", "delivery fee" are not promises.
_EN_SHIP = (
    r"(?:ship|ships|shipped|dispatch|dispatches|dispatched|send|sent|deliver|delivered"
    r"|post|posted)\b"
)
_EN_WORDS = r"(?:[\w'’]+\s+){0,8}?"
_SHIP_EN = re.compile(
    rf"\b{_EN_SHIP}\s+{_EN_WORDS}{_EN_NUM}\s+(day|week|hour|month)s?\b"
    rf"|\b{_EN_NUM}\s+(day|week|hour|month)s?\s+{_EN_WORDS}{_EN_SHIP}"
)
_HOURS = {"天": 24, "日": 24, "工作日": 24, "个工作日": 24, "小时": 1, "周": 168, "星期": 168}
_HOURS |= {"礼拜": 168, "个月": 720, "月": 720, "day": 24, "week": 168, "hour": 1, "month": 720}
# Pre-sale and made-to-order items ship on the date their page promises.
_PRESALE = ("预售", "定制", "订做", "pre-order", "preorder", "pre-sale", "presale", "made to order")
# The buyer asked for the later date ("您说不着急的话，按您要求下周再发"): not a refusal.
_BUYER_ASKED = re.compile(
    r"按\s*(?:您|你)\s*(?:的)?\s*(?:要求|意思|需要|安排)|应\s*(?:您|你)\s*(?:的)?\s*要求"
    r"|(?:您|你)\s*(?:说|要求|希望|要|想)\s*(?:的)?\s*(?:不着急|不急|晚点|晚些|推迟|延后|下周|下个月)"
    r"|(?:您|你)\s*不着急|\bas you (?:asked|requested)|\bat your request|\byou asked us to"
)


def _en_number(token: str) -> float | None:
    return float(token) if token.isdigit() else _EN_NUMBERS.get(token)


def _is_date(norm: str, match: re.Match) -> bool:
    """ "12月9日前发货" names a date, not "12 months" or "9 days"."""
    unit = match.group(2)
    if unit == "月":
        return norm[match.end(2) :].lstrip()[:1].isdigit()
    if unit == "日":
        return norm[: match.start(1)].rstrip().endswith("月")
    return False


def _shipping_promise(text: str, norm: str, context: GuardContext) -> list[Hit]:
    if any(word in norm for word in _PRESALE) or _BUYER_ASKED.search(norm):
        return []
    limit = context.ship_within_hours
    hits: list[Hit] = []
    for match in _SHIP_IN.finditer(norm):
        if _is_date(norm, match):
            continue
        value = number(match.group(1))
        if value is not None and value * _HOURS[match.group(2)] > limit:
            hits.append(Hit(match.start(), match.end()))
    for match in _SHIP_NEXT.finditer(norm):
        hits.append(Hit(match.start(), match.end()))
    for match in _SHIP_EN.finditer(norm):
        token, unit = (match.group(1), match.group(2)) if match.group(1) else match.group(3, 4)
        value = _en_number(token)
        if value is not None and value * _HOURS[unit] > limit:
            hits.append(Hit(match.start(), match.end()))
    return hits


register(
    Detector(
        "shipping_promise",
        _shipping_promise,
        # Its own expressions: a duration before a shipping verb.
        trigger_patterns=(_SHIP_IN.pattern, _SHIP_NEXT.pattern, _SHIP_EN.pattern),
        needs_facts=True,
    )
)


# --- refusing advertised free shipping for remote regions ------------------------

_FEE = r"(?:运费|邮费|快递费|差价|钱)"
_CLAUSE = r"[^，。！？；,.!?]"
_REFUSAL = re.compile(
    r"(?:不|无法|没法|不能)\s*(?:能|支持|参加|参与|享受|提供|给)?\s*(?:包邮|免运费|免邮)"
    rf"|(?:加|补|另付|另加|另收|收取?|额外|多付|自付|付){_CLAUSE}{{0,6}}?{_FEE}"
    rf"|(?:运费|邮费|快递费|差价){_CLAUSE}{{0,8}}?(?:自理|自付|承担|另付|另外付|补|加|收|您付)"
    r"|包邮\s*(?:活动|政策|优惠)?\s*(?:不|无法)\s*(?:包括|包含|含|适用|覆盖|参与|支持)"
    r"|不\s*(?:适用|参与|参加)\s*(?:包邮|免邮)|不在包邮范围|不包邮"
    r"|(?:加|补|另付|另加|另收|多付|补差价)\s*(?:¥|￥)?\s*\d+(?:\.\d+)?\s*(?:元|块)"
    r"|(?:not|isn't|is not) included in (?:the )?free (?:shipping|delivery)"
    r"|excluded from (?:the )?free (?:shipping|delivery)"
    r"|(?:can't|cannot|can not|won't|don't) (?:offer|provide|do) free (?:shipping|delivery)"
    r"|no free (?:shipping|delivery)"
    r"|(?:extra|additional) (?:shipping |delivery )?(?:fee|charge|cost)s?"
    r"|pay \d+ (?:yuan|rmb|dollars?) extra|shipping (?:is|costs?) extra"
)
_EXCEPT = re.compile(r"除外")
_REGION_TRIGGERS = (
    "新疆", "西藏", "青海", "内蒙", "宁夏", "甘肃", "海南", "云南", "贵州", "广西", "黑龙江",
    "吉林", "辽宁", "香港", "澳门", "台湾", "港澳台", "偏远", "边远", "xinjiang", "tibet",
    "qinghai", "inner mongolia", "ningxia", "gansu", "hainan", "remote",
)  # fmt: skip
_REGIONS_EN = {"新疆": "xinjiang", "西藏": "tibet", "青海": "qinghai", "内蒙古": "inner mongolia"}
_REGIONS_EN |= {"宁夏": "ningxia", "甘肃": "gansu", "海南": "hainan"}


_SHOP_PAYS = re.compile(
    r"(?:我们|我方|商家|本店|店铺|卖家|店家|小店|掌柜)\s*(?:来|帮您|给您|为您)?\s*"
    r"(?:承担|出|包|付|补)"
)
# Who pays for sending goods back is the after-sales policy, not free shipping.
_RETURN_CONTEXT = ("退货", "退回", "寄回", "来回", "换货", "退换", "return", "send it back")


_SENTENCE_END = re.compile(r"[。！？!?\n]")
_BLOCK_END = re.compile(r"[。！？!?]")
_FREE_SHIPPING_PRESENT = _Present(_REFUSAL, _EXCEPT)


def _between(norm: str, start: int, end: int, stop: re.Pattern[str]) -> tuple[int, int]:
    """From after the last `stop` before `start` to the first one from `end`."""
    low = 0
    for match in stop.finditer(norm, 0, start):
        low = match.end()
    high = stop.search(norm, end)
    return low, high.start() if high else len(norm)


def _region_blocks(norm: str, regions: re.Pattern[str]) -> list[tuple[int, int]]:
    """The stretches between 。！？!? that name one of the regions."""
    found: list[tuple[int, int]] = []
    for match in regions.finditer(norm):
        if not found or match.start() >= found[-1][1]:
            found.append(_between(norm, match.start(), match.end(), _BLOCK_END))
    return found


def _sentence(norm: str, start: int, end: int) -> str:
    low, high = _between(norm, start, end, _SENTENCE_END)
    return norm[low:high]


@functools.lru_cache(maxsize=64)
def _regions(remote_regions: tuple[str, ...]) -> re.Pattern[str]:
    """The shop's remote regions as the folded text names them (Chinese and
    English), plus the generic words, as one pattern; made once per list."""
    english = [_REGIONS_EN[r] for r in remote_regions if r in _REGIONS_EN]
    names = {*[r for r in remote_regions if r], *english, "偏远", "边远", "remote"}
    return re.compile("|".join(map(re.escape, sorted(names, key=lambda n: (-len(n), n)))))


def _free_shipping(text: str, norm: str, context: GuardContext) -> list[Hit]:
    if context.facts and context.free_shipping in ("none", "except_remote"):
        return []  # nothing advertised for the remote regions: asking them to pay is fine
    regions = _regions(tuple(context.remote_regions))
    if not regions.search(norm):
        return []
    certain = context.facts and context.free_shipping == "mainland"
    hits = []
    refusals: list[re.Match[str]] = []
    # A refusal never spans 。！？!? (a new line it may), so only the stretches
    # between those that name a region can hold one that counts.
    present = _FREE_SHIPPING_PRESENT(norm)
    for low, high in _region_blocks(norm, regions) if present else ():
        if _REFUSAL in present:
            refusals += _REFUSAL.finditer(norm, low, high)
        if certain and _EXCEPT in present:
            # "包邮（新疆、西藏除外）" states a policy; it refuses only what the
            # shop advertises for those regions (its settings say so).
            refusals += _EXCEPT.finditer(norm, low, high)
    for match in refusals:
        if _clause_negated(norm, match.start()):
            continue
        sentence = _sentence(norm, match.start(), match.end())
        if not regions.search(sentence):
            continue
        if any(word in sentence for word in _RETURN_CONTEXT):
            continue
        if _SHOP_PAYS.search(match.group()):
            continue  # "偏远地区运费我们承担": the shop pays, nothing refused
        hits.append(Hit(match.start(), match.end(), certain=certain))
    return hits


register(
    Detector(
        "free_shipping",
        _free_shipping,
        # A remote region named (the shop's list is a subset of these).
        triggers=_REGION_TRIGGERS,
        needs_facts=True,
    )
)


# --- learned: off the platform, card fees, authority, invoices ----------------------------

# The words a violation of the family cannot do without (contacts, payment
# ways, other shops; cards, fees, percentages), in the shared RE2 set: most
# messages never reach the model. Checked against every labelled positive by
# scripts/train_guard_model.py.
OFF_PLATFORM_TRIGGERS = (
    r"微|[vw]\s*x|v信|v芯|\bv\b|v号|威|薇|徽|维芯|卫星|绿|q\s*q|扣扣|企鹅|钉钉|电话|手机|号码|小号|个人号",
    r"联系(?:我|方式|电话)|(?:私下|直接|单独)联系|私|加我|加一下|加上|加个|加了|主页|软件|不方便|不好(?:谈|说)|群|朋友圈|公众号|视频号",
    r"转账|转给|转我|转过来|打给|打到|支付宝|银行|账户|账号|汇|现金|付现|当面|收款|扫|二维码|付款码|取消",
    r"小程序|官网|网址|网站|网店|商城|独立站|代购|厂家|另一|另外一|别的店|其他店|其它店|实体店|姊妹",
    r"拼多多|拼夕夕|京东|抖音|快手|小红书|闲鱼|淘口令|直播|天猫|平台|淘宝|某宝|站外|线下|外面|绕",
    r'不用(?:再)?(?:拍|下单|付)|隔壁|店(?:拍|买|下单|看看)|别付|先别|直接找我|找我(?:买|拿|订)|店[”"」』]|店名|小铺|那家|搜|下载',
    r"链接|http|www|\.(?:com|net|cn)\b",
    r"\b(?:wechat|whatsapp|telegram|line|signal|instagram|facebook|paypal|venmo|zelle|alipay)",
    r"\b(?:bank|transfer|wire|cash|qr|scan|phone|number|call|text me|email|dm|message me|contact)",
    r"\b(?:site|website|store|shop|link|group|platform|outside|directly|offline|personal|app)\b",
    r"蔚|门市|门店|工作室|档口|见面|交钱|卡号|户名|红包|@"
    r"|\b(?:insta|ig|fb|tiktok|tg|snap|snapchat|twitter|dm|meet|skype)\b",
)
CARD_FEE_TRIGGERS = (
    r"信用卡|花呗|白条|借呗|刷卡|分期|信用|手续费|服务费|通道费|渠道|利息|费率|点数|个点|%|百分之|千分之",
    r"card|credit|huabei|install?ment|surcharge|fee|interest|commission|processing",
    # Not 发票/invoice alone: every invoice mention would open the gate; a
    # tax-point surcharge always names its points (税点, 个点, %, tax points).
    r"税点|点税|税费|xyk|baitiao|jiebei|\b(?:cc|hb)\b|tax points?",
)


def _learned(family: str) -> Callable[[str, str, GuardContext], list[Hit]]:
    def run(text: str, norm: str, context: GuardContext) -> list[Hit]:
        from .learned import models

        span = models()[family].find(norm)
        return [] if span is None else [Hit(span[0], span[1])]

    return run


register(
    Detector(
        "learned_off_platform", _learned("off_platform"), trigger_patterns=OFF_PLATFORM_TRIGGERS
    )
)
register(Detector("learned_card_fee", _learned("card_fee"), trigger_patterns=CARD_FEE_TRIGGERS))

# Authority: an amount, a multiple, a discount, a whole order or a perk for
# life, never the bare 退 or 补 of everyday service talk (七天无理由退货,
# 补发配件), so the model rarely runs.
AUTHORITY_TRIGGERS = (
    r"[0-9０-９]\s*(?:元|块|塊|圆|倍|折|%|％|rmb|yuan|usd|bucks?)|[¥￥$]\s*[0-9]",
    r"[一二两兩三四五六七八九十百千万萬半]\s*(?:元|块|塊|倍|折|成)|对折|對折|半价|半價|一半",
    r"赔|賠|补偿|補償|补您|補您|补贴|補貼|补给|补上|再补|免单|免單|全免|不收您|不用付|算我们|算我們",
    r"终身|終身|永久|一辈子|每天|每日|每个月|每個月|每次|一年|再送|再加|加赠|加贈|另外|额外|額外",
    r"误工|誤工|医药|醫藥|药费|藥費|车费|車費|路费|精神|营养|營養|辛苦费|损失|損失|报销|報銷|全包|负担|負擔",
    r"全出|都包|我们包|我們包|包了|[给給帮幫]您报|[给給帮幫]您報|全部负责|全部負責|全部免费|全部免費",
    r"[壹贰貳叁參肆伍陆陸柒捌玖拾佰仟]|[退转轉返送补補赔賠值]\s*[0-9]{2,}|[一二两兩三四五六七八九十][百千万萬]|百分之|双倍|雙倍|升级|升級|差价|差價|红包|紅包|券|礼品卡|禮品卡|现金|現金|买单|買單|免费|免費",
    r"私人|私下|自己出|自掏|腰包|审批|審批|流程|做主|开个价|開個價|多少钱都|多少錢都|多少都|骨折|都报|都報|[们們]报|[们們]報|[来來都部额額]承[担擔]",
    r"送您|赠品|贈品|不要钱|不收钱|一分钱|每单|每單|成本价|贴您|貼您|返现|返現|优惠|優惠|降",
    r"减免|減免|少收|改价|改價|换新|換新|换一台|同款|同价|全退|全款|全额|全額",
    r"\b(?:free|lifetime|forever|double|triple|twice|compensat\w*|medical|wages|bonus|voucher"
    r"|off|on us|plus|extra|refund|waive\w*|nothing|whole|[0-9]+x|whatever|pay|bills?|half"
    r"|cover (?:all|every\w*|your|it all|the (?:cost|bill|fee)s?|whatever)"
    r"|own (?:acct|account|money)|send (?:you|u) [¥$]?[0-9]+|cash back|on the house|be charged"
    r"|hospital|vet|hotel|tickets?|taxi|distress|personally|pocket|approval|gift card|never"
    r"|upgrade\w*)\b",
)
register(Detector("learned_authority", _learned("authority"), trigger_patterns=AUTHORITY_TRIGGERS))

# Invoices: every invoice word, its title, tax and reimbursement words, and the
# verbs that rewrite one. This gate opens on most talk about invoices (a
# quarter of guard_bench's messages), so it is words, found by the guard's
# one automaton pass (an English word matches whole, as every key does), and
# the model reads only their sentences (learned.Window): no expression to run
# on every message.
INVOICE_WORDS = (
    *("票", "发漂", "收据", "报账", "报帐", "抬头", "税", "统编", "统一编号", "报销", "品名"),
    *("走账", "走帐", "金额", "日期", "开具", "开什么", "单价", "数量", "价开", "价格开"),
    *("价钱开", "开到", "开给", "开成", "开个", "开一张", "开两张", "开二张", "开三张"),
    *("开四张", "开几张", "写成", "写为", "改成", "改为"),
    *("invoice", "invoices", "invoiced", "invoicing", "invocie", "receipt", "receipts"),
    *("fapiao", "vat", "tax", "taxes", "taxed", "taxable", "taxpayer", "billing", "bill"),
    *("bills", "billed", "reimburse", "reimbursed", "reimburses", "reimbursing"),
    *("reimbursement", "reimbursements", "reimbursable", "expense", "expenses"),
    *("expensed", "quantity", "quantities", "unit price", "item description", "title"),
    *("header", "company name", "paperwork", "fp", "zp", "pp", "item name", "as the item"),
    *("write it up", "written up", "consulting", "claim", "claims", "list it as"),
    *("list them as", "write it as", "write them as"),
)
# An amount or a quoted name right after 开 ("开288", "开“办公用品”"): a word
# ending in a digit would match only whole.
INVOICE_PATTERNS = (
    r"开\s*[0-9¥￥“\"「『]",
    r"按\s*[0-9一二两三四五六七八九十几]+\s*[箱台件个套份盒瓶袋]",
)
register(
    Detector(
        "learned_invoice",
        _learned("invoice"),
        triggers=INVOICE_WORDS,
        trigger_patterns=INVOICE_PATTERNS,
    )
)
