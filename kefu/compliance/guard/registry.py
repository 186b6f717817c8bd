"""One compiled guard per shop and process, rebuilt when the shop's revision
changes. The revision is read at most every REVISION_TTL seconds, so the hot
path (every agent and bot message) costs a dictionary lookup; an edit made in
this process is seen at once, one made in another within the TTL."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

from .context import GuardContext
from .defaults import default_guard
from .engine import Guard, RuleSpec

REVISION_TTL = 2.0


@dataclass(frozen=True)
class ShopGuard:
    revision: int
    guard: Guard
    context: GuardContext  # the shop's settings; agent and order added per send


_cache: dict[int, tuple[float, ShopGuard]] = {}
_lock = threading.Lock()


def shop_guard(shop_id: int) -> ShopGuard:
    now = time.monotonic()
    entry = _cache.get(shop_id)
    if entry is not None and now - entry[0] < REVISION_TTL:
        return entry[1]
    from kefu.compliance.models import ComplianceSettings

    revision = (
        ComplianceSettings.objects.filter(shop_id=shop_id)
        .values_list("revision", flat=True)
        .first()
    )
    if entry is not None and entry[1].revision == revision:
        _cache[shop_id] = (now, entry[1])
        return entry[1]
    built = _build(shop_id, revision)
    with _lock:
        _cache[shop_id] = (now, built)
    return built


def forget(shop_id: int) -> None:
    _cache.pop(shop_id, None)


def clear() -> None:
    _cache.clear()


def _build(shop_id: int, revision: int | None) -> ShopGuard:
    from kefu.compliance.models import ComplianceRule, ComplianceSettings

    settings = ComplianceSettings.objects.filter(shop_id=shop_id).first()
    if settings is None:  # never set up: the shipped rules and defaults
        return ShopGuard(-1, default_guard(), GuardContext(facts=True))
    rules = ComplianceRule.objects.filter(shop_id=shop_id, enabled=True).order_by("id")
    guard = Guard([RuleSpec.from_model(rule) for rule in rules])
    context = GuardContext(
        facts=True,
        free_shipping=settings.free_shipping,
        remote_regions=tuple(settings.remote_regions or ()),
        ship_within_hours=settings.ship_within_hours,
        authority_limits=settings.authority_limits or {},
    )
    return ShopGuard(settings.revision, guard, context)
