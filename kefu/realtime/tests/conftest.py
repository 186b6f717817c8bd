import json

import pytest
import pytest_asyncio
from channels.db import database_sync_to_async
from channels.layers import channel_layers
from channels.testing import WebsocketCommunicator
from django.db import connections

from kefu.accounts.actions import open_session
from kefu.asgi import router
from kefu.inbox import writer


@pytest_asyncio.fixture(autouse=True)
async def _fresh_layer_and_writer():
    channel_layers.backends.clear()
    yield
    await writer.shutdown()
    # The database thread of sync_to_async keeps its connection: close it, or
    # PostgreSQL refuses to drop the test database at the end.
    await database_sync_to_async(connections.close_all)()
    layer = channel_layers.backends.get("default")
    if layer is not None and hasattr(layer, "flush"):
        try:
            await layer.flush()
        except NotImplementedError:
            pass
    channel_layers.backends.clear()


class Socket:
    """A communicator that speaks JSON frames and can wait for a frame type."""

    def __init__(self, path: str, cookie: str | None = None):
        headers = [(b"origin", b"http://testserver"), (b"host", b"testserver")]
        if cookie:
            headers.append((b"cookie", f"sessionid={cookie}".encode()))
        self.communicator = WebsocketCommunicator(router, path, headers=headers)

    async def connect(self):
        connected, code = await self.communicator.connect(timeout=5)
        assert connected, code
        return self

    async def send(self, frame):
        if isinstance(frame, str):
            await self.communicator.send_to(text_data=frame)
        else:
            await self.communicator.send_json_to(frame)

    async def recv(self, timeout: float = 5):
        return json.loads(await self.communicator.receive_from(timeout=timeout))

    async def expect(self, frame_type: str, timeout: float = 5, where=None, **match):
        """Frames until one of this type (and fields); fails with what came instead."""
        seen = []
        while True:
            frame = await self.recv(timeout)
            if (
                frame["type"] == frame_type
                and all(frame.get(k) == v for k, v in match.items())
                and (where is None or where(frame))
            ):
                return frame
            seen.append(frame)
            assert len(seen) < 20, f"no {frame_type} frame among {seen}"

    async def nothing(self, timeout: float = 0.3):
        assert await self.communicator.receive_nothing(timeout=timeout)

    async def close(self):
        await self.communicator.disconnect()


@pytest.fixture
def sockets():
    opened = []

    async def open_socket(path, cookie=None):
        socket = await Socket(path, cookie).connect()
        opened.append(socket)
        return socket

    yield open_socket


async def agent_cookie(user):
    return await database_sync_to_async(open_session)(user)
