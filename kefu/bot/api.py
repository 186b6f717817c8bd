"""Agent assist for the workbench, the widget's "solved / not solved", and a
drafted reply from the shop's model server."""

from __future__ import annotations

from django.utils.translation import gettext as _
from ninja import Router, Schema

from kefu.api import staff_auth, visitor_auth
from kefu.core import principal
from kefu.core.errors import NotFound

from . import actions, assist

router = Router(auth=staff_auth)
widget_router = Router(auth=visitor_auth)


class ErrorOut(Schema):
    code: str
    detail: object


class IntentOut(Schema):
    code: str
    name: str
    confidence: float


class SentimentOut(Schema):
    label: str
    angry: bool
    score: float


class FaqSuggestion(Schema):
    id: int
    question: str
    answer: str
    confidence: float


class QuickReplySuggestion(Schema):
    id: int
    title: str
    shortcut: str
    text: str


class AssistOut(Schema):
    seq: int | None
    text: str
    intent: IntentOut | None
    sentiment: SentimentOut | None
    faqs: list[FaqSuggestion]
    quick_replies: list[QuickReplySuggestion]
    can_draft: bool


class DraftOut(Schema):
    text: str | None


class FeedbackIn(Schema):
    seq: int
    accepted: bool


class FeedbackOut(Schema):
    seq: int
    feedback: str


@router.get(
    "/assist/{conversation_id}",
    response={200: AssistOut, 404: ErrorOut},
    summary="Suggestions for the customer's latest message",
)
def assist_for_conversation(request, conversation_id: int):
    conversation = principal.conversation_or_404(request, conversation_id)
    user = request.user if request.user.is_authenticated else None
    return assist.suggestions(conversation, user)


@router.post(
    "/draft/{conversation_id}",
    response={200: DraftOut, 404: ErrorOut},
    summary="A reply drafted by the shop's model server from the knowledge base",
)
def draft_for_conversation(request, conversation_id: int):
    conversation = principal.conversation_or_404(request, conversation_id)
    return {"text": assist.draft(conversation)}


@widget_router.post(
    "/feedback",
    response={200: FeedbackOut, 400: ErrorOut, 401: ErrorOut, 404: ErrorOut},
    summary="Widget: the customer marks a bot answer solved or not solved",
)
def widget_feedback(request, payload: FeedbackIn):
    from kefu.inbox.connectors import widget

    context = widget.visitor_context(request.visitor)
    if not context.conversation_id:
        raise NotFound(_("That answer was not found."))
    turn = actions.record_feedback(context.conversation_id, payload.seq, payload.accepted)
    return {"seq": payload.seq, "feedback": turn.feedback}
