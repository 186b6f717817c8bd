"""Reads of the knowledge base: who may see or edit which shop's knowledge,
and the lists the pages and the API show."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from zoneinfo import ZoneInfo

from django.db.models import F, Q, QuerySet
from django.utils.translation import gettext as _

from kefu.accounts.models import Role, Shop
from kefu.core.clock import Clock, system_clock
from kefu.core.errors import NotFound

from .models import Case, Faq, FaqStatus, KnowledgeRevision, Manual, QuickReply, Script

EDITOR_ROLES = (Role.SUPERVISOR, Role.TRAINER, Role.ADMIN)


def member_shop_ids(user) -> frozenset[int]:
    """Shops whose knowledge this user may read (superusers: every shop)."""
    if user is None or not user.is_authenticated:
        return frozenset()
    if user.is_superuser:
        return frozenset(Shop.objects.values_list("id", flat=True))
    profile = getattr(user, "agent_profile", None)
    if profile is None:
        return frozenset()
    return frozenset(profile.shops.values_list("id", flat=True))


def editable_shop_ids(user) -> frozenset[int]:
    """Shops whose team knowledge this user may change: supervisors, trainers
    and admins of the shop, and superusers."""
    if user is None or not user.is_authenticated:
        return frozenset()
    if user.is_superuser:
        return frozenset(Shop.objects.values_list("id", flat=True))
    profile = getattr(user, "agent_profile", None)
    if profile is None or profile.role not in EDITOR_ROLES:
        return frozenset()
    return frozenset(profile.shops.values_list("id", flat=True))


def shop_today(shop: Shop, clock: Clock = system_clock) -> dt.date:
    return clock.now().astimezone(ZoneInfo(shop.time_zone)).date()


def revision_of(shop_id: int) -> int:
    revision = (
        KnowledgeRevision.objects.filter(shop_id=shop_id).values_list("revision", flat=True).first()
    )
    return revision or 0


def live_faqs(shop_id: int, today: dt.date) -> QuerySet[Faq]:
    """Published FAQs valid on `today` (the shop's date)."""
    return Faq.objects.filter(shop_id=shop_id, status=FaqStatus.PUBLISHED).filter(
        Q(valid_from__isnull=True) | Q(valid_from__lte=today),
        Q(valid_to__isnull=True) | Q(valid_to__gte=today),
    )


def public_faq(shop: Shop, faq_id: int, today: dt.date) -> Faq:
    faq = live_faqs(shop.id, today).filter(id=faq_id).first()
    if faq is None:
        raise NotFound(_("FAQ not found."))
    return faq


def help_center_faqs(shop: Shop, language: str, today: dt.date) -> list[Faq]:
    """Live FAQs in the visitor's language (all of them when the shop has none
    in it), by category and use."""
    faqs = list(live_faqs(shop.id, today).order_by("category", "-usage_count", "id"))
    own = [faq for faq in faqs if faq.language == language]
    return own or faqs


def group_by_category(faqs: Iterable[Faq]) -> list[tuple[str, list[Faq]]]:
    groups: dict[str, list[Faq]] = {}
    for faq in faqs:
        groups.setdefault(faq.category, []).append(faq)
    return list(groups.items())


def quick_replies_for(shop_ids: Iterable[int], user) -> QuerySet[QuickReply]:
    """Team replies of the shops and the user's own ones; never another agent's."""
    owner = Q(owner__isnull=True)
    if user is not None and user.is_authenticated:
        owner |= Q(owner_id=user.id)
    return QuickReply.objects.filter(owner, shop_id__in=list(shop_ids)).order_by(
        "category", "position", "id"
    )


def scripts_for(shop_ids: Iterable[int], stage: str = "") -> QuerySet[Script]:
    scripts = Script.objects.filter(shop_id__in=list(shop_ids))
    if stage:
        scripts = scripts.filter(stage=stage)
    return scripts.order_by("stage", "position", "id")


def cases_for(shop_ids: Iterable[int]) -> QuerySet[Case]:
    return Case.objects.filter(shop_id__in=list(shop_ids)).order_by("-created_at", "-id")


def manuals_for(shop_ids: Iterable[int]) -> QuerySet[Manual]:
    return Manual.objects.filter(shop_id__in=list(shop_ids)).order_by("kind", "language", "id")


def faq_health(shop: Shop, clock: Clock = system_clock) -> dict[str, list[Faq]]:
    """Published FAQs to look at: due for review, marked "not solved", most used."""
    published = Faq.objects.filter(shop=shop, status=FaqStatus.PUBLISHED)
    return {
        "due": list(
            published.filter(review_due__lte=shop_today(shop, clock)).order_by("review_due")[:50]
        ),
        "unhelpful": list(
            published.filter(rejected_count__gt=0).order_by(
                (F("accepted_count") - F("rejected_count")).asc(), "-rejected_count"
            )[:20]
        ),
        "most_used": list(published.filter(usage_count__gt=0).order_by("-usage_count")[:15]),
    }
