"""Fixed-window rate limits shared by every server process.

Scaled mode counts in Redis (one INCR per hit, async on the event loop, so a
WebSocket message never blocks the loop on a cache call); the embedded mode
is one process and counts in memory."""

from __future__ import annotations

import asyncio
import threading
import time
import weakref

from django.conf import settings


def _window_key(key: str, window: int, now: float) -> str:
    return f"kefu:rl:{key}:{int(now // window)}"


class _MemoryCounter:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: dict[str, tuple[float, int]] = {}
        self._last_sweep = 0.0

    def incr(self, key: str, window: int, now: float) -> int:
        with self._lock:
            if now - self._last_sweep > 60:
                self._counts = {k: v for k, v in self._counts.items() if v[0] > now}
                self._last_sweep = now
            expires, count = self._counts.get(key, (now + window, 0))
            self._counts[key] = (expires, count + 1)
            return count + 1

    def reset(self) -> None:
        with self._lock:
            self._counts.clear()


_memory = _MemoryCounter()
_async_clients: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, object] = (
    weakref.WeakKeyDictionary()
)
_sync_client = None


def _redis_url() -> str:
    return getattr(settings, "REDIS_URL", "")


def hit(key: str, limit: int, window: int) -> bool:
    """Count one hit; True while the count stays within `limit`."""
    now = time.time()
    wkey = _window_key(key, window, now)
    url = _redis_url()
    if not url:
        return _memory.incr(wkey, window, now) <= limit
    global _sync_client
    if _sync_client is None:
        import redis

        _sync_client = redis.Redis.from_url(url, socket_timeout=5)
    pipe = _sync_client.pipeline()
    pipe.incr(wkey)
    pipe.expire(wkey, window + 1)
    count, _ = pipe.execute()
    return int(count) <= limit


async def ahit(key: str, limit: int, window: int) -> bool:
    now = time.time()
    wkey = _window_key(key, window, now)
    url = _redis_url()
    if not url:
        return _memory.incr(wkey, window, now) <= limit
    loop = asyncio.get_running_loop()
    client = _async_clients.get(loop)
    if client is None:
        import redis.asyncio as aredis

        # A blocking pool waits for a free connection instead of raising
        # "Too many connections" when a burst of visitors arrives at once.
        pool = aredis.BlockingConnectionPool.from_url(
            url, max_connections=32, timeout=10, socket_timeout=5
        )
        client = aredis.Redis(connection_pool=pool)
        _async_clients[loop] = client
    # One round trip per hit; the expiry is set once, by the window's first hit
    # (a key left without one never blocks anybody: the next window has a new key).
    count = int(await client.incr(wkey))  # type: ignore[attr-defined]
    if count == 1:
        await client.expire(wkey, window + 1)  # type: ignore[attr-defined]
    return count <= limit


def reset() -> None:
    """Tests: forget every count."""
    _memory.reset()
    url = _redis_url()
    if url:
        import redis

        client = redis.Redis.from_url(url)
        keys = list(client.scan_iter("kefu:rl:*"))
        if keys:
            client.delete(*keys)
        client.close()
