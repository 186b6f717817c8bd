"""The supervisors' after-sales page: cases by step of the seven, what waits
for approval (price changes, concessions, cases), and the dispute rate of the
shop and its products over the last 30 days."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from kefu.accounts import queries as accounts_queries
from kefu.accounts.models import Shop
from kefu.core.errors import ActionError

from . import actions, cases, queries
from .models import (
    CASE_STEPS,
    AfterSalesCase,
    ApprovalState,
    CaseState,
    Compensation,
    OrderChange,
    Product,
)

OPEN_STEPS = CASE_STEPS[:-2]  # not yet archived


def _shops(request):
    return Shop.objects.filter(id__in=accounts_queries.supervised_shop_ids(request.user)).order_by(
        "id"
    )


def _percent(rate: queries.DisputeRate) -> str:
    return f"{rate.rate * 100:.2f}"


@login_required
def overview(request: HttpRequest) -> HttpResponse:
    shops = _shops(request)
    wanted = request.GET.get("shop")
    shop = shops.filter(slug=wanted).first() if wanted else shops.first()
    if shop is None:
        return render(request, "commerce/cases.html", {"forbidden": True}, status=403)
    counts = dict(
        AfterSalesCase.objects.filter(shop=shop)
        .values_list("state")
        .annotate(n=Count("id"))
        .values_list("state", "n")
    )
    pending = ApprovalState.PENDING
    open_cases = (
        AfterSalesCase.objects.filter(shop=shop, state__in=OPEN_STEPS)
        .select_related("order")
        .order_by("created_at")[:100]
    )
    disputed_products = (
        Product.objects.filter(shop=shop, orderitem__order__cases__platform_intervention=True)
        .distinct()
        .order_by("name")[:20]
    )
    context = {
        "shop": shop,
        "shops": shops,
        "steps": [(state, label, counts.get(state, 0)) for state, label in CaseState.choices],
        "open_cases": open_cases,
        "changes": OrderChange.objects.filter(order__shop=shop, approval=pending)
        .select_related("order", "requested_by__agent_profile")
        .order_by("created_at")[:100],
        "concessions": Compensation.objects.filter(shop=shop, approval=pending)
        .select_related("order", "requested_by__agent_profile")
        .order_by("created_at")[:100],
        "case_approvals": AfterSalesCase.objects.filter(shop=shop, approval=pending)
        .select_related("order")
        .order_by("created_at")[:100],
        "dispute": queries.dispute_rate(shop.id),
        "product_disputes": [
            (product, rate, _percent(rate))
            for product in disputed_products
            for rate in [queries.dispute_rate(shop.id, product_id=product.id)]
        ],
    }
    context["dispute_percent"] = _percent(context["dispute"])
    context["waiting"] = sum(
        len(context[name]) for name in ("changes", "concessions", "case_approvals")
    )
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
