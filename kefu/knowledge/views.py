"""Pages: the public help center of each shop and the agents' knowledge page."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils.translation import get_language
from django.views.decorators.http import require_GET

from kefu.accounts.models import Shop
from kefu.core import ratelimit
from kefu.core.errors import NotFound

from . import actions, queries, search
from .models import ScriptStage

HELP_PAGE_WINDOW_SECONDS = 60


def _help_limit() -> int:
    """Pages per visitor IP and minute (KEFU_HELP_REQUESTS_PER_MINUTE)."""
    return int(getattr(settings, "KEFU_HELP_REQUESTS_PER_MINUTE", 120))


def _too_many(request: HttpRequest) -> HttpResponse | None:
    ip = request.META.get("REMOTE_ADDR") or "unknown"
    if ratelimit.hit(f"help:{ip}", _help_limit(), HELP_PAGE_WINDOW_SECONDS):
        return None
    response = render(request, "knowledge/help_429.html", status=429)
    response["Retry-After"] = str(HELP_PAGE_WINDOW_SECONDS)
    return response


def _language() -> str:
    return "en" if (get_language() or "").startswith("en") else "zh-hans"


@require_GET
def help_center(request: HttpRequest, shop_slug: str) -> HttpResponse:
    limited = _too_many(request)
    if limited:
        return limited
    shop = get_object_or_404(Shop, slug=shop_slug)
    today = queries.shop_today(shop)
    query = request.GET.get("q", "").strip()[: search.MAX_QUERY_CHARS]
    category = request.GET.get("category", "").strip()
    context: dict[str, object] = {"shop": shop, "query": query, "category": category}
    faqs = queries.help_center_faqs(shop, _language(), today)
    context["categories"] = [name for name, _items in queries.group_by_category(faqs)]
    if query:
        context["results"] = search.search_faqs(
            shop.id, query, k=10, today=today, min_confidence=search.DISPLAY_CONFIDENCE
        )
    else:
        if category:
            faqs = [faq for faq in faqs if faq.category == category]
        context["groups"] = queries.group_by_category(faqs)
    return render(request, "knowledge/help_center.html", context)


@require_GET
def help_faq(request: HttpRequest, shop_slug: str, faq_id: int) -> HttpResponse:
    limited = _too_many(request)
    if limited:
        return limited
    shop = get_object_or_404(Shop, slug=shop_slug)
    today = queries.shop_today(shop)
    try:
        faq = queries.public_faq(shop, faq_id, today)
    except NotFound:
        raise Http404 from None
    related = [
        other
        for other in queries.live_faqs(shop.id, today)
        .filter(category=faq.category, language=faq.language)
        .exclude(id=faq.id)
        .order_by("-usage_count", "id")[:5]
    ]
    return render(
        request, "knowledge/help_faq.html", {"shop": shop, "faq": faq, "related": related}
    )


TABS = ("faqs", "replies", "scripts", "cases", "manuals")


@login_required
@require_GET
def knowledge_page(request: HttpRequest) -> HttpResponse:
    shop_ids = queries.member_shop_ids(request.user)
    if not shop_ids:
        return render(request, "inbox/no_profile.html", status=403)
    shops = list(Shop.objects.filter(id__in=shop_ids).order_by("id"))
    shop = shops[0]
    wanted = request.GET.get("shop", "")
    if wanted:
        shop = next((s for s in shops if str(s.id) == wanted), None) or _not_found()
    tab = request.GET.get("tab", "faqs")
    tab = tab if tab in TABS else "faqs"
    query = request.GET.get("q", "").strip()[: search.MAX_QUERY_CHARS]
    stage = request.GET.get("stage", "")
    stage = stage if stage in ScriptStage.values else ""
    context: dict[str, object] = {
        "shops": shops,
        "shop": shop,
        "tab": tab,
        "query": query,
        "stage": stage,
        "stages": ScriptStage.choices,
        "can_edit": shop.id in queries.editable_shop_ids(request.user),
    }
    if tab == "faqs":
        if query:
            context["faq_results"] = search.search_faqs(
                shop.id, query, k=20, min_confidence=search.DISPLAY_CONFIDENCE
            )
        else:
            today = queries.shop_today(shop)
            context["faq_groups"] = queries.group_by_category(
                queries.help_center_faqs(shop, _language(), today)
            )
    elif tab == "replies":
        replies = search.search_quick_replies(shop.id, request.user, query, limit=100)
        if not query:
            replies = _language_first(replies)
        context["replies"] = [
            (reply, actions.render_quick_reply(reply.text, agent=request.user, shop=shop))
            for reply in replies
        ]
    elif tab == "scripts":
        # In the order of a sale (greeting → review request), then the visitor's language.
        order = {value: index for index, value in enumerate(ScriptStage.values)}
        scripts = _language_first(search.search_scripts([shop.id], query, stage=stage))
        scripts = sorted(scripts, key=lambda script: order[script.stage])
        for script in scripts:
            script.filled_text = actions.render_quick_reply(
                script.text, agent=request.user, shop=shop
            )
        context["scripts"] = scripts
    elif tab == "cases":
        context["cases"] = _language_first(search.search_cases([shop.id], query))
    else:
        context["manuals"] = _language_first(search.search_manuals([shop.id], query))
    return render(request, "knowledge/page.html", context)


def _language_first(items: list) -> list:
    """The page's language first, otherwise in the given order."""
    language = _language()
    return sorted(items, key=lambda item: item.language != language)


def _not_found():
    raise Http404
