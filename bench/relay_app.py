"""Bare ASGI WebSocket relay: the ceiling for bench/chat_load.py.

No framework, no database, no channel layer: one uvicorn process keeps the
sockets in dictionaries and relays frames between them. It speaks the same
JSON frame shapes as Kefu's widget and workbench endpoints (docs/PROTOCOL.md),
so the benchmark's client code measures it unchanged:

* ``/ws/widget/?token=c<i>.a<j>`` -- customer ``i``, served by agent ``j``;
  customer ``i``'s conversation id is ``i``.
* ``/ws/agent/?agent=a<j>`` -- agent ``j`` (no cookie needed).
* ``GET /healthz`` -- 200, for the readiness poll.

A customer's ``send`` is answered with an ``ack`` (the message object) and
relayed to the agent as a ``message`` frame, also echoed to the sender's own
socket as the product does (``KEFU_RELAY_ECHO=0``: no echo); the first message of a
conversation is preceded by a ``conversation`` frame to the agent, as when the
product assigns it. An agent's ``send`` is acked and relayed to the customer
of ``conversation_id``. Each frame is parsed once and encoded once, like a
lean real server would. Run it with the same uvicorn flags as the product:

    uvicorn --app-dir bench relay_app:app --ws websockets ...
"""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from urllib.parse import parse_qs

# The product also delivers each message to the sender's own socket (other tabs share the
# conversation's / agent's group); so does the relay, so the load client does the same work
# per message against both. KEFU_RELAY_ECHO=0 turns it off.
ECHO = os.environ.get("KEFU_RELAY_ECHO", "1") != "0"

_loads = json.loads
_dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode

# customer index -> ASGI send; agent index -> ASGI send
customers: dict[int, object] = {}
agents: dict[int, object] = {}
# conversation (= customer index) -> agent index; last seq per conversation
conv_agent: dict[int, int] = {}
conv_seq: dict[int, int] = {}
opened: set[int] = set()
_next_id = 0


def _message(conv: int, client_id: str, sender_type: str, text: str) -> dict:
    global _next_id
    _next_id += 1
    seq = conv_seq.get(conv, 0) + 1
    conv_seq[conv] = seq
    return {
        "id": _next_id,
        "conversation_id": conv,
        "seq": seq,
        "client_id": client_id,
        "sender_type": sender_type,
        "sender_name": sender_type,
        "text": text,
        "created_at": datetime.now(UTC).isoformat(),
    }


async def _send_text(send, text: str) -> None:
    try:
        await send({"type": "websocket.send", "text": text})
    except Exception:  # the peer went away; a relay drops the frame
        pass


def _error(code: str, client_id: str | None = None) -> dict:
    return {
        "type": "websocket.send",
        "text": _dumps({"type": "error", "code": code, "message": code, "client_id": client_id}),
    }


async def _widget(scope, receive, send, qs: dict[str, list[str]]) -> None:
    token = (qs.get("token") or [""])[0]
    try:
        c_part, a_part = token.split(".")
        cust, agent = int(c_part.lstrip("c")), int(a_part.lstrip("a"))
    except ValueError:
        await send({"type": "websocket.close", "code": 4401})
        return
    await send({"type": "websocket.accept"})
    customers[cust] = send
    conv_agent[cust] = agent
    try:
        while True:
            event = await receive()
            if event["type"] == "websocket.disconnect":
                return
            raw = event.get("text") or (event.get("bytes") or b"").decode()
            try:
                frame = _loads(raw)
            except ValueError:
                await send(_error("bad_json"))
                continue
            kind = frame.get("type")
            if kind == "ping":
                await send({"type": "websocket.send", "text": '{"type":"pong"}'})
                continue
            if kind != "send":
                await send(_error("bad_frame"))
                continue
            client_id = frame.get("client_id")
            msg = _message(cust, client_id, "customer", frame.get("text", ""))
            await send(
                {
                    "type": "websocket.send",
                    "text": _dumps({"type": "ack", "client_id": client_id, "message": msg}),
                }
            )
            agent_send = agents.get(agent)
            if agent_send is None:
                continue
            if cust not in opened:
                opened.add(cust)
                await _send_text(
                    agent_send,
                    _dumps(
                        {
                            "type": "conversation",
                            "conversation": {
                                "id": cust,
                                "status": "open",
                                "agent_id": agent,
                                "last_seq": msg["seq"],
                            },
                        }
                    ),
                )
            frame_text = _dumps({"type": "message", "message": msg})
            if ECHO:
                await _send_text(send, frame_text)
            await _send_text(agent_send, frame_text)
    finally:
        if customers.get(cust) is send:
            del customers[cust]


async def _agent(scope, receive, send, qs: dict[str, list[str]]) -> None:
    try:
        agent = int((qs.get("agent") or [""])[0].lstrip("a"))
    except ValueError:
        await send({"type": "websocket.close", "code": 4401})
        return
    await send({"type": "websocket.accept"})
    agents[agent] = send
    try:
        while True:
            event = await receive()
            if event["type"] == "websocket.disconnect":
                return
            raw = event.get("text") or (event.get("bytes") or b"").decode()
            try:
                frame = _loads(raw)
            except ValueError:
                await send(_error("bad_json"))
                continue
            kind = frame.get("type")
            if kind == "ping":
                await send({"type": "websocket.send", "text": '{"type":"pong"}'})
                continue
            if kind != "send":
                continue  # read / status / sync: nothing to do in a relay
            client_id = frame.get("client_id")
            conv = frame.get("conversation_id")
            if conv_agent.get(conv) != agent:
                await send(_error("not_found", client_id))
                continue
            msg = _message(conv, client_id, "agent", frame.get("text", ""))
            await send(
                {
                    "type": "websocket.send",
                    "text": _dumps({"type": "ack", "client_id": client_id, "message": msg}),
                }
            )
            frame_text = _dumps({"type": "message", "message": msg})
            if ECHO:
                await _send_text(send, frame_text)
            cust_send = customers.get(conv)
            if cust_send is not None:
                await _send_text(cust_send, frame_text)
    finally:
        if agents.get(agent) is send:
            del agents[agent]


async def app(scope, receive, send) -> None:
    kind = scope["type"]
    if kind == "websocket":
        event = await receive()  # websocket.connect
        if event["type"] != "websocket.connect":
            return
        qs = parse_qs(scope.get("query_string", b"").decode())
        path = scope["path"]
        if path == "/ws/widget/":
            await _widget(scope, receive, send, qs)
        elif path == "/ws/agent/":
            await _agent(scope, receive, send, qs)
        else:
            await send({"type": "websocket.close", "code": 4404})
    elif kind == "http":
        status, body = (200, b"ok") if scope["path"] == "/healthz" else (404, b"not found")
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [
                    (b"content-type", b"text/plain"),
                    (b"content-length", str(len(body)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})
    elif kind == "lifespan":
        while True:
            event = await receive()
            if event["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif event["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
