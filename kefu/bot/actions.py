"""The bot's actions: answer or hand off one customer message, record the
customer's "solved / not solved", train, and turn knowledge gaps into drafts."""

from __future__ import annotations

import logging

from django.db import transaction
from django.utils import translation
from django.utils.translation import gettext as _

from kefu.bot.nlp.text import language_of
from kefu.commerce import bot_answers
from kefu.core.clock import Clock, system_clock
from kefu.core.errors import ActionError, NotFound
from kefu.customers.models import Tier
from kefu.inbox import actions as inbox_actions
from kefu.inbox.models import Conversation, Message, SenderType, Status
from kefu.realtime.events import ConversationChanged, conversation_group
from kefu.realtime.publish import publish_on_commit

from . import analysis as analysis_module
from . import llm, queries
from .analysis import INTENT_CONFIDENT
from .models import BotSettings, BotTurn, Feedback, HandoffReason, Intent, Outcome
from .policy import Decision, PastTurn, decide

log = logging.getLogger(__name__)


def _in_language(language: str, text_fn):
    """A bot sentence in the customer's language (their message's script)."""
    with translation.override("en" if language == "en" else "zh-hans"):
        return str(text_fn())


def not_solved_text(language: str) -> str:
    return _in_language(
        language,
        lambda: _(
            "Sorry that did not help. Please describe the problem in other words, "
            "or reply “agent” and a colleague will take over."
        ),
    )


def small_talk_text(intent: str, settings, language: str) -> str:
    if intent == "thanks":
        return _in_language(
            language,
            lambda: _("You are welcome! Is there anything else I can help you with?"),
        )
    return _in_language(
        language,
        lambda: (
            _(
                "Hello, I am %(name)s, the shop's assistant. What can I help you with? "
                "Reply “agent” any time to talk to a person."
            )
            % {"name": settings.name}
        ),
    )


def handoff_text(settings, language: str) -> str:
    default = BotSettings._meta.get_field("handoff_text").default
    if settings.handoff_text != default or language != "en":
        return settings.handoff_text
    return _in_language(
        language,
        lambda: _(
            "Certainly, I am passing you to a colleague now. They will see everything "
            "you wrote here."
        ),
    )


def handle_customer_message(
    conversation_id: int, seq: int, *, clock: Clock = system_clock
) -> BotTurn | None:
    """Answer the customer's message `seq` or hand the conversation to routing.
    Idempotent: a message is handled once; a conversation no longer with the
    bot is left alone. The models and the shop's model server run before the
    transaction: a write lock (all of SQLite, the conversation's row on
    PostgreSQL) is never held while the bot thinks."""
    conversation = (
        Conversation.objects.select_related("shop", "customer").filter(id=conversation_id).first()
    )
    if conversation is None or conversation.status != Status.BOT:
        return None
    message = Message.objects.filter(
        conversation=conversation, seq=seq, sender_type=SenderType.CUSTOMER
    ).first()
    if (
        message is None
        or BotTurn.objects.filter(conversation=conversation, message_seq=seq).exists()
    ):
        return None
    shop = conversation.shop
    settings = queries.settings_of(shop)
    found = analysis_module.analyse(shop, message.text)
    history = [
        PastTurn(t.intent, t.outcome, t.feedback)
        for t in BotTurn.objects.filter(conversation=conversation).order_by("message_seq")
    ]
    decision = decide(
        found,
        threshold=settings.answer_threshold,
        max_unaccepted=settings.max_unaccepted,
        handoff_vip=settings.handoff_vip,
        handoff_negative=settings.handoff_negative,
        is_vip=conversation.customer.tier == Tier.VIP,
        handoff_intents=frozenset(
            Intent.objects.filter(shop=shop, handoff=True).values_list("code", flat=True)
        ),
        history=history,
    )
    reply, drafted = "", False
    order_reply = None
    if (
        found.intent in bot_answers.ORDER_INTENTS
        and found.intent_confidence >= INTENT_CONFIDENT
        and (
            decision.outcome == Outcome.ANSWERED or decision.reason == HandoffReason.LOW_CONFIDENCE
        )
    ):
        # Orders are answered from the shop's data for a verified buyer, never
        # from a generic FAQ, and anyone else goes to a person; "when do you
        # ship?" with no order at all stays a pre-sales question for the FAQs.
        about = bot_answers.answer(conversation, found.text, found.language, clock=clock)
        order_reply = about.reply
        if order_reply:
            decision = Decision(Outcome.ANSWERED)
        elif about.about_an_order or found.intent not in bot_answers.PRE_SALES_INTENTS:
            decision = Decision(Outcome.HANDOFF, HandoffReason.INTENT)
    if order_reply:
        reply = order_reply
    elif decision.small_talk:
        reply = small_talk_text(decision.small_talk, settings, found.language)
    elif decision.outcome == Outcome.ANSWERED:
        reply = found.hits[0].faq.answer
        if settings.llm_enabled:
            text = llm.draft_answer(settings, found.text, [hit.faq for hit in found.hits])
            if text:
                reply, drafted = text, True
    screening = None
    if decision.outcome == Outcome.ANSWERED:
        from kefu.compliance import actions as compliance

        screening = compliance.screen_outgoing(reply, shop_id=shop.id)
        if screening.blocked:  # never send it: a person answers instead
            decision = Decision(Outcome.HANDOFF, HandoffReason.BLOCKED)
    with transaction.atomic():
        conversation = _locked_conversation(conversation_id)
        # Checked again under the lock: an agent may have taken over meanwhile.
        if conversation is None or conversation.status != Status.BOT:
            return None
        if BotTurn.objects.filter(conversation=conversation, message_seq=seq).exists():
            return None
        turn = BotTurn(
            shop=shop,
            conversation=conversation,
            message_seq=seq,
            text=message.text,
            intent=found.intent,
            intent_confidence=found.intent_confidence,
            sentiment=found.sentiment,
            angry=found.angry,
            faq=(
                found.hits[0].faq
                if found.hits and not decision.small_talk and not order_reply
                else None
            ),
            confidence=found.top_confidence,
            outcome=decision.outcome,
            reason=decision.reason,
            drafted_by_model=drafted,
            created_at=clock.now(),
        )
        if decision.outcome == Outcome.ANSWERED:
            prefix = "talk" if decision.small_talk else "bot"
            result = _bot_message(
                conversation, settings, f"{prefix}-{seq}", reply, clock, screening
            )
            turn.answer_seq = result.message["seq"] if result.message else None
            if turn.faq_id:
                from kefu.knowledge import actions as knowledge_actions

                knowledge_actions.record_faq_use(turn.faq_id, None)
        else:
            if screening is not None and screening.blocked:
                _record_blocked_answer(screening, conversation, seq, clock)
            _hand_off(
                conversation,
                settings,
                seq=seq,
                text=message.text,
                intent=found.intent,
                intent_confidence=found.intent_confidence,
                clock=clock,
            )
        turn.save()
    return turn


