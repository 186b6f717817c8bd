"""Shop-defined rules that choose a skill group for a new conversation."""

from __future__ import annotations

import functools
import re
from collections.abc import Callable

from .models import GroupCode, RoutingRule, SkillGroup

MAX_TEXT_FOR_PATTERNS = 2000


def keywords_of(rule: RoutingRule) -> list[str]:
    return [k.strip().lower() for k in re.split(r"[,，\n]", rule.keywords) if k.strip()]


@functools.lru_cache(maxsize=256)
def _compiled(pattern: str):
    """The RE2 program of a saved pattern; None when it does not compile (a
    rule written before patterns were checked): such a rule never matches."""
    from kefu.compliance.guard.engine import RuleError, compile_regex

    try:
        return compile_regex(pattern)
    except RuleError:
        return None


def rule_matches(
    rule: RoutingRule, text: str, *, tier: str, channel: str, risky: Callable[[], bool] = bool
) -> bool:
    """Every condition the rule gives holds; `risky()` (is the customer on the
    shop's risk list?) is only asked when the rule has that condition."""
    if rule.tier and rule.tier != tier:
        return False
    if rule.channel and rule.channel != channel:
        return False
    if rule.risk and not risky():
        return False
    lowered = text.lower()
    keywords = keywords_of(rule)
    if keywords and not any(k in lowered for k in keywords):
        return False
    if rule.pattern:
        compiled = _compiled(rule.pattern)
        if compiled is None or not compiled.search(text[:MAX_TEXT_FOR_PATTERNS]):
            return False
    return bool(keywords or rule.pattern or rule.tier or rule.channel or rule.risk)


def choose_group(
    shop,
    text: str,
    *,
    tier: str,
    channel: str,
    group_code: str = "",
    customer_id: int | None = None,
) -> SkillGroup:
    """The first matching shop rule; else the group of the message's intent
    (given, or from the shop's trained classifier); else pre-sales."""
    from kefu.bot import queries as bot_queries
    from kefu.commerce import queries as commerce_queries

    @functools.cache
    def risky() -> bool:
        return customer_id is not None and commerce_queries.customer_has_risk(shop.id, customer_id)

    for rule in RoutingRule.objects.filter(shop=shop, enabled=True).select_related("group"):
        if rule_matches(rule, text, tier=tier, channel=channel, risky=risky):
            return rule.group
    code = group_code or bot_queries.group_code_for_text(shop, text) or GroupCode.PRE_SALES
    if code not in GroupCode.values:
        code = GroupCode.PRE_SALES
    group, _created = SkillGroup.objects.get_or_create(
        shop=shop, code=code, defaults={"name": str(GroupCode(code).label)}
    )
    return group
