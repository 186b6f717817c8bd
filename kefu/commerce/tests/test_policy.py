"""The after-sales policy engine, table-driven: every case in
policy_cases.jsonl goes through `explain_json` (the function the command
prints), and its expected decision fields must match exactly."""

from __future__ import annotations

import dataclasses
import json
from decimal import Decimal
from pathlib import Path

import pytest

from kefu.commerce.policy import (
    TYPES,
    PolicyError,
    PolicySettings,
    RequestError,
    decide,
    explain_json,
    parse_request,
    settings_for_shop,
)

CASES_FILE = Path(__file__).with_name("policy_cases.jsonl")
CASES = [json.loads(line) for line in CASES_FILE.read_text("utf-8").splitlines() if line.strip()]
DECISION_KEYS = {
    "allowed",
    "case_type",
    "options",
    "window_days",
    "day_number",
    "return_shipping_paid_by",
    "refundable_amount",
    "compensation_amount",
    "approval_needed",
    "explanation",
}
REQUEST = {
    "category": "服装",
    "flags": [],
    "paid": "199.00",
    "quantity": 1,
    "ordered": "2026-05-28T10:00:00",
    "delivered": "2026-06-01T15:00:00",
    "requested": "2026-06-05T12:00:00",
    "reason": "no_reason",
    "condition": "intact",
}


def test_the_table_covers_the_rules():
    assert len(CASES) >= 60
    names = [case["name"] for case in CASES]
    assert len(names) == len(set(names))
    requests = [case["request"] for case in CASES]
    valid = [case for case in CASES if "error" not in case["expect"]]
    for reason in (
        "no_reason",
        "quality",
        "wrong_item",
        "missing_item",
        "not_as_described",
        "late_shipment",
        "out_of_stock",
    ):
        assert any(case["request"].get("reason") == reason for case in valid), reason
    for flag in ("food", "custom_made", "hygiene", "digital", "fresh"):
        assert any(flag in (case["request"].get("flags") or []) for case in valid), flag
    for condition in ("intact", "opened", "used", "defective"):
        assert any(case["request"].get("condition") == condition for case in valid), condition
    for kind in TYPES:
        assert any(r.get("requested_type") == kind for r in requests), kind
    days = {case["expect"].get("day_number") for case in valid}
    assert {0, 7, 8, 15, 16, 365, 366} <= days
    assert any(r.get("return_quantity", 1) < r.get("quantity", 1) for r in requests)
    assert sum("error" in case["expect"] for case in CASES) >= 20


@pytest.mark.parametrize("case", CASES, ids=[case["name"] for case in CASES])
def test_policy_case(case):
    settings = PolicySettings.from_overrides(case.get("settings"))
    result = explain_json(case["request"], settings)
    expect = case["expect"]
    if "error" in expect:
        assert set(result) == {"error"}, result
        assert result["error"]["field"] == expect["error"], result
        assert result["error"]["message"]
        return
    assert "error" not in result, result
    assert set(result) == DECISION_KEYS
    for key, value in expect.items():
        assert result[key] == value, (key, result)
    assert set(result["options"]) == set(TYPES)
    explanation = result["explanation"]
    assert set(explanation) == {"zh-hans", "en"}
    assert explanation["zh-hans"] and explanation["en"]
    day = result["day_number"]
    if day:
        assert f"第{day}天" in explanation["zh-hans"]
        assert f"day {day}" in explanation["en"]
    for language, fragments in case.get("says", {}).items():
        for fragment in fragments:
            assert fragment in explanation[language], (fragment, explanation[language])


def test_amounts_are_two_place_strings():
    for case in CASES:
        result = explain_json(case["request"], PolicySettings.from_overrides(case.get("settings")))
        if "error" in result:
            continue
        for key in ("refundable_amount", "compensation_amount"):
            assert isinstance(result[key], str)
            assert Decimal(result[key]).as_tuple().exponent == -2, (case["name"], result[key])


def test_decide_and_as_json_agree_with_explain_json():
    settings = PolicySettings()
    request = parse_request(REQUEST, settings)
    decision = decide(request, settings)
    assert decision.refundable_amount == Decimal("199.00")
    assert decision.day_number == 4
    assert decision.as_json() == explain_json(REQUEST, settings)
    json.dumps(decision.as_json())  # JSON-ready as it is


def test_parse_request_reads_naive_times_in_the_shops_zone():
    request = parse_request(REQUEST, PolicySettings())
    assert request.delivered is not None
    assert request.delivered.utcoffset().total_seconds() == 8 * 3600
    new_york = PolicySettings.from_overrides({"time_zone": "America/New_York"})
    request = parse_request(REQUEST, new_york)
    assert request.requested.utcoffset().total_seconds() == -4 * 3600  # daylight time in June


