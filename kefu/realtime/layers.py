"""The embedded channel layer: Channels' in-memory layer without its O(connections)
expiry walk on every send (PERFORMANCE.md, cause 1)."""

from __future__ import annotations

import asyncio
import time

from channels.exceptions import ChannelFull
from channels.layers import InMemoryChannelLayer
from channels_redis.pubsub import RedisPubSubChannelLayer


class LeanInMemoryChannelLayer(InMemoryChannelLayer):
    sweep_interval = 1.0

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self._last_sweep = 0.0

    async def receive(self, channel):
        """As the stock layer, but a consumer's queue lives as long as the consumer
        (the stock layer drops it when empty and builds a new one per message)."""
        self.require_valid_channel_name(channel)
        self._clean_expired()
        queue = self.channels.get(channel)
        if queue is None:
            queue = self.channels[channel] = asyncio.Queue(maxsize=self.get_capacity(channel))
        _, message = await queue.get()
        return message

    def _clean_expired(self) -> None:
        now = time.monotonic()
        if now - self._last_sweep < self.sweep_interval:
            return
        self._last_sweep = now
        InMemoryChannelLayer._clean_expired(self)
        # Queues of consumers that are gone: empty, nobody waiting on them.
        for name, queue in list(self.channels.items()):
            if queue.empty() and not getattr(queue, "_getters", None):
                del self.channels[name]

    async def send(self, channel, message):
        assert isinstance(message, dict), "message is not a dict"
        self.require_valid_channel_name(channel)
        queue = self.channels.get(channel)
        if queue is None:
            queue = self.channels[channel] = asyncio.Queue(maxsize=self.get_capacity(channel))
        try:
            # Events carry only immutable values (a pre-encoded frame), so a
            # shallow copy isolates receivers as well as the stock deepcopy.
            queue.put_nowait((time.time() + self.expiry, dict(message)))
        except asyncio.QueueFull:
            raise ChannelFull(channel) from None

    async def group_send(self, group, message):
        assert isinstance(message, dict), "Message is not a dict"
        self.require_valid_group_name(group)
        self._clean_expired()
        for channel in list(self.groups.get(group, {})):
            try:
                await self.send(channel, message)
            except ChannelFull:
                pass


class BatchingRedisPubSubChannelLayer(RedisPubSubChannelLayer):
    """channels_redis' pub/sub layer with `group_send_many`: the events of one
    ingest batch leave in one pipelined round trip per Redis shard, instead of
    one awaited PUBLISH each (which held back every ack of the batch).
    Uses the shard connection of channels_redis 4.3 (pinned in pyproject)."""

    async def group_send_many(self, sends: list[tuple[str, dict]]) -> None:
        layer = self._get_layer()
        by_shard: dict = {}
        for group, message in sends:
            group_channel = layer._get_group_channel_name(group)
            shard = layer._get_shard(group_channel)
            by_shard.setdefault(shard, []).append((group_channel, self.serialize(message)))
        for shard, items in by_shard.items():
            async with shard._lock:
                shard._ensure_redis()
                pipe = shard._redis.pipeline(transaction=False)
                for group_channel, data in items:
                    pipe.publish(group_channel, data)
                await pipe.execute()
