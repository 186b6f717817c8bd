"""A shop's after-sales policy settings: the seed values as defaults, and the
shop's overrides (`CommerceSettings.policy`) validated into a frozen value."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

FLAGS = ("food", "custom_made", "hygiene", "digital", "fresh")

# The PRC minimum for online sales (no-reason returns, quality returns).
LEGAL_MIN_DAYS = 7
MAX_DAYS = 3650


class PolicyError(ValueError):
    """A setting the policy cannot use; `field` names it."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


@dataclasses.dataclass(frozen=True)
class PolicySettings:
    """Every window, exclusion and amount of the after-sales policy.

    Days count calendar days after the day the buyer signed; percentages are
    of the item's paid amount; amounts are yuan; a cap or threshold of None
    means none."""

    time_zone: str = "Asia/Shanghai"
    # 7天无理由退货(商品完好); an exchange for no reason under the same rule.
    no_reason_days: int = 7
    no_reason_exchange: bool = True
    # 特殊商品(定制、食品)不支持退货 — fresh goods likewise; quality remedies stay.
    no_reason_excluded_flags: tuple[str, ...] = ("food", "custom_made", "fresh")
    no_reason_excluded_categories: tuple[str, ...] = ()
    # Returnable without a reason only while never opened.
    unopened_only_flags: tuple[str, ...] = ("hygiene", "digital")
    # 质量问题: return or refund within 7 days, exchange within 15, repair under warranty.
    quality_return_days: int = 7
    quality_exchange_days: int = 15
    warranty_days: int = 365
    unrepairable_flags: tuple[str, ...] = ("food", "fresh")
    # Wrong or missing items: reissue, return or refund, at the shop's cost.
    wrong_item_days: int = 15
    # 延迟发货: 30 % of the paid amount, at most 500 yuan.
    late_shipment_percent: Decimal = Decimal("30")
    late_shipment_cap: Decimal | None = Decimal("500")
    # 缺货: 30 % of the paid amount.
    out_of_stock_percent: Decimal = Decimal("30")
    out_of_stock_cap: Decimal | None = None
    # A refund or compensation above this needs a supervisor's approval.
    approval_threshold: Decimal | None = Decimal("500")

    @classmethod
    def from_overrides(cls, overrides: Mapping[str, Any] | None) -> PolicySettings:
        """The defaults with `overrides` applied; `PolicyError` names the first
        unknown or unusable setting."""
        if overrides is None:
            return cls()
        if not isinstance(overrides, Mapping):
            raise PolicyError("policy", "must be an object of settings")
        fields = {field.name for field in dataclasses.fields(cls)}
        values: dict[str, Any] = {}
        for name, value in overrides.items():
            if name not in fields:
                raise PolicyError(str(name), "unknown setting")
            values[name] = _CLEAN[name](name, value)
        settings = cls(**values)
        if settings.quality_exchange_days < settings.quality_return_days:
            raise PolicyError(
                "quality_exchange_days", "must not be shorter than quality_return_days"
            )
        return settings

    def as_overrides(self) -> dict[str, Any]:
        """The settings that differ from the defaults, as JSON values."""
        default = PolicySettings()
        changed: dict[str, Any] = {}
        for field in dataclasses.fields(self):
            value = getattr(self, field.name)
            if value != getattr(default, field.name):
                if isinstance(value, Decimal):
                    value = str(value)
                elif isinstance(value, tuple):
                    value = list(value)
                changed[field.name] = value
        return changed


def _zone(name: str, value: Any) -> str:
    if not isinstance(value, str) or not value:
        raise PolicyError(name, "must be a time zone name such as Asia/Shanghai")
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise PolicyError(name, f"unknown time zone {value!r}") from None
    return value


def _days(minimum: int) -> Any:
    def clean(name: str, value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise PolicyError(name, "must be a whole number of days")
        if value < minimum:
            why = " (the legal minimum)" if minimum == LEGAL_MIN_DAYS else ""
            raise PolicyError(name, f"must be at least {minimum}{why}")
        if value > MAX_DAYS:
            raise PolicyError(name, f"must be at most {MAX_DAYS}")
        return value

    return clean


def _bool(name: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise PolicyError(name, "must be true or false")
    return value


def _flags(name: str, value: Any) -> tuple[str, ...]:
    if not isinstance(value, list | tuple):
        raise PolicyError(name, "must be a list of product flags")
    for flag in value:
        if flag not in FLAGS:
            raise PolicyError(name, f"unknown flag {flag!r} (one of {', '.join(FLAGS)})")
    return tuple(dict.fromkeys(value))


def _categories(name: str, value: Any) -> tuple[str, ...]:
    if not isinstance(value, list | tuple) or not all(
        isinstance(item, str) and item.strip() for item in value
    ):
        raise PolicyError(name, "must be a list of category names")
    return tuple(dict.fromkeys(item.strip() for item in value))


def _amount(name: str, value: Any, *, maximum: Decimal | None = None) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise PolicyError(name, "must be a number")
    try:
        amount = Decimal(str(value).strip())
    except InvalidOperation:
        raise PolicyError(name, f"not a number: {value!r}") from None
    if not amount.is_finite() or amount < 0:
        raise PolicyError(name, "must be zero or more")
    if maximum is not None and amount > maximum:
        raise PolicyError(name, f"must be at most {maximum}")
    return amount


def _percent(name: str, value: Any) -> Decimal:
    return _amount(name, value, maximum=Decimal(100))


def _optional_amount(name: str, value: Any) -> Decimal | None:
    return None if value is None else _amount(name, value)


_CLEAN: dict[str, Any] = {
    "time_zone": _zone,
    "no_reason_days": _days(LEGAL_MIN_DAYS),
    "no_reason_exchange": _bool,
    "no_reason_excluded_flags": _flags,
    "no_reason_excluded_categories": _categories,
    "unopened_only_flags": _flags,
    "quality_return_days": _days(LEGAL_MIN_DAYS),
    "quality_exchange_days": _days(LEGAL_MIN_DAYS),
    "warranty_days": _days(0),
    "unrepairable_flags": _flags,
    "wrong_item_days": _days(0),
    "late_shipment_percent": _percent,
    "late_shipment_cap": _optional_amount,
    "out_of_stock_percent": _percent,
    "out_of_stock_cap": _optional_amount,
    "approval_threshold": _optional_amount,
}
