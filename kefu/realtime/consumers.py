"""WebSocket transport: parse frames, check access, call one action, answer.
No business logic here (it lives in the apps' actions)."""

from __future__ import annotations

import asyncio
import functools
import json
import logging
import time
from typing import Any
from urllib.parse import parse_qs

from channels.db import database_sync_to_async
from channels.exceptions import StopConsumer
from channels.generic.websocket import AsyncWebsocketConsumer
from channels.layers import get_channel_layer
from django.utils import translation
from django.utils.translation import gettext as _

from kefu.accounts import actions as account_actions
from kefu.accounts import queries as account_queries
from kefu.core.errors import ActionError
from kefu.core.text import clean_client_id, clean_message_text
from kefu.inbox import actions as inbox_actions
from kefu.inbox import queries as inbox_queries
from kefu.inbox.connectors import widget
from kefu.inbox.models import SenderType
from kefu.inbox.serializers import conversation_public
from kefu.inbox.writer import writer

from .events import agent_group, conversation_group, encode, supervisors_group
from .publish import run_action

logger = logging.getLogger(__name__)

CLOSE_UNAUTHENTICATED = 4401
CLOSE_FORBIDDEN = 4403
MAX_FRAME_BYTES = 64 * 1024
MAX_HOLD_SECONDS = 3600
HEARTBEAT_WRITE_SECONDS = 20


def _int(value: Any, name: str, minimum: int = 0) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ActionError(
            _("%(name)s must be a whole number of at least %(min)d.")
            % {"name": name, "min": minimum},
            code="bad_frame",
        )
    return value


class BaseConsumer(AsyncWebsocketConsumer):
    """Common framing. `dispatch` skips Channels' per-event database-connection
    hop (PERFORMANCE.md, cause 2): handlers here touch the database only through
    `run_action`/`database_sync_to_async`, which manage connections themselves."""

    language = "zh-hans"

    async def __call__(self, scope, receive, send):
        """Two pumps instead of Channels' `await_many_dispatch`: frames from the
        socket and events from the channel layer each keep their own order, no
        `asyncio.wait` runs per message, and waiting for an ack never holds back
        pushes to this socket. Sends are serialised by a lock."""
        self.scope = scope
        self.channel_layer = get_channel_layer(self.channel_layer_alias)
        self.channel_name = await self.channel_layer.new_channel()
        self.channel_receive = functools.partial(self.channel_layer.receive, self.channel_name)
        self.base_send = send
        self._send_lock = asyncio.Lock()

        async def pump(source):
            while True:
                await self.dispatch(await source())

        pumps = [
            asyncio.ensure_future(pump(receive)),
            asyncio.ensure_future(pump(self.channel_receive)),
        ]
        try:
            done, _ = await asyncio.wait(pumps, return_when=asyncio.FIRST_EXCEPTION)
            for task in done:
                error = task.exception()
                if error is not None and not isinstance(error, StopConsumer):
                    raise error
        finally:
            for task in pumps:
                task.cancel()
            await asyncio.gather(*pumps, return_exceptions=True)

    async def send(self, text_data=None, bytes_data=None, close=False):
        async with self._send_lock:
            await super().send(text_data=text_data, bytes_data=bytes_data, close=close)

    async def dispatch(self, message):
        handler = getattr(self, message["type"].replace(".", "_"), None)
        if handler is None:
            raise ValueError(f"No handler for message type {message['type']}")
        await handler(message)

    # Staff sockets get the staff's view of an event when it has one (a
    # buyer's personal data masked); the customer's widget gets it as written.
    staff = False

    async def kefu_event(self, event: dict) -> None:
        if event.get("origin") == self.channel_name:
            return  # my own message: already answered by its ack
        frame = event.get("staff_frame") if self.staff else None
        await self.send(text_data=frame or event["frame"])

    async def send_frame(self, frame: dict) -> None:
        await self.send(text_data=encode(frame))

    async def send_error(self, error: ActionError, client_id: Any = None) -> None:
        frame = {"type": "error", "code": error.code, "message": error.message}
        frame.update(getattr(error, "payload", None) or {})
        if isinstance(client_id, str):
            frame["client_id"] = client_id
        await self.send_frame(frame)

    async def receive(self, text_data=None, bytes_data=None):
        with translation.override(self.language):
            if text_data is None or len(text_data) > MAX_FRAME_BYTES:
                await self.send_error(
                    ActionError(_("Frames must be JSON text of at most 64 KB."), code="bad_frame")
                )
                return
            try:
                frame = json.loads(text_data)
            except ValueError:
                await self.send_error(
                    ActionError(_("The frame is not valid JSON."), code="bad_json")
                )
                return
            if not isinstance(frame, dict) or not isinstance(frame.get("type"), str):
                await self.send_error(
                    ActionError(_("A frame must be an object with a type."), code="bad_frame")
                )
                return
            handler = getattr(self, "on_" + frame["type"], None)
            if handler is None:
                await self.send_error(
                    ActionError(_("Unknown frame type."), code="bad_frame"), frame.get("client_id")
                )
                return
            try:
                await handler(frame)
            except ActionError as error:
                await self.send_error(error, frame.get("client_id"))
            except Exception:  # noqa: BLE001 - one bad frame must not drop the socket
                logger.exception("frame handler failed")
                await self.send_error(
                    ActionError(
                        _("Something went wrong on our side; please retry."), code="server_error"
                    ),
                    frame.get("client_id"),
                )

    async def on_ping(self, frame: dict) -> None:
        await self.send_frame({"type": "pong"})

    async def send_ack(self, result: inbox_actions.IngestResult) -> None:
        if result.error:
            await self.send_error(result.error, result.client_id)
            return
        frame: dict[str, Any] = {
            "type": "ack",
            "client_id": result.client_id,
            "message": result.message,
        }
        if result.duplicate:
            frame["duplicate"] = True
        await self.send_frame(frame)


