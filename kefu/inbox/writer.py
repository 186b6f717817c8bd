"""Group commit for the hot path (PERFORMANCE.md, cause 4).

One writer per event loop takes every message that arrived while the previous
transaction ran and stores them in one transaction on its own database thread
(one persistent connection). Each sender is answered only after its batch has
committed, and the batch's events are published before the answers, so an ack
never precedes the message it acknowledges on other sockets."""

from __future__ import annotations

import asyncio
import logging
import weakref
from concurrent.futures import ThreadPoolExecutor

from django.conf import settings
from django.db import close_old_connections
from django.utils.translation import gettext as _

from kefu.core.db import retry_on_conflict
from kefu.core.errors import ActionError
from kefu.realtime.publish import collecting, send_events

from . import actions

logger = logging.getLogger(__name__)


class IngestWriter:
    def __init__(self) -> None:
        self.queue: asyncio.Queue[tuple[actions.IngestRequest, asyncio.Future]] = asyncio.Queue()
        self.executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="kefu-ingest")
        self.task: asyncio.Task | None = None

    async def submit(self, request: actions.IngestRequest) -> actions.IngestResult:
        loop = asyncio.get_running_loop()
        future: asyncio.Future = loop.create_future()
        self.queue.put_nowait((request, future))
        if self.task is None or self.task.done():
            self.task = loop.create_task(self.run())
        return await future

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        limit = settings.KEFU_INGEST_BATCH_MAX
        while True:
            batch = [await self.queue.get()]
            while len(batch) < limit and not self.queue.empty():
                batch.append(self.queue.get_nowait())
            requests = [request for request, _ in batch]
            try:
                results, events = await loop.run_in_executor(self.executor, _store, requests)
            except Exception as error:  # noqa: BLE001 - every sender must get an answer
                logger.exception("ingest batch failed")
                for _, future in batch:
                    if not future.done():
                        future.set_exception(error)
                continue
            try:
                await send_events(events)
            except Exception:  # noqa: BLE001 - stored messages stay acknowledged
                logger.exception("publishing ingest events failed")
            for (_, future), result in zip(batch, results, strict=True):
                if not future.done():
                    future.set_result(result)


def _store(requests: list[actions.IngestRequest]):
    close_old_connections()
    try:
        return collecting(retry_on_conflict, actions.ingest_messages, requests)
    except Exception:
        if len(requests) == 1:
            raise
        # One bad request must not sink the others: store them one by one.
        logger.warning("ingest batch of %d failed; retrying one by one", len(requests))
        results, events = [], []
        for request in requests:
            try:
                (result,), published = collecting(
                    retry_on_conflict, actions.ingest_messages, [request]
                )
            except Exception as error:  # noqa: BLE001
                logger.exception("ingest failed for one message: %s", error)
                result = actions.IngestResult(
                    client_id=request.client_id,
                    error=ActionError(
                        _("The message could not be stored; please retry."), code="server_error"
                    ),
                )
                published = []
            results.append(result)
            events.extend(published)
        return results, events


_writers: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, IngestWriter] = (
    weakref.WeakKeyDictionary()
)


def writer() -> IngestWriter:
    loop = asyncio.get_running_loop()
    instance = _writers.get(loop)
    if instance is None:
        instance = _writers[loop] = IngestWriter()
    return instance


def _close_connection() -> None:
    from django.db import connections

    connections.close_all()


async def shutdown() -> None:
    """Stop this loop's writer and close its database connection (tests, shutdown)."""
    loop = asyncio.get_running_loop()
    instance = _writers.pop(loop, None)
    if instance is None:
        return
    if instance.task is not None:
        instance.task.cancel()
    await loop.run_in_executor(instance.executor, _close_connection)
    instance.executor.shutdown(wait=True)
