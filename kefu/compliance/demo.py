"""The demo shop's compliance setup: the shipped rules, free shipping to all
of mainland China advertised (so refusing it for 新疆/西藏 is blocked)."""

from __future__ import annotations

from kefu.compliance import actions
from kefu.compliance.models import ComplianceSettings, FreeShipping


def load_compliance_demo(shop) -> ComplianceSettings:
    settings = actions.ensure_settings(shop)
    if settings.free_shipping != FreeShipping.MAINLAND:
        settings = actions.save_settings(None, shop, {"free_shipping": FreeShipping.MAINLAND})
    return settings