def _language_of(scope) -> str:
    for name, value in scope.get("headers", []):
        if name == b"cookie" and b"django_language=en" in value:
            return "en"
    return "zh-hans"


class WidgetConsumer(BaseConsumer):
    """The customer's chat widget."""

    async def connect(self) -> None:
        self.language = _language_of(self.scope)
        query = parse_qs(self.scope.get("query_string", b"").decode())
        await self.accept()
        try:
            self.visitor = widget.read_token((query.get("token") or [None])[0])
            self.context = await database_sync_to_async(widget.visitor_context)(self.visitor)
        except widget.InvalidToken as error:
            await self.send_error(error)
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        self.conversation_id = self.context.conversation_id
        self.ip = (self.scope.get("client") or [None])[0]
        if self.conversation_id:
            await self.channel_layer.group_add(
                conversation_group(self.conversation_id), self.channel_name
            )

    async def disconnect(self, code) -> None:
        conversation_id = getattr(self, "conversation_id", None)
        if conversation_id:
            await self.channel_layer.group_discard(
                conversation_group(conversation_id), self.channel_name
            )

    async def on_send(self, frame: dict) -> None:
        client_id = clean_client_id(frame.get("client_id"))
        text = clean_message_text(frame.get("text"), self.context.max_message_chars)
        from kefu.core import ratelimit

        if not await ratelimit.ahit(
            widget.message_rate_key(self.visitor.visitor_id),
            self.context.messages_per_visitor,
            self.context.messages_window_seconds,
        ):
            raise ActionError(
                _("You are sending messages too fast. Please wait a moment."), code="rate_limited"
            )
        if self.conversation_id:
            result = await writer().submit(
                widget.customer_message(
                    self.conversation_id,
                    self.context.customer_name,
                    client_id,
                    text,
                    origin=self.channel_name,
                )
            )
            if not (result.error and result.error.code == "closed"):
                await self.send_ack(result)
                self._hand_to_bot(self.conversation_id, result)
                return
        conversation, result = await run_action(
            widget.open_for_visitor, self.visitor, text=text, client_id=client_id, ip=self.ip
        )
        await self._follow(conversation.id)
        self.context = await database_sync_to_async(widget.visitor_context)(self.visitor)
        public = await database_sync_to_async(conversation_public)(conversation)
        await self.send_frame({"type": "conversation", "conversation": public})
        await self.send_ack(result)
        self._hand_to_bot(conversation.id, result)

    def _hand_to_bot(self, conversation_id: int, result) -> None:
        """The bot answers after the ack, off this socket's path; its reply
        reaches the widget as a pushed message."""
        if result.bot_seq:
            from kefu.bot import actions as bot_actions

            task = asyncio.create_task(
                run_action(bot_actions.handle_customer_message, conversation_id, result.bot_seq)
            )
            _bot_tasks.add(task)
            task.add_done_callback(_bot_done)

    async def _follow(self, conversation_id: int) -> None:
        if self.conversation_id == conversation_id:
            return
        if self.conversation_id:
            await self.channel_layer.group_discard(
                conversation_group(self.conversation_id), self.channel_name
            )
        self.conversation_id = conversation_id
        await self.channel_layer.group_add(conversation_group(conversation_id), self.channel_name)

    async def on_sync(self, frame: dict) -> None:
        after_seq = _int(frame.get("after_seq", 0), "after_seq")
        data = await database_sync_to_async(widget.visitor_messages)(self.visitor, after_seq)
        if data["conversation_id"]:
            await self._follow(data["conversation_id"])
        await self.send_frame({"type": "messages", **data})


_bot_tasks: set[asyncio.Task] = set()


def _bot_done(task: asyncio.Task) -> None:
    _bot_tasks.discard(task)
    if not task.cancelled() and task.exception() is not None:
        logger.error("bot failed", exc_info=task.exception())


