"""Search over the knowledge base.

FAQ search uses the bot's `FaqMatcher`, built once per shop and process and
kept while the shop's `KnowledgeRevision` and date stay the same: every call
reads the revision (one indexed single-row query), so a change saved by any
process is seen by the next search everywhere. The matcher only holds the
ids; the FAQs themselves are read fresh for each result list."""

from __future__ import annotations

import datetime as dt
import threading
from dataclasses import dataclass

from django.db.models import QuerySet

from kefu.accounts.models import Shop
from kefu.bot.nlp.faq import FaqDoc, FaqMatcher
from kefu.bot.nlp.text import normalize
from kefu.core.clock import Clock, system_clock

from . import queries
from .models import Case, Faq, Manual, QuickReply, Script, Synonym

MAX_QUERY_CHARS = 200
# Below this a hit is noise to a person reading a result list.
DISPLAY_CONFIDENCE = 0.1


@dataclass(frozen=True)
class FaqResult:
    faq: Faq
    confidence: float


@dataclass(frozen=True)
class _Index:
    revision: int
    day: dt.date
    matcher: FaqMatcher
    languages: dict[str, str]  # faq id -> language


class _IndexCache:
    """Read-only matchers keyed by (shop, revision, day); a stale one is replaced."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_shop: dict[int, _Index] = {}

    def get(self, shop_id: int, day: dt.date) -> _Index:
        revision = queries.revision_of(shop_id)
        index = self._by_shop.get(shop_id)
        if index is not None and index.revision == revision and index.day == day:
            return index
        index = _build_index(shop_id, revision, day)
        with self._lock:
            self._by_shop[shop_id] = index
        return index

    def clear(self) -> None:
        with self._lock:
            self._by_shop.clear()


_cache = _IndexCache()


def _build_index(shop_id: int, revision: int, day: dt.date) -> _Index:
    rows = queries.live_faqs(shop_id, day).values_list("id", "language", "question", "paraphrases")
    docs, languages = [], {}
    for faq_id, language, question, paraphrases in rows.order_by("id"):
        docs.append(FaqDoc(id=str(faq_id), texts=(question, *paraphrases)))
        languages[str(faq_id)] = language
    synonyms = [s for s in Synonym.objects.filter(shop_id=shop_id).values_list("terms", flat=True)]
    return _Index(revision, day, FaqMatcher.fit(docs, synonyms=synonyms), languages)


def search_faqs(
    shop_id: int,
    query: str,
    *,
    k: int = 5,
    language: str | None = None,
    today: dt.date | None = None,
    min_confidence: float = 0.0,
    clock: Clock = system_clock,
) -> list[FaqResult]:
    """The best published FAQs valid today (the shop's date), best first. Pages
    pass `min_confidence` (DISPLAY_CONFIDENCE) to leave out unrelated FAQs; the
    bot applies its own answer threshold."""
    query = (query or "")[:MAX_QUERY_CHARS]
    if not normalize(query) or k <= 0:
        return []
    if today is None:
        shop = Shop.objects.only("time_zone").get(id=shop_id)
        today = queries.shop_today(shop, clock)
    index = _cache.get(shop_id, today)
    wanted = len(index.matcher) if language else k
    hits = [
        hit
        for hit in index.matcher.search(query, k=wanted)
        if hit.score > 0 and hit.confidence >= min_confidence
    ]
    if language:
        hits = [hit for hit in hits if index.languages.get(hit.id) == language][:k]
    faqs = Faq.objects.in_bulk([int(hit.id) for hit in hits])
    # A FAQ deleted since the index was built is skipped, never shown stale.
    return [FaqResult(faqs[int(hit.id)], hit.confidence) for hit in hits if int(hit.id) in faqs]


def search_quick_replies(shop_id: int, user, query: str, *, limit: int = 20) -> list[QuickReply]:
    """Shortcut prefix matches first, then title/text matches; team replies and
    the user's own ones only."""
    replies = queries.quick_replies_for([shop_id], user)
    query = (query or "").strip()[:MAX_QUERY_CHARS]
    if not query:
        return list(replies[:limit])
    by_shortcut = list(
        replies.filter(shortcut__istartswith=query).order_by("shortcut", "position", "id")[:limit]
    )
    seen = {reply.id for reply in by_shortcut}
    wanted = normalize(query)
    # A title inside the query also matches: the workbench passes the customer's
    # whole message ("请问发货时间是多久" finds the reply titled "发货时间").
    others = [
        reply
        for reply in replies.exclude(id__in=seen)
        if wanted in normalize(reply.title)
        or wanted in normalize(reply.text)
        or (len(normalize(reply.title)) >= 2 and normalize(reply.title) in wanted)
    ]
    return (by_shortcut + others)[:limit]


def _text_search(queryset: QuerySet, query: str, fields: tuple[str, ...], limit: int) -> list:
    """Rows whose normalised fields contain the normalised query (traditional
    characters, full-width forms and case are folded on both sides). A scan in
    Python: a shop has hundreds of these, not millions."""
    wanted = normalize((query or "")[:MAX_QUERY_CHARS])
    if not wanted:
        return list(queryset[:limit])
    found = []
    for item in queryset.iterator():
        if any(wanted in normalize(str(getattr(item, name) or "")) for name in fields):
            found.append(item)
            if len(found) == limit:
                break
    return found


def search_scripts(shop_ids, query: str = "", *, stage: str = "", limit: int = 50) -> list[Script]:
    return _text_search(queries.scripts_for(shop_ids, stage), query, ("title", "text"), limit)


def search_cases(shop_ids, query: str = "", *, limit: int = 50) -> list[Case]:
    return _text_search(
        queries.cases_for(shop_ids),
        query,
        ("title", "situation", "handling", "lesson", "tags"),
        limit,
    )


def search_manuals(shop_ids, query: str = "", *, limit: int = 50) -> list[Manual]:
    return _text_search(queries.manuals_for(shop_ids), query, ("title", "body"), limit)


def reset_cache() -> None:
    """Tests: forget every built matcher (as a fresh process would)."""
    _cache.clear()


__all__ = [
    "FaqResult",
    "reset_cache",
    "search_cases",
    "search_faqs",
    "search_manuals",
    "search_quick_replies",
    "search_scripts",
]
