"""Agent assist: what the workbench suggests for the customer's latest message."""

from __future__ import annotations

from django.utils import translation

from kefu.inbox.models import Message, SenderType

from . import analysis as analysis_module
from . import llm, queries
from .models import Intent

SUGGESTIONS = 3
# Which quick-reply categories (the courseware's) suit a message of each intent.
REPLY_CATEGORIES = {
    "greeting": ("greeting",),
    "thanks": ("greeting",),
    "complaint": ("complaint",),
    "human_request": ("greeting",),
    **{
        code: ("after_sales",)
        for code in ("return", "exchange", "refund", "quality_problem", "wrong_item", "warranty")
    },
    **{
        code: ("order",)
        for code in ("order_status", "address_change", "cancel", "logistics", "shipping_time")
    },
}


def latest_customer_message(conversation) -> Message | None:
    return (
        Message.objects.filter(conversation=conversation, sender_type=SenderType.CUSTOMER)
        .order_by("-seq")
        .first()
    )


def suggestions(conversation, user) -> dict:
    from kefu.knowledge import actions as knowledge_actions
    from kefu.knowledge import search

    message = latest_customer_message(conversation)
    can_draft = queries.settings_of(conversation.shop).llm_enabled
    empty = {"seq": None, "text": "", "intent": None, "sentiment": None}
    if message is None:
        return {**empty, "faqs": [], "quick_replies": [], "can_draft": False}
    found = analysis_module.analyse(conversation.shop, message.text, k=SUGGESTIONS)
    intent = None
    if found.intent:
        names = (
            Intent.objects.filter(shop=conversation.shop, code=found.intent)
            .values_list("name_zh", "name_en")
            .first()
        )
        name = found.intent
        if names:
            name = names[0] if translation.get_language() == "zh-hans" else names[1]
        intent = {"code": found.intent, "name": name, "confidence": found.intent_confidence}
    replies = search.suggest_quick_replies(
        conversation.shop_id,
        user,
        message.text,
        categories=REPLY_CATEGORIES.get(found.intent, ("inquiry",)),
        limit=SUGGESTIONS,
    )
    return {
        "seq": message.seq,
        "text": message.text,
        "intent": intent,
        "sentiment": {
            "label": found.sentiment,
            "angry": found.angry,
            "score": found.sentiment_score,
        },
        "faqs": [
            {
                "id": hit.faq.id,
                "question": hit.faq.question,
                "answer": hit.faq.answer,
                "confidence": hit.confidence,
            }
            for hit in found.hits
        ],
        "quick_replies": [
            {
                "id": reply.id,
                "title": reply.title,
                "shortcut": reply.shortcut,
                "text": knowledge_actions.render_quick_reply(
                    reply.text, conversation=conversation, agent=user
                ),
            }
            for reply in replies
        ],
        "can_draft": can_draft,
    }


def draft(conversation) -> str | None:
    message = latest_customer_message(conversation)
    settings = queries.settings_of(conversation.shop)
    if message is None or not settings.llm_enabled:
        return None
    from kefu.knowledge import search

    # Only the knowledge is needed here, not the whole analysis (intent, sentiment).
    hits = search.search_faqs(conversation.shop_id, message.text, k=SUGGESTIONS)
    return llm.draft_answer(settings, message.text, [hit.faq for hit in hits])
