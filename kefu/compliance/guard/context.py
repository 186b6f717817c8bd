"""What the guard knows about the conversation a message goes to. Rules that
depend on facts (invoice vs the order, concessions vs the agent's authority,
shipping promises vs the shop's limit, free-shipping refusals) judge with it;
without it (`facts=False`) they use the defaults and never block."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

DEFAULT_REMOTE_REGIONS = ("新疆", "西藏", "青海", "内蒙古", "宁夏", "甘肃", "海南")
DEFAULT_LIMITS: Mapping[str, Mapping[str, float]] = {
    "junior": {"discount_percent": 5, "compensation_yuan": 10},
    "senior": {"discount_percent": 10, "compensation_yuan": 30},
    "advanced": {"discount_percent": 15, "compensation_yuan": 50},
    "supervisor": {"discount_percent": 20, "compensation_yuan": 200},
}


@dataclass(frozen=True)
class OrderFacts:
    """The order linked to the conversation (filled by the orders app)."""

    paid: Decimal | None = None
    categories: tuple[str, ...] = ()
    invoice_type: str = ""


@dataclass(frozen=True)
class GuardContext:
    facts: bool = False
    free_shipping: str = "unknown"  # unknown | none | mainland | except_remote
    remote_regions: tuple[str, ...] = DEFAULT_REMOTE_REGIONS
    ship_within_hours: int = 72
    authority_limits: Mapping[str, Mapping[str, Any]] = field(
        default_factory=lambda: DEFAULT_LIMITS
    )
    agent_level: str = "junior"
    order: OrderFacts | None = None

    def limit(self, name: str) -> float:
        """The agent level's limit: the shop's value, else the level's
        default, else the junior default (an unknown level)."""
        default = DEFAULT_LIMITS.get(self.agent_level, DEFAULT_LIMITS["junior"])
        value = (self.authority_limits.get(self.agent_level) or {}).get(name)
        return float(default[name] if value is None else value)


NO_CONTEXT = GuardContext()
