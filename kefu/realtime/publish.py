"""Events leave only after the transaction that made them commits.

Actions call `publish_on_commit(event)`. Code on the event loop runs actions
through `run_action`, which collects the committed events and sends them from
the loop; anywhere else (HTTP views in a worker thread, CLI, admin) they are
sent through `async_to_sync` right after commit."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from django.db import transaction

from kefu.core.db import retry_on_conflict

from .events import Event, encode

T = TypeVar("T")
_local = threading.local()


def publish_on_commit(event: Event) -> None:
    transaction.on_commit(lambda: _committed(event))


def _committed(event: Event) -> None:
    collector = getattr(_local, "collector", None)
    if collector is not None:
        collector.append(event)
    else:
        send_events_sync([event])


def collecting(fn: Callable[..., T], *args: Any, **kwargs: Any) -> tuple[T, list[Event]]:
    """Call `fn` and return its result with the events its commits released."""
    previous = getattr(_local, "collector", None)
    events: list[Event] = []
    _local.collector = events
    try:
        result = fn(*args, **kwargs)
    finally:
        _local.collector = previous
    return result, events


async def run_action(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """From the event loop: run a sync action in the database thread, then publish."""
    result, events = await database_sync_to_async(collecting)(
        retry_on_conflict, fn, *args, **kwargs
    )
    await send_events(events)
    return result


def to_layer_message(event: Event) -> dict[str, Any]:
    message = {"type": "kefu.event", "frame": encode(event.frame()), "kind": event.type}
    origin = getattr(event, "origin", "")
    if origin:
        message["origin"] = origin
    staff = getattr(event, "staff_frame", None)
    staff_frame = staff() if staff is not None else None
    if staff_frame is not None:  # agents and supervisors get buyer data masked
        message["staff_frame"] = encode(staff_frame)
    return message


async def send_events(events: Iterable[Event]) -> None:
    layer = get_channel_layer()
    if layer is None:
        return
    sends = [
        (group, message)
        for event in events
        for message in (to_layer_message(event),)
        for group in event.groups
    ]
    if hasattr(layer, "group_send_many"):
        await layer.group_send_many(sends)  # one round trip for the batch
        return
    for group, message in sends:
        await layer.group_send(group, message)


def send_events_sync(events: list[Event]) -> None:
    if events:
        async_to_sync(send_events)(events)
