"""Search over the knowledge base.

FAQ search uses the bot's `FaqMatcher`, built once per shop and process and
kept while the shop's `KnowledgeRevision` and date stay the same: every call
reads the revision (one indexed single-row query), so a change saved by any
process is seen by the next search everywhere. The matcher only holds the
ids; the FAQs themselves are read fresh for each result list."""

from __future__ import annotations

import datetime as dt
import re
import threading
from dataclasses import dataclass

from django.db.models import Q, QuerySet

from kefu.accounts.models import Shop
from kefu.bot.nlp.faq import FaqDoc, FaqMatcher
from kefu.bot.nlp.text import language_of, normalize
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


SLASHES = "/／、"
_PLACEHOLDER = re.compile(r"\{[a-z_]+\}")


def _reply_text(reply: QuickReply) -> str:
    """Title and text as matched: normalised, variables left out ("t" must not
    find every reply with {agent_name})."""
    return normalize(_PLACEHOLDER.sub(" ", f"{reply.title} {reply.text}"))


def search_quick_replies(shop_id: int, user, query: str, *, limit: int = 20) -> list[QuickReply]:
    """What the agent typed after "/": shortcut prefix matches first, then
    title/text matches; team replies and the user's own ones only."""
    replies = queries.quick_replies_for([shop_id], user)
    query = (query or "").strip()[:MAX_QUERY_CHARS].lstrip(SLASHES).strip()
    if not query:
        return list(replies.order_by("shortcut", "position", "id")[:limit])
    by_shortcut = list(
        replies.filter(
            Q(shortcut__istartswith="/" + query) | Q(shortcut__istartswith=query)
        ).order_by("shortcut", "position", "id")[:limit]
    )
    seen = {reply.id for reply in by_shortcut}
    wanted = normalize(query)
    others = [
        reply for reply in replies.exclude(id__in=seen) if wanted and wanted in _reply_text(reply)
    ]
    return (by_shortcut + others)[:limit]


def _bigrams(text: str) -> set[str]:
    compact = "".join(text.split())
    return {compact[i : i + 2] for i in range(len(compact) - 1)} or (
        {compact} if compact else set()
    )


def suggest_quick_replies(
    shop_id: int, user, message: str, *, categories: tuple[str, ...] = (), limit: int = 3
) -> list[QuickReply]:
    """Quick replies for a customer's message (agent assist): ranked by the
    character pairs they share with it, replies of the given categories (from
    the message's intent) first; in the message's language when there are any."""
    wanted = _bigrams(normalize(message[:MAX_QUERY_CHARS]))
    if not wanted:
        return []
    language = language_of(message)
    scored = []
    for reply in queries.quick_replies_for([shop_id], user):
        if reply.language and reply.language != language:
            continue
        words = _bigrams(_reply_text(reply))
        overlap = len(wanted & words) / len(wanted) if words else 0.0
        bonus = 0.5 if reply.category in categories else 0.0
        if overlap > 0 or bonus:
            scored.append((overlap + bonus, -reply.usage_count, reply.id, reply))
    scored.sort(key=lambda row: (-row[0], row[1], row[2]))
    return [row[3] for row in scored[:limit]]


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
    "suggest_quick_replies",
]