def test_parse_request_error_names_the_field():
    with pytest.raises(RequestError) as caught:
        parse_request({**REQUEST, "quantity": -2}, PolicySettings())
    assert caught.value.field == "quantity"
    assert explain_json([REQUEST], PolicySettings())["error"]["field"] == "request"


def test_the_defaults_are_the_seed_values():
    settings = PolicySettings()
    assert settings.time_zone == "Asia/Shanghai"
    assert settings.no_reason_days == 7
    assert settings.quality_exchange_days == 15
    assert set(settings.no_reason_excluded_flags) == {"food", "custom_made", "fresh"}
    assert settings.late_shipment_percent == 30 and settings.late_shipment_cap == 500
    assert settings.out_of_stock_percent == 30 and settings.out_of_stock_cap is None
    assert settings.approval_threshold == 500
    assert PolicySettings.from_overrides({}) == settings
    assert PolicySettings.from_overrides(None) == settings
    with pytest.raises(dataclasses.FrozenInstanceError):
        settings.no_reason_days = 15  # type: ignore[misc]


def test_overrides_are_validated_and_kept():
    settings = PolicySettings.from_overrides(
        {"no_reason_days": 15, "late_shipment_cap": "300.50", "unopened_only_flags": ["hygiene"]}
    )
    assert settings.no_reason_days == 15
    assert settings.late_shipment_cap == Decimal("300.50")
    assert settings.unopened_only_flags == ("hygiene",)
    assert settings.as_overrides() == {
        "no_reason_days": 15,
        "late_shipment_cap": "300.50",
        "unopened_only_flags": ["hygiene"],
    }
    assert PolicySettings.from_overrides(settings.as_overrides()) == settings


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"no_reason_days": 3}, "no_reason_days"),  # below the legal 7 days
        ({"no_reason_days": "7"}, "no_reason_days"),
        ({"no_reason_days": True}, "no_reason_days"),
        ({"warranty_days": -1}, "warranty_days"),
        ({"quality_exchange_days": 7, "quality_return_days": 10}, "quality_exchange_days"),
        ({"no_reason_excluded_flags": ["toys"]}, "no_reason_excluded_flags"),
        ({"unopened_only_flags": "hygiene"}, "unopened_only_flags"),
        ({"no_reason_excluded_categories": [""]}, "no_reason_excluded_categories"),
        ({"late_shipment_percent": 130}, "late_shipment_percent"),
        ({"late_shipment_percent": "abc"}, "late_shipment_percent"),
        ({"late_shipment_cap": -5}, "late_shipment_cap"),
        ({"out_of_stock_percent": None}, "out_of_stock_percent"),
        ({"approval_threshold": "Infinity"}, "approval_threshold"),
        ({"time_zone": "Mars/Olympus"}, "time_zone"),
        ({"no_reason_exchange": "yes"}, "no_reason_exchange"),
        ({"no_reason_day": 15}, "no_reason_day"),  # a typo is not ignored
    ],
)
def test_bad_overrides_are_refused(overrides, field):
    with pytest.raises(PolicyError) as caught:
        PolicySettings.from_overrides(overrides)
    assert caught.value.field == field
    assert caught.value.message


def test_overrides_must_be_an_object():
    with pytest.raises(PolicyError) as caught:
        PolicySettings.from_overrides(["no_reason_days"])  # type: ignore[arg-type]
    assert caught.value.field == "policy"


@pytest.mark.django_db
def test_settings_for_shop_reads_the_shops_overrides_and_zone():
    from kefu.commerce.models import CommerceSettings
    from kefu.tests import factories

    plain = factories.make_shop()
    assert settings_for_shop(plain) == PolicySettings()  # no settings row: the defaults

    shop = factories.make_shop(time_zone="Europe/Berlin")
    CommerceSettings.objects.create(shop=shop, policy={"no_reason_days": 15})
    settings = settings_for_shop(shop)
    assert settings.no_reason_days == 15
    assert settings.time_zone == "Europe/Berlin"
    day_15 = {**REQUEST, "requested": "2026-06-16T12:00:00"}
    assert explain_json(day_15, settings)["allowed"] is True
    assert explain_json(day_15, PolicySettings())["allowed"] is False

    # The shop's own zone yields to an explicit policy override.
    shop.commerce_settings.policy = {"time_zone": "Asia/Tokyo"}
    shop.commerce_settings.save()
    assert settings_for_shop(shop).time_zone == "Asia/Tokyo"

    shop.commerce_settings.policy = {"no_reason_days": 3}
    shop.commerce_settings.save()
    with pytest.raises(PolicyError):
        settings_for_shop(shop)
