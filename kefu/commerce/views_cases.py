"""The supervisors' after-sales page: cases by step of the seven, what waits
for approval (price changes, concessions, cases), and the dispute rate of the
shop and its products over the last 30 days."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from kefu.accounts import queries as accounts_queries
from kefu.accounts.models import Shop
from kefu.core.errors import ActionError

from . import actions, cases, queries


def _shops(request):
    return Shop.objects.filter(id__in=accounts_queries.supervised_shop_ids(request.user)).order_by(
        "id"
    )


@login_required
def overview(request: HttpRequest) -> HttpResponse:
    shops = _shops(request)
    wanted = request.GET.get("shop")
    shop = shops.filter(slug=wanted).first() if wanted else shops.first()
    if shop is None:
        return render(request, "commerce/cases.html", {"forbidden": True}, status=403)
    context = {"shop": shop, "shops": shops, **queries.after_sales_board(shop)}
    return render(request, "commerce/cases.html", context)


@login_required
@require_POST
def decide(request: HttpRequest, kind: str, item_id: int) -> HttpResponse:
    approve = request.POST.get("decision") == "approve"
    note = request.POST.get("note", "")
    deciders = {
        "change": actions.decide_change,
        "concession": actions.decide_compensation,
        "case": cases.decide,
    }
    try:
        if kind not in deciders:
            raise ActionError("unknown kind")
        deciders[kind](request.user, item_id, approve, note=note)
    except ActionError as error:
        messages.error(request, error.message)
    return redirect(reverse("commerce:cases") + f"?shop={request.POST.get('shop', '')}")
