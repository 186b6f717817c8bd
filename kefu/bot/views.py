"""The knowledge editors' page: gaps the bot found, answers that did not help,
and FAQs due for review."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kefu.accounts.models import Shop
from kefu.core.errors import ActionError

from . import gaps, queries


def _editable_shops(request):
    from kefu.knowledge.queries import editable_shop_ids

    return Shop.objects.filter(id__in=editable_shop_ids(request.user)).order_by("id")


def _chosen_shop(request, shops):
    wanted = request.POST.get("shop") or request.GET.get("shop")
    if wanted:
        return shops.filter(slug=wanted).first()
    return shops.first()


@login_required
def gap_report(request: HttpRequest) -> HttpResponse:
    from kefu.knowledge import queries as knowledge_queries

    shops = _editable_shops(request)
    shop = _chosen_shop(request, shops)
    if shop is None:
        return render(request, "bot/gaps.html", {"forbidden": True}, status=403)
    try:
        days = max(1, min(int(request.GET.get("days", 30)), 365))
    except ValueError:
        days = 30
    groups = gaps.group_questions(gaps.gap_turns(shop.id, days=days))
    names = queries.intent_names(shop, get_language())
    for group in groups:
        group.intent_name = names.get(group.intent, group.intent)
    context = {"shops": shops, "shop": shop, "days": days, "groups": groups}
    context.update(knowledge_queries.faq_health(shop))
    return render(request, "bot/gaps.html", context)


@login_required
@require_POST
def draft_from_gap(request: HttpRequest) -> HttpResponse:
    shops = _editable_shops(request)
    shop = _chosen_shop(request, shops)
    if shop is None:
        return render(request, "bot/gaps.html", {"forbidden": True}, status=403)
    turn_ids = [int(v) for v in request.POST.getlist("turn") if v.isdigit()]
    try:
        faq = gaps.draft_faq_from_gap(request.user, shop, turn_ids)
    except ActionError as error:
        messages.error(request, error.message)
        return redirect(f"{reverse('bot:gaps')}?shop={shop.slug}")
    messages.success(
        request, _("Draft FAQ #%(id)d created. Write its answer and publish it.") % {"id": faq.id}
    )
    return redirect(reverse("admin:knowledge_faq_change", args=[faq.id]))
