"""Give a test shop a small, known rule set (instead of the shipped one)."""

from __future__ import annotations

from kefu.compliance.actions import bump_revision
from kefu.compliance.models import ComplianceRule, ComplianceSettings

WECHAT = {
    "code": "wechat",
    "family": "off_platform",
    "kind": "regex",
    "severity": "block",
    "platform_rule": True,
    "penalty_points": 12,
    "title": "站外交易",
    "title_en": "Off-platform trading",
    "explanation": "不能引导买家到平台外联系或交易。",
    "explanation_en": "Never steer a buyer off the platform.",
    "patterns": r"加\s*(?:我)?\s*(?:微信|vx|v信)",
}
DANGER = {
    "code": "danger",
    "family": "danger_phrase",
    "kind": "phrases",
    "severity": "warn",
    "title": "危险用语",
    "title_en": "Danger phrases",
    "explanation": "换成正向表达。",
    "explanation_en": "Say it positively.",
    "phrases": "这不是我的责任 => 我会帮您联系相关部门",
}


def install_rules(shop, *rules: dict, **settings) -> ComplianceSettings:
    compliance_settings, _ = ComplianceSettings.objects.get_or_create(shop=shop, defaults=settings)
    for rule in rules or (WECHAT, DANGER):
        ComplianceRule.objects.create(shop=shop, **rule)
    bump_revision(shop.id)
    return compliance_settings