def _record_blocked_answer(screening, conversation, seq: int, clock: Clock) -> None:
    from kefu.compliance import actions as compliance
    from kefu.compliance.models import Action

    compliance.save_violations(
        compliance.violations_for(
            screening,
            shop_id=conversation.shop_id,
            conversation_id=conversation.id,
            agent_id=None,
            sender_type=SenderType.BOT,
            client_id=f"bot-{seq}",
            action_of_block=Action.HANDED_OFF,
            message_seq=None,
            at=clock.now(),
        )
    )


def _locked_conversation(conversation_id: int) -> Conversation | None:
    """The conversation, locked: a customer's messages are handled one at a time."""
    return (
        Conversation.objects.select_for_update()
        .select_related("shop", "customer")
        .filter(id=conversation_id)
        .first()
    )


def _hand_off(
    conversation, settings, *, seq: int, text: str, intent: str, intent_confidence: float, clock
) -> None:
    """Tell the customer, then route: the agent gets the whole conversation,
    in the group of the message's intent when it is clear."""
    from kefu.routing import actions as routing_actions

    inbox_actions.ingest_message(
        inbox_actions.IngestRequest(
            conversation_id=conversation.id,
            sender_type=SenderType.SYSTEM,
            client_id=f"handoff-{seq}",
            text=handoff_text(settings, language_of(text)),
            sender_name=settings.name,
        ),
        clock,
    )
    conversation.refresh_from_db()
    conversation.status = Status.QUEUED
    group_code = queries.group_code_of_intent(conversation.shop, intent, intent_confidence)
    routing_actions.route_conversation(conversation, text, clock=clock, group_code=group_code)
    if conversation.status == Status.QUEUED:  # an assignment has told the widget already
        from kefu.inbox.serializers import conversation_public

        publish_on_commit(
            ConversationChanged(
                groups=(conversation_group(conversation.id),),
                summary=conversation_public(conversation),
            )
        )


def _bot_message(conversation, settings, client_id: str, text: str, clock: Clock, screening=None):
    result = inbox_actions.ingest_message(
        inbox_actions.IngestRequest(
            conversation_id=conversation.id,
            sender_type=SenderType.BOT,
            client_id=client_id,
            text=text[: conversation.shop.max_message_chars],
            sender_name=settings.name,
            screening=screening,  # the answer's, when it was screened to decide
        ),
        clock,
    )
    if result.error:
        raise result.error
    return result


def record_feedback(
    conversation_id: int, answer_seq: int, accepted: bool, *, clock: Clock = system_clock
) -> BotTurn:
    """The customer's "solved / not solved" under a bot answer. A "not solved"
    that reaches the shop's limit hands the conversation to an agent."""
    from kefu.knowledge import actions as knowledge_actions

    with transaction.atomic():
        conversation = _locked_conversation(conversation_id)
        turn = BotTurn.objects.filter(
            conversation_id=conversation_id, answer_seq=answer_seq
        ).first()
        if conversation is None or turn is None:
            raise NotFound(_("That answer was not found."))
        if turn.feedback:
            raise ActionError(_("You have already rated this answer."), code="already_rated")
        turn.feedback = Feedback.ACCEPTED if accepted else Feedback.REJECTED
        turn.save(update_fields=["feedback"])
        if turn.faq_id:  # its use was counted when the bot answered
            knowledge_actions.record_faq_verdict(turn.faq_id, accepted)
        if accepted or conversation.status != Status.BOT:
            return turn
        settings = queries.settings_of(conversation.shop)
        rejected = BotTurn.objects.filter(
            conversation=conversation, feedback=Feedback.REJECTED
        ).count()
        if rejected >= settings.max_unaccepted:
            _hand_off(
                conversation,
                settings,
                seq=turn.message_seq,
                text=turn.text,
                intent=turn.intent,
                intent_confidence=turn.intent_confidence,
                clock=clock,
            )
        else:
            _bot_message(
                conversation,
                settings,
                f"not-solved-{answer_seq}",
                not_solved_text(language_of(turn.text)),
                clock,
            )
    return turn
