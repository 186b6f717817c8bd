"""The per-shop after-sales policy engine (rules and decisions where the seeds
are silent: see engine.py). Pure Python; only `settings_for_shop` reads the
database."""

from __future__ import annotations

from typing import Any

from .engine import Decision, decide
from .request import CONDITIONS, OPTION_TYPES, REASONS, Request, RequestError, parse_request
from .settings import FLAGS, PolicyError, PolicySettings

TYPES = OPTION_TYPES


def explain_json(data: Any, settings: PolicySettings) -> dict:
    """The decision for one decoded JSON request, or
    `{"error": {"field": ..., "message": ...}}`: what the command prints per
    line, and what the table-driven tests check."""
    try:
        request = parse_request(data, settings)
    except RequestError as error:
        return {"error": {"field": error.field, "message": error.message}}
    return decide(request, settings).as_json()


def settings_for_shop(shop) -> PolicySettings:
    """The shop's policy: the defaults, in the shop's time zone, with the
    overrides in `CommerceSettings.policy` (none when the shop has no row).
    Stored overrides the policy cannot use raise `PolicyError`."""
    from kefu.commerce.models import CommerceSettings

    overrides = (
        CommerceSettings.objects.filter(shop_id=shop.pk).values_list("policy", flat=True).first()
    ) or {}
    if not isinstance(overrides, dict):
        raise PolicyError("policy", "must be an object of settings")
    zone = getattr(shop, "time_zone", "") or PolicySettings.time_zone
    return PolicySettings.from_overrides({"time_zone": zone, **overrides})


__all__ = [
    "CONDITIONS",
    "FLAGS",
    "REASONS",
    "TYPES",
    "Decision",
    "PolicyError",
    "PolicySettings",
    "Request",
    "RequestError",
    "decide",
    "explain_json",
    "parse_request",
    "settings_for_shop",
]