class AgentConsumer(BaseConsumer):
    """The agents' workbench."""

    staff = True

    async def connect(self) -> None:
        user = self.scope.get("user")
        self.language = _language_of(self.scope)
        await self.accept()
        if user is None or not user.is_authenticated:
            await self.send_error(ActionError(_("Please log in."), code="unauthenticated"))
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        try:
            self.profile = await database_sync_to_async(account_queries.profile_of)(user)
            self.supervised = await database_sync_to_async(account_queries.supervised_shop_ids)(
                user
            )
        except ActionError as error:
            await self.send_error(error)
            await self.close(code=CLOSE_FORBIDDEN)
            return
        self.user = user
        self.watching: set[int] = set()
        self.last_touch = time.monotonic()
        await database_sync_to_async(account_actions.touch_agent)(user.id)
        await self.channel_layer.group_add(agent_group(user.id), self.channel_name)
        for shop_id in self.supervised:
            await self.channel_layer.group_add(supervisors_group(shop_id), self.channel_name)

    async def disconnect(self, code) -> None:
        if not hasattr(self, "user"):
            return
        await self.channel_layer.group_discard(agent_group(self.user.id), self.channel_name)
        for shop_id in self.supervised:
            await self.channel_layer.group_discard(supervisors_group(shop_id), self.channel_name)
        for conversation_id in self.watching:
            await self.channel_layer.group_discard(
                conversation_group(conversation_id), self.channel_name
            )

    async def on_send(self, frame: dict) -> None:
        client_id = clean_client_id(frame.get("client_id"))
        conversation_id = _int(frame.get("conversation_id"), "conversation_id", 1)
        hold = frame.get("hold_seconds")
        if hold is not None:
            hold = _int(hold, "hold_seconds", 1)
            if hold > MAX_HOLD_SECONDS:
                raise ActionError(_("A promised time can be at most one hour."), code="bad_frame")
        # The shop's own limit is checked by the ingest, which knows the shop.
        text = clean_message_text(frame.get("text"), MAX_FRAME_BYTES)
        result = await writer().submit(
            inbox_actions.IngestRequest(
                conversation_id=conversation_id,
                sender_type=SenderType.AGENT,
                client_id=client_id,
                text=text,
                sender_id=self.user.id,
                sender_name=self.profile.display_name,
                hold_seconds=hold,
                supervised_shop_ids=self.supervised,
                origin=self.channel_name,
                agent_level=self.profile.level,
                language=self.language,
            )
        )
        await self.send_ack(result)

    async def on_ping(self, frame: dict) -> None:
        if time.monotonic() - self.last_touch > HEARTBEAT_WRITE_SECONDS:
            self.last_touch = time.monotonic()
            await database_sync_to_async(account_actions.touch_agent)(self.user.id)
        await self.send_frame({"type": "pong"})

    async def on_sync(self, frame: dict) -> None:
        conversation_id = _int(frame.get("conversation_id"), "conversation_id", 1)
        after_seq = _int(frame.get("after_seq", 0), "after_seq")
        messages = await database_sync_to_async(_agent_messages)(
            self.user, conversation_id, after_seq
        )
        await self.send_frame(
            {"type": "messages", "conversation_id": conversation_id, "messages": messages}
        )

    async def on_read(self, frame: dict) -> None:
        conversation_id = _int(frame.get("conversation_id"), "conversation_id", 1)
        seq = _int(frame.get("seq"), "seq")
        await run_action(inbox_actions.mark_read, self.user, conversation_id, seq)

    async def on_status(self, frame: dict) -> None:
        status = frame.get("status")
        if not isinstance(status, str):
            raise ActionError(_("status must be a string."), code="bad_frame")
        await run_action(account_actions.set_agent_status, self.user, status)

    async def on_check(self, frame: dict) -> None:
        """The composer's text, screened as the agent types (nothing stored)."""
        conversation_id = _int(frame.get("conversation_id"), "conversation_id", 1)
        text = frame.get("text")
        if not isinstance(text, str) or len(text) > MAX_FRAME_BYTES:
            raise ActionError(_("text must be a string."), code="bad_frame")
        findings = await database_sync_to_async(_check)(
            self.user, self.profile.level, conversation_id, text, self.language
        )
        await self.send_frame(
            {"type": "findings", "ref": frame.get("ref"), "text": text, "findings": findings}
        )

    async def on_watch(self, frame: dict) -> None:
        conversation_id = _int(frame.get("conversation_id"), "conversation_id", 1)
        await database_sync_to_async(account_queries.conversation_for)(self.user, conversation_id)
        if not self.supervised:
            raise ActionError(_("Only supervisors can watch conversations."), code="forbidden")
        self.watching.add(conversation_id)
        await self.channel_layer.group_add(conversation_group(conversation_id), self.channel_name)


def _check(user, level: str, conversation_id: int, text: str, language: str) -> list[dict]:
    from kefu.compliance import actions as compliance

    conversation = account_queries.conversation_for(user, conversation_id)
    return compliance.screen_outgoing(
        text, shop_id=conversation.shop_id, agent_level=level, language=language
    ).as_dicts()


def _agent_messages(user, conversation_id: int, after_seq: int) -> list[dict]:
    conversation = account_queries.conversation_for(user, conversation_id)
    return inbox_queries.messages_after(conversation.id, after_seq)
