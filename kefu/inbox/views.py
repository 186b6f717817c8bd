"""Pages: thin views that render templates or call one action."""

from __future__ import annotations

import json

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from kefu.accounts.models import Shop
from kefu.core.errors import ActionError

from .connectors import widget


@require_GET
def healthz(request: HttpRequest) -> HttpResponse:
    return HttpResponse("ok", content_type="text/plain")


def home(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect("inbox:workbench")
    return render(request, "inbox/home.html", {"shops": Shop.objects.order_by("id")[:20]})


@login_required
def workbench(request: HttpRequest) -> HttpResponse:
    if not hasattr(request.user, "agent_profile"):
        return render(request, "inbox/no_profile.html", status=403)
    return render(request, "inbox/workbench.html", {"profile": request.user.agent_profile})


@require_GET
def demo_shop(request: HttpRequest, slug: str) -> HttpResponse:
    shop = get_object_or_404(Shop, slug=slug)
    return render(request, "inbox/demo_shop.html", {"shop": shop})


@csrf_exempt  # public, token-based endpoint; no cookie authority is used
@require_POST
def widget_session(request: HttpRequest, slug: str) -> JsonResponse:
    try:
        body = json.loads(request.body or b"{}")
        if not isinstance(body, dict):
            raise ValueError
    except ValueError:
        return JsonResponse(
            {"code": "bad_json", "detail": _("The request body is not valid JSON.")}, status=400
        )
    old_token = body.get("token")
    name = body.get("name") or ""
    if not isinstance(old_token, (str, type(None))) or not isinstance(name, str):
        return JsonResponse(
            {"code": "invalid", "detail": _("Invalid session request.")}, status=400
        )
    try:
        data = widget.start_session(slug, old_token, request.META.get("REMOTE_ADDR"), name[:60])
    except ActionError as error:
        return JsonResponse({"code": error.code, "detail": error.message}, status=error.status)
    return JsonResponse(data)
