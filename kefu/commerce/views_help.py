"""The help center's order pages: a buyer finds their orders with an order
number and the phone's last digits, tracks them, and requests a return or
exchange that the shop's policy pre-checks and explains."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import get_language
from django.views.decorators.http import require_http_methods

from kefu.accounts.models import Shop
from kefu.compliance.privacy import ADDRESS, PHONE, mask
from kefu.core.errors import ActionError, NotFound
from kefu.knowledge.views import _too_many

from . import selfservice
from .cases import PolicyRefused
from .models import OrderStatus

AFTER_SALES_STATES = (OrderStatus.DELIVERED, OrderStatus.COMPLETED)
REASONS = ("no_reason", "quality", "not_as_described", "wrong_item", "missing_item")
CONDITIONS = ("intact", "opened", "used", "defective")


def _language_key() -> str:
    return "en" if (get_language() or "").startswith("en") else "zh-hans"


@require_http_methods(["GET", "POST"])
def find_orders(request: HttpRequest, shop_slug: str) -> HttpResponse:
    limited = _too_many(request)
    if limited:
        return limited
    shop = get_object_or_404(Shop, slug=shop_slug)
    context: dict = {"shop": shop, "number": ""}
    if request.method == "POST":
        context["number"] = request.POST.get("number", "")[:64]
        try:
            order = selfservice.verify_buyer(
                shop,
                request.POST.get("number", ""),
                request.POST.get("phone_tail", ""),
                request.META.get("REMOTE_ADDR"),
            )
        except ActionError as error:
            context["error"] = error.message
            return render(request, "commerce/help_find.html", context, status=error.status)
        request.session.cycle_key()
        selfservice.remember(request.session, order)
        return redirect("commerce:help-orders", shop_slug=shop.slug)
    if selfservice.buyer_in(request.session, shop):
        return redirect("commerce:help-orders", shop_slug=shop.slug)
    return render(request, "commerce/help_find.html", context)


def _buyer(request: HttpRequest, shop_slug: str):
    shop = get_object_or_404(Shop, slug=shop_slug)
    return shop, selfservice.buyer_in(request.session, shop)


@require_http_methods(["GET", "POST"])
def my_orders(request: HttpRequest, shop_slug: str) -> HttpResponse:
    limited = _too_many(request)
    if limited:
        return limited
    shop, buyer = _buyer(request, shop_slug)
    if request.method == "POST":  # sign out
        selfservice.forget(request.session, shop)
        return redirect("commerce:help-find", shop_slug=shop.slug)
    if not buyer:
        return redirect("commerce:help-find", shop_slug=shop.slug)
    orders = [
        {
            "order": order,
            "phone": mask(order.receiver_phone, PHONE) if order.receiver_phone else "",
            "address": mask(order.receiver_address, ADDRESS) if order.receiver_address else "",
            "can_request": order.status in AFTER_SALES_STATES,
        }
        for order in selfservice.buyer_orders(shop, buyer)
    ]
    return render(request, "commerce/help_orders.html", {"shop": shop, "orders": orders})


@require_http_methods(["GET", "POST"])
def after_sales(request: HttpRequest, shop_slug: str, order_id: int) -> HttpResponse:
    limited = _too_many(request)
    if limited:
        return limited
    shop, buyer = _buyer(request, shop_slug)
    if not buyer:
        return redirect("commerce:help-find", shop_slug=shop.slug)
    try:
        order = selfservice.buyer_order(shop, buyer, order_id)
    except NotFound:
        return render(request, "commerce/help_find.html", {"shop": shop}, status=404)
    context: dict = {
        "shop": shop,
        "order": order,
        "items": [
            (item, request.POST.get(f"qty_{item.id}", item.quantity)) for item in order.items.all()
        ],
        "reasons": REASONS,
        "conditions": CONDITIONS,
        "form": request.POST if request.method == "POST" else {},
    }
    if order.status not in AFTER_SALES_STATES:
        context["error"] = ""
        context["closed"] = True
        return render(request, "commerce/help_after_sales.html", context)
    if request.method == "POST":
        check_only = request.POST.get("action") != "submit"
        try:
            result = selfservice.request_after_sales(order, request.POST, check_only=check_only)
        except PolicyRefused as refused:
            context["decisions"] = _texts(refused.payload["decisions"])
        except ActionError as error:
            context["error"] = error.message
            return render(request, "commerce/help_after_sales.html", context, status=400)
        else:
            if check_only:
                context["decisions"] = _texts(result)
            else:
                url = reverse("commerce:help-orders", kwargs={"shop_slug": shop.slug})
                return redirect(f"{url}?case={result.id}")
    return render(request, "commerce/help_after_sales.html", context)


def _texts(decisions: list[dict]) -> list[tuple[bool, str]]:
    language = _language_key()
    return [(d["allowed"], d["explanation"].get(language, "")) for d in decisions]
