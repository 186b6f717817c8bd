"""Knowledge for the workbench and integrators: FAQ search, quick replies
filled in for a conversation, scripts, cases, manuals, FAQ feedback."""

from __future__ import annotations

from django.utils.translation import gettext as _
from ninja import Router, Schema

from kefu.api import staff_auth
from kefu.core import principal
from kefu.core.errors import ActionError, NotFound

from . import actions, search
from .markdown import render_markdown
from .models import Faq, ScriptStage

router = Router(auth=staff_auth)


class ErrorOut(Schema):
    code: str
    detail: object


class FaqHitOut(Schema):
    id: int
    shop_id: int
    language: str
    category: str
    intent: str
    question: str
    answer: str
    confidence: float


class QuickReplyOut(Schema):
    id: int
    shop_id: int
    category: str
    title: str
    shortcut: str
    text: str
    personal: bool
    language: str


class ScriptOut(Schema):
    id: int
    shop_id: int
    stage: str
    title: str
    text: str
    language: str


class CaseOut(Schema):
    id: int
    shop_id: int
    kind: str
    title: str
    situation: str
    handling: str
    lesson: str
    tags: list
    language: str
    conversation_id: int | None


class ManualOut(Schema):
    id: int
    shop_id: int
    kind: str
    title: str
    body: str
    body_html: str
    language: str
    version: int


class FeedbackIn(Schema):
    # Omitted: a use (an agent inserted the answer); true/false: it solved the question or not.
    accepted: bool | None = None


class FeedbackOut(Schema):
    id: int
    usage_count: int
    accepted_count: int
    rejected_count: int


def _shop_ids(request, shop_id: int | None) -> list[int]:
    """The caller's shops, or the one asked for; another shop is 404."""
    shop_ids = principal.shop_ids_for(request)
    if shop_id is None:
        return shop_ids
    if shop_id not in shop_ids:
        raise NotFound(_("Shop not found."))
    return [shop_id]


def _user(request):
    if principal.api_token_of(request) is not None:
        return None
    return request.user


@router.get(
    "/faqs/search",
    response={200: list[FaqHitOut], 404: ErrorOut},
    summary="Best published FAQs for a question",
)
def search_faqs(
    request,
    q: str,
    shop_id: int | None = None,
    k: int = 5,
    language: str = "",
    min_confidence: float = 0.0,
):
    k = max(1, min(k, 20))
    results = []
    for one_shop in _shop_ids(request, shop_id):
        results += search.search_faqs(
            one_shop, q, k=k, language=language or None, min_confidence=min_confidence
        )
    results.sort(key=lambda result: -result.confidence)
    return [
        {
            "id": r.faq.id,
            "shop_id": r.faq.shop_id,
            "language": r.faq.language,
            "category": r.faq.category,
            "intent": r.faq.intent,
            "question": r.faq.question,
            "answer": r.faq.answer,
            "confidence": round(r.confidence, 4),
        }
        for r in results[:k]
    ]


@router.post(
    "/faqs/{int:faq_id}/feedback",
    response={200: FeedbackOut, 404: ErrorOut},
    summary="Count a use of an FAQ and whether it helped",
)
def faq_feedback(request, faq_id: int, body: FeedbackIn):
    if not Faq.objects.filter(id=faq_id, shop_id__in=principal.shop_ids_for(request)).exists():
        raise NotFound(_("FAQ not found."))
    actions.record_faq_use(faq_id, body.accepted)
    faq = Faq.objects.get(id=faq_id)
    return {
        "id": faq.id,
        "usage_count": faq.usage_count,
        "accepted_count": faq.accepted_count,
        "rejected_count": faq.rejected_count,
    }


class UseOut(Schema):
    id: int
    usage_count: int


