"""Read helpers for the work-queue page: who sees which tasks, one row per
task with what the agent needs (masked buyer phone, how late, the
compensation, the seed's script) and the payment-reminder success rate."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

from django.db.models import Count, Q, QuerySet
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext, override, pgettext

from kefu.compliance import privacy

from . import queries, sweeps
from .models import TaskKind, TaskStatus, WorkTask
from .sweeps import NOT_PAID, PAID

QUEUE_ORDER = (
    TaskKind.LATE_SHIPMENT,
    TaskKind.PAYMENT_REMINDER,
    TaskKind.STALLED_PARCEL,
    TaskKind.INVOICE_DUE,
)

# What the seeds tell the agent to do (guide) and say (script), per queue.
GUIDES: dict[str, Promise] = {
    TaskKind.LATE_SHIPMENT: gettext_lazy(
        "Phone the buyer. Say clearly that the goods can ship, ask whether two days "
        "later is acceptable, and give an acceptable reason that has nothing to do with "
        "stock (for example, not enough packing staff). Compensation: %(percent)s%% of "
        "the paid amount, at most %(cap)s yuan, paid as Tmall points."
    ),
    TaskKind.PAYMENT_REMINDER: gettext_lazy(
        "Remind the buyer kindly, without pressure: the order can ship today once paid."
    ),
    TaskKind.STALLED_PARCEL: gettext_lazy(
        "Trace the parcel with the courier before the buyer asks; if it is lost, "
        "reship it and tell the buyer."
    ),
    TaskKind.INVOICE_DUE: gettext_lazy(
        "Issue the invoice by the promised date; its goods and amount must match the order."
    ),
}
LATE_GUIDE_UNCAPPED = gettext_lazy(
    "Phone the buyer. Say clearly that the goods can ship, ask whether two days "
    "later is acceptable, and give an acceptable reason that has nothing to do with "
    "stock (for example, not enough packing staff). Compensation: %(percent)s%% of "
    "the paid amount, paid as Tmall points."
)
SCRIPTS: dict[str, Promise] = {
    TaskKind.LATE_SHIPMENT: gettext_lazy(
        "Dear, your order is ready to ship. Our packing team is short-handed these days: "
        "would it be all right if it ships two days later? Sorry for the wait, and thank "
        "you for your understanding!"
    ),
    TaskKind.PAYMENT_REMINDER: gettext_lazy(
        "Dear~ we are about to arrange shipping~ if you pay now~ we can ship it for you today~"
    ),
    TaskKind.STALLED_PARCEL: gettext_lazy(
        "Dear, your parcel with %(courier)s has not updated for a while. We are already "
        "following it up with the courier and will tell you as soon as we hear back."
    ),
    TaskKind.INVOICE_DUE: gettext_lazy(
        "Dear, we will issue your invoice by %(date)s; its content and amount will match "
        "your order."
    ),
}


def _group_filter(user) -> Q | None:
    """None for supervisors (everything in their shops); otherwise the
    agent's own groups, each in its shop."""
    profile = getattr(user, "agent_profile", None)
    if profile is None:
        return Q(pk__in=[])
    if profile.is_supervisor:
        return None
    allowed = Q(pk__in=[])
    for shop_id, code in profile.skill_groups.values_list("shop_id", "code"):
        allowed |= Q(shop_id=shop_id, group_code=code)
    return allowed


def visible_tasks(user) -> QuerySet[WorkTask]:
    """Tasks of the user's shops: supervisors see every queue, agents the
    queues of their own groups."""
    profile = getattr(user, "agent_profile", None)
    if profile is None or not getattr(user, "is_authenticated", False):
        return WorkTask.objects.none()
    tasks = WorkTask.objects.filter(shop_id__in=profile.shops.values("id"))
    groups = _group_filter(user)
    return tasks if groups is None else tasks.filter(groups)


def queue_counts(user, shop_id: int) -> dict[str, int]:
    rows = (
        visible_tasks(user)
        .filter(shop_id=shop_id, status=TaskStatus.OPEN)
        .values("kind")
        .annotate(n=Count("id"))
    )
    counts = {str(kind): 0 for kind in QUEUE_ORDER}
    counts.update({row["kind"]: row["n"] for row in rows})
    return counts


@dataclass
class TaskRow:
    task: WorkTask
    order_number: str
    buyer: str
    phone: str
    waited: str
    waited_label: str
    overdue: bool
    compensation: Decimal | None
    script: str
    script_zh: str


