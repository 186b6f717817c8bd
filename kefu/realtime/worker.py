"""The embedded task worker: idempotent sweeps run in the server process.
Scaled deployments may run `kefu sweep --forever` as a separate worker instead;
running both is safe because every sweep is idempotent."""

from __future__ import annotations

import asyncio
import logging

from channels.db import database_sync_to_async
from django.conf import settings

logger = logging.getLogger(__name__)


def run_sweeps() -> dict:
    from kefu.accounts import actions as account_actions
    from kefu.bot import tasks as bot_tasks
    from kefu.commerce import sweeps as commerce_sweeps
    from kefu.routing import tasks as routing_tasks

    return {
        "agents_set_offline": account_actions.set_unseen_agents_offline(
            settings.KEFU_PRESENCE_TIMEOUT_SECONDS
        ),
        "assigned_from_queue": routing_tasks.sweep_queues(),
        "quiet_bot_conversations_closed": bot_tasks.close_quiet_conversations(),
        "late_shipment_tasks": commerce_sweeps.sweep_late_shipments(),
        "payment_reminder_tasks": commerce_sweeps.sweep_payment_reminders(),
        "stalled_parcel_tasks": commerce_sweeps.sweep_stalled_parcels(),
        "invoice_due_tasks": commerce_sweeps.sweep_invoices_due(),
    }


async def sweep_forever() -> None:
    from kefu.realtime.publish import collecting, send_events

    while True:
        await asyncio.sleep(settings.KEFU_SWEEP_SECONDS)
        try:
            _, events = await database_sync_to_async(collecting)(run_sweeps)
            await send_events(events)
        except Exception:  # noqa: BLE001 - the loop must survive a failed sweep
            logger.exception("sweep failed")
