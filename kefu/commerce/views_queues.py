"""The work-queue page: one tab per queue (late shipment, payment reminders,
stalled parcels, invoices due) for the shops the user works in, and the
payment-reminder success rate."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kefu.accounts import queries as accounts_queries
from kefu.core.errors import ActionError

from . import actions, queues
from .models import TaskKind

SUCCESS_RATE_DAYS = 30


def _date(value: str | None, default: dt.date) -> dt.date:
    try:
        return dt.date.fromisoformat(value) if value else default
    except ValueError:
        return default


@login_required
def work_queues(request: HttpRequest) -> HttpResponse:
    shops = accounts_queries.visible_shops(request.user).order_by("id")
    wanted = request.GET.get("shop")
    shop = shops.filter(slug=wanted).first() if wanted else shops.first()
    if shop is None:
        return render(request, "commerce/queues.html", {"forbidden": True}, status=403)
    kind = request.GET.get("tab")
    if kind not in TaskKind.values:
        kind = TaskKind.LATE_SHIPMENT
    now = timezone.now()
    today = now.astimezone(ZoneInfo(shop.time_zone)).date()
    end = _date(request.GET.get("to"), today)
    start = _date(request.GET.get("from"), end - dt.timedelta(days=SUCCESS_RATE_DAYS - 1))
    counts = queues.queue_counts(request.user, shop.id)
    labels = dict(TaskKind.choices)
    context = {
        "shops": shops,
        "shop": shop,
        "kind": kind,
        "kind_label": labels[kind],
        "guide": queues.queue_guide(kind, shop.id),
        "tabs": [
            {"kind": str(code), "label": labels[code], "count": counts[str(code)]}
            for code in queues.QUEUE_ORDER
        ],
        "rows": queues.queue_rows(request.user, shop.id, kind, now, shop.time_zone),
        "closed": queues.recently_closed(request.user, shop.id, kind),
        "rate": queues.reminder_success_rate(shop.id, start, end, shop.time_zone),
        "rate_from": start,
        "rate_to": end,
    }
    return render(request, "commerce/queues.html", context)


@login_required
@require_POST
def finish(request: HttpRequest, task_id: int) -> HttpResponse:
    dismiss = request.POST.get("action") == "dismiss"
    try:
        task = actions.finish_task(request.user, task_id, dismiss=dismiss)
    except ActionError as error:
        messages.error(request, error.message)
        return redirect(reverse("commerce:queues"))
    messages.success(
        request,
        (_("Dismissed order %(order)s.") if dismiss else _("Done: order %(order)s."))
        % {"order": task.order.external_id},
    )
    query = urlencode({"shop": task.shop.slug, "tab": task.kind})
    return redirect(f"{reverse('commerce:queues')}?{query}")