def _duration(delta: dt.timedelta) -> str:
    minutes = max(int(delta.total_seconds() // 60), 0)
    if minutes < 60:
        return ngettext("%(n)d minute", "%(n)d minutes", minutes) % {"n": minutes}
    hours = minutes // 60
    if hours < 48:
        return ngettext("%(n)d hour", "%(n)d hours", hours) % {"n": hours}
    return _("%(days)d d %(hours)d h") % {"days": hours // 24, "hours": hours % 24}


def queue_guide(kind: str, shop_id: int) -> str:
    """What the seeds tell the agent to do in this queue, with the shop's own
    compensation rule for late shipments."""
    if kind != TaskKind.LATE_SHIPMENT:
        return str(GUIDES[kind])
    percent, cap = sweeps.late_shipment_rule(queries.settings_of(shop_id))
    if cap is None:
        return str(LATE_GUIDE_UNCAPPED) % {"percent": f"{percent.normalize():f}"}
    return str(GUIDES[kind]) % {
        "percent": f"{percent.normalize():f}",
        "cap": f"{cap.normalize():f}",
    }


def _script(task: WorkTask) -> str:
    script = str(SCRIPTS[task.kind])
    if task.kind == TaskKind.STALLED_PARCEL:
        script = script % {"courier": task.details.get("courier", "")}
    elif task.kind == TaskKind.INVOICE_DUE:
        script = script % {"date": task.details.get("promised_by", "")}
    return script


def _waited(task: WorkTask, now: dt.datetime, time_zone: str) -> tuple[str, str, bool]:
    """(how long, what it measures, whether it is past due)."""
    due = task.due_at or task.created_at
    if task.kind == TaskKind.LATE_SHIPMENT:
        return _duration(now - due), _("late by"), True
    if task.kind == TaskKind.STALLED_PARCEL:
        quiet = dt.datetime.fromisoformat(task.details.get("quiet_since", due.isoformat()))
        return _duration(now - quiet), _("no tracking update for"), True
    if task.kind == TaskKind.PAYMENT_REMINDER:
        ordered = dt.datetime.fromisoformat(task.details.get("ordered_at", due.isoformat()))
        return _duration(now - ordered), _("unpaid for"), False
    today = now.astimezone(ZoneInfo(time_zone)).date()
    promised = dt.date.fromisoformat(task.details.get("promised_by", today.isoformat()))
    days = (promised - today).days
    if days < 0:
        return ngettext("%(n)d day", "%(n)d days", -days) % {"n": -days}, _("overdue by"), True
    if days == 0:
        return pgettext("work queue", "today"), pgettext("work queue", "due"), False
    in_days = ngettext("in %(n)d day", "in %(n)d days", days) % {"n": days}
    return in_days, pgettext("work queue", "due"), False


def queue_rows(
    user, shop_id: int, kind: str, now: dt.datetime, time_zone: str, *, limit: int = 200
) -> list[TaskRow]:
    """The open tasks of one queue, most overdue first."""
    tasks = (
        visible_tasks(user)
        .filter(shop_id=shop_id, kind=kind, status=TaskStatus.OPEN)
        .select_related("order")
        .order_by("due_at", "id")[:limit]
    )
    rows = []
    for task in tasks:
        order = task.order
        script = _script(task)
        with override("zh-hans"):
            script_zh = _script(task)
        waited, waited_label, overdue = _waited(task, now, time_zone)
        compensation = task.details.get("compensation")
        rows.append(
            TaskRow(
                task=task,
                order_number=order.external_id,
                buyer=order.buyer_account,
                phone=privacy.mask(order.receiver_phone, privacy.PHONE)
                if order.receiver_phone
                else "",
                waited=waited,
                waited_label=waited_label,
                overdue=overdue,
                compensation=Decimal(compensation) if compensation else None,
                script=script,
                script_zh=script_zh,
            )
        )
    return rows


def recently_closed(user, shop_id: int, kind: str, *, limit: int = 20) -> list[WorkTask]:
    return list(
        visible_tasks(user)
        .filter(shop_id=shop_id, kind=kind)
        .exclude(status=TaskStatus.OPEN)
        .select_related("order", "done_by__agent_profile")
        .order_by("-id")[:limit]
    )


@dataclass
class SuccessRate:
    paid: int
    decided: int

    @property
    def percent(self) -> Decimal | None:
        if not self.decided:
            return None
        return (Decimal(100) * self.paid / self.decided).quantize(
            Decimal("0.1"), rounding=ROUND_HALF_UP
        )


def reminder_success_rate(
    shop_id: int, start: dt.date, end: dt.date, time_zone: str = "Asia/Shanghai"
) -> SuccessRate:
    """Payment reminders made from `start` to `end` (calendar days in the
    shop's time zone, both included) whose result is known: paid ÷ decided."""
    zone = ZoneInfo(time_zone)
    since = dt.datetime.combine(start, dt.time(), tzinfo=zone)
    until = dt.datetime.combine(end + dt.timedelta(days=1), dt.time(), tzinfo=zone)
    counts = WorkTask.objects.filter(
        shop_id=shop_id,
        kind=TaskKind.PAYMENT_REMINDER,
        due_at__gte=since,
        due_at__lt=until,
        result__in=(PAID, NOT_PAID),
    ).aggregate(decided=Count("id"), paid=Count("id", filter=Q(result=PAID)))
    return SuccessRate(paid=counts["paid"], decided=counts["decided"])
