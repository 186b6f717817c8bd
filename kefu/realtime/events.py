"""Typed events that actions publish after commit. Each knows its groups and
encodes its WebSocket frame once, however many sockets receive it."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, ClassVar


def conversation_group(conversation_id: int) -> str:
    return f"conversation.{conversation_id}"


def agent_group(user_id: int) -> str:
    return f"agent.{user_id}"


def supervisors_group(shop_id: int) -> str:
    return f"shop.{shop_id}.supervisors"


def encode(frame: dict[str, Any]) -> str:
    return json.dumps(frame, ensure_ascii=False, separators=(",", ":"))


@dataclass(frozen=True, slots=True)
class Event:
    type: ClassVar[str] = "event"
    groups: tuple[str, ...]

    def frame(self) -> dict[str, Any]:
        raise NotImplementedError


@dataclass(frozen=True, slots=True)
class MessageCreated(Event):
    """A new message; to the customer's sockets and the assigned agent's."""

    type: ClassVar[str] = "message"
    message: dict[str, Any] = field(default_factory=dict)
    origin: str = ""  # the sender's socket, which is answered by its ack instead
    # The staff's view when it differs (a buyer's personal data masked).
    staff_message: dict[str, Any] | None = None

    def frame(self) -> dict[str, Any]:
        return {"type": "message", "message": self.message}

    def staff_frame(self) -> dict[str, Any] | None:
        if self.staff_message is None:
            return None
        return {"type": "message", "message": self.staff_message}


@dataclass(frozen=True, slots=True)
class ConversationChanged(Event):
    """Opened, assigned, transferred, read or closed. `public` is what the
    customer's widget may see; `summary` is the agents' view."""

    type: ClassVar[str] = "conversation"
    summary: dict[str, Any] = field(default_factory=dict)

    def frame(self) -> dict[str, Any]:
        return {"type": "conversation", "conversation": self.summary}


@dataclass(frozen=True, slots=True)
class AgentStatusChanged(Event):
    type: ClassVar[str] = "status"
    status: str = ""

    def frame(self) -> dict[str, Any]:
        return {"type": "status", "status": self.status}


@dataclass(frozen=True, slots=True)
class AgentChanged(Event):
    """An agent's status or load changed; to the supervisors of their shops."""

    type: ClassVar[str] = "agent"
    agent: dict[str, Any] = field(default_factory=dict)

    def frame(self) -> dict[str, Any]:
        return {"type": "agent", "agent": self.agent}


@dataclass(frozen=True, slots=True)
class QueueChanged(Event):
    type: ClassVar[str] = "queue"
    shop_id: int = 0
    queue: list[dict[str, Any]] = field(default_factory=list)

    def frame(self) -> dict[str, Any]:
        return {"type": "queue", "shop_id": self.shop_id, "groups": self.queue}


@dataclass(frozen=True, slots=True)
class OverrideRequested(Event):
    """An agent asks the shop's supervisors to allow a blocked send."""

    type: ClassVar[str] = "override"
    override: dict[str, Any] = field(default_factory=dict)

    def frame(self) -> dict[str, Any]:
        return {"type": "override", "override": self.override}
