"""The demo shop's knowledge (FAQs, quick replies, scripts, cases, manuals,
synonyms) from `demo/kb.json`, saved through the actions. Idempotent: a record
that is already there (same identity) is left alone, so a second run creates
nothing."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

from django.db import transaction

from kefu.bot.nlp.text import normalize
from kefu.core.clock import Clock, system_clock

from . import actions, queries
from .models import Case, Faq, FaqStatus, QuickReply, Script, Synonym

DEMO_FILE = Path(__file__).resolve().parent / "demo" / "kb.json"


def _day(value: Any, today: dt.date) -> str | None:
    """An ISO date, or a number of days from today (demo promotions stay current)."""
    if value in (None, ""):
        return None
    if isinstance(value, int):
        return (today + dt.timedelta(days=value)).isoformat()
    return str(value)


def load_demo_knowledge(
    shop, user=None, *, path: Path | None = None, clock: Clock = system_clock
) -> dict[str, int]:
    """Load the file (nothing happens when it is missing); returns how many
    records of each kind were created."""
    path = path or DEMO_FILE
    created = {"faqs": 0, "quick_replies": 0, "scripts": 0, "cases": 0, "manuals": 0, "synonyms": 0}
    if not path.is_file():
        return created
    data = json.loads(path.read_text(encoding="utf-8"))
    today = queries.shop_today(shop, clock)
    with transaction.atomic():
        existing_groups = {
            frozenset(normalize(t) for t in terms)
            for terms in Synonym.objects.filter(shop=shop).values_list("terms", flat=True)
        }
        for terms in data.get("synonyms", []):
            key = frozenset(normalize(t) for t in terms)
            if key not in existing_groups:
                actions.save_synonym(user, shop, terms)
                existing_groups.add(key)
                created["synonyms"] += 1
        for item in data.get("faqs", []):
            language = item.get("language", "zh-hans")
            if Faq.objects.filter(shop=shop, language=language, question=item["question"]).exists():
                continue
            review_days = item.get("review_days")
            actions.save_faq(
                user,
                shop,
                {
                    "language": language,
                    "category": item["category"],
                    "intent": item.get("intent", ""),
                    "question": item["question"],
                    "paraphrases": item.get("paraphrases", []),
                    "answer": item["answer"],
                    "products": item.get("products", []),
                    "valid_from": _day(item.get("valid_from"), today),
                    "valid_to": _day(item.get("valid_to"), today),
                    "review_due": _day(review_days, today) if review_days is not None else None,
                    "status": item.get("status", FaqStatus.PUBLISHED),
                },
                note="demo",
                clock=clock,
            )
            created["faqs"] += 1
        for position, item in enumerate(data.get("quick_replies", [])):
            if QuickReply.objects.filter(
                shop=shop, owner__isnull=True, shortcut=item["shortcut"]
            ).exists():
                continue
            fields = {name: item[name] for name in actions.REPLY_FIELDS if name in item}
            fields.setdefault("position", position)
            actions.save_quick_reply(user, shop, fields)
            created["quick_replies"] += 1
        for position, item in enumerate(data.get("scripts", [])):
            language = item.get("language", "zh-hans")
            if Script.objects.filter(
                shop=shop, stage=item["stage"], title=item["title"], language=language
            ).exists():
                continue
            actions.save_script(user, shop, {"position": position, **item})
            created["scripts"] += 1
        for item in data.get("cases", []):
            language = item.get("language", "zh-hans")
            if Case.objects.filter(shop=shop, title=item["title"], language=language).exists():
                continue
            actions.save_case(user, shop, item, clock=clock)
            created["cases"] += 1
        for item in data.get("manuals", []):
            before = shop.manuals.filter(
                kind=item["kind"], language=item.get("language", "zh-hans")
            ).exists()
            if not before:
                actions.save_manual(user, shop, item, clock=clock)
                created["manuals"] += 1
    return created
