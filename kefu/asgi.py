"""ASGI entry point: HTTP (Django, static files), WebSockets (Channels) and a
lifespan handler that starts the in-process sweeper."""

from __future__ import annotations

import asyncio
import gc
import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kefu.settings.dev")

from django.core.asgi import get_asgi_application  # noqa: E402

django_asgi_app = get_asgi_application()

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402
from django.contrib.staticfiles.handlers import ASGIStaticFilesHandler  # noqa: E402

from kefu.bot.warmup import start_warm_up  # noqa: E402
from kefu.realtime.routing import websocket_urlpatterns  # noqa: E402
from kefu.realtime.worker import sweep_forever  # noqa: E402

router = ProtocolTypeRouter(
    {
        "http": ASGIStaticFilesHandler(django_asgi_app),
        "websocket": AllowedHostsOriginValidator(
            AuthMiddlewareStack(URLRouter(websocket_urlpatterns))
        ),
    }
)


async def application(scope, receive, send):
    if scope["type"] == "lifespan":
        sweeper = None
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                # Everything loaded so far lives as long as the process: keep it
                # out of the cyclic collector, and collect young objects less
                # often (thousands of sockets make full collections slow).
                gc.collect()
                gc.freeze()
                gc.set_threshold(50_000, 20, 100)
                start_warm_up()
                if os.environ.get("KEFU_SWEEPER", "1") == "1":
                    sweeper = asyncio.get_running_loop().create_task(sweep_forever())
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                if sweeper:
                    sweeper.cancel()
                await send({"type": "lifespan.shutdown.complete"})
                return
    await router(scope, receive, send)