@router.post(
    "/quick-replies/{int:reply_id}/use",
    response={200: UseOut, 404: ErrorOut},
    summary="Count a use of a quick reply",
)
def quick_reply_use(request, reply_id: int):
    from .models import QuickReply
    from .queries import quick_replies_for

    user = _user(request)
    visible = quick_replies_for(principal.shop_ids_for(request), user).filter(id=reply_id)
    if not visible.exists():
        raise NotFound(_("Quick reply not found."))
    actions.record_quick_reply_use(reply_id)
    return {"id": reply_id, "usage_count": QuickReply.objects.get(id=reply_id).usage_count}


@router.get(
    "/quick-replies",
    response={200: list[QuickReplyOut], 404: ErrorOut},
    summary="Quick replies, filled in for a conversation when one is given",
)
def quick_replies(
    request, q: str = "", conversation_id: int | None = None, shop_id: int | None = None
):
    user = _user(request)
    conversation = None
    if conversation_id is not None:
        conversation = principal.conversation_or_404(request, conversation_id)
        shop_ids = [conversation.shop_id]
    else:
        shop_ids = _shop_ids(request, shop_id)
    rows = []
    for one_shop in shop_ids:
        for reply in search.search_quick_replies(one_shop, user, q, limit=50):
            text = actions.render_quick_reply(
                reply.text, conversation=conversation, agent=user, shop=reply.shop
            )
            rows.append(
                {
                    "id": reply.id,
                    "shop_id": reply.shop_id,
                    "category": reply.category,
                    "title": reply.title,
                    "shortcut": reply.shortcut,
                    "text": text,
                    "personal": reply.owner_id is not None,
                    "language": reply.language,
                }
            )
    return rows


@router.get("/scripts", response={200: list[ScriptOut], 400: ErrorOut, 404: ErrorOut})
def scripts(request, stage: str = "", q: str = "", shop_id: int | None = None):
    if stage and stage not in ScriptStage.values:
        raise ActionError(
            _("Unknown stage: %(stage)s. Use one of: %(stages)s.")
            % {"stage": stage, "stages": ", ".join(ScriptStage.values)}
        )
    found = search.search_scripts(_shop_ids(request, shop_id), q, stage=stage, limit=200)
    return [
        {
            "id": s.id,
            "shop_id": s.shop_id,
            "stage": s.stage,
            "title": s.title,
            "text": s.text,
            "language": s.language,
        }
        for s in found
    ]


@router.get("/cases", response={200: list[CaseOut], 404: ErrorOut})
def cases(request, q: str = "", shop_id: int | None = None):
    return [
        {
            "id": c.id,
            "shop_id": c.shop_id,
            "kind": c.kind,
            "title": c.title,
            "situation": c.situation,
            "handling": c.handling,
            "lesson": c.lesson,
            "tags": c.tags,
            "language": c.language,
            "conversation_id": c.conversation_id,
        }
        for c in search.search_cases(_shop_ids(request, shop_id), q, limit=200)
    ]


class CaseIn(Schema):
    conversation_id: int
    kind: str
    title: str
    situation: str
    handling: str
    lesson: str = ""
    tags: list[str] = []
    language: str = "zh-hans"


@router.post(
    "/cases",
    response={201: CaseOut, 400: ErrorOut, 403: ErrorOut, 404: ErrorOut},
    summary="Add a conversation to the case library (supervisors, trainers)",
)
def add_case(request, body: CaseIn):
    user = principal.require_user(request)
    conversation = principal.conversation_or_404(request, body.conversation_id)
    fields = body.dict(exclude={"conversation_id"})
    case = actions.save_case(user, conversation.shop, fields, conversation=conversation)
    return 201, {
        **fields,
        "id": case.id,
        "shop_id": case.shop_id,
        "conversation_id": conversation.id,
    }


@router.get("/manuals", response={200: list[ManualOut], 404: ErrorOut})
def manuals(request, q: str = "", shop_id: int | None = None):
    return [
        {
            "id": m.id,
            "shop_id": m.shop_id,
            "kind": m.kind,
            "title": m.title,
            "body": m.body,
            "body_html": str(render_markdown(m.body)),
            "language": m.language,
            "version": m.version,
        }
        for m in search.search_manuals(_shop_ids(request, shop_id), q, limit=200)
    ]
