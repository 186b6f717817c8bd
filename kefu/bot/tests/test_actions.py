"""The bot inside the conversation loop: answer, hand off, feedback, routing."""

import pytest

from kefu.bot import actions, training
from kefu.bot.models import BotSettings, BotTurn, Feedback, HandoffReason, Outcome
from kefu.core.errors import ActionError, NotFound
from kefu.inbox import actions as inbox_actions
from kefu.inbox.actions import IngestRequest
from kefu.inbox.models import Message, Status
from kefu.knowledge.models import Faq
from kefu.tests import factories as f

pytestmark = pytest.mark.django_db


def start(shop, text, clock, tier="new"):
    """Open a conversation as the widget does and let the bot handle the first message."""
    customer = f.make_customer(shop, tier=tier)
    conversation, result = inbox_actions.open_conversation(
        shop=shop, customer=customer, first_text=text, client_id="c1", clock=clock
    )
    assert result.bot_seq == 2
    turn = actions.handle_customer_message(conversation.id, result.bot_seq, clock=clock)
    conversation.refresh_from_db()
    return conversation, turn


def say(conversation, text, client_id, clock):
    result = inbox_actions.ingest_message(
        IngestRequest(conversation.id, "customer", client_id, text), clock
    )
    turn = (
        actions.handle_customer_message(conversation.id, result.bot_seq, clock=clock)
        if result.bot_seq
        else None
    )
    conversation.refresh_from_db()
    return result, turn


def texts(conversation):
    return list(conversation.messages.order_by("seq").values_list("sender_type", "text"))


def test_bot_answers_from_the_knowledge_base(bot_shop, clock):
    conversation, turn = start(bot_shop, "退貨運費誰出？", clock)
    assert conversation.status == Status.BOT and conversation.agent_id is None
    assert turn.outcome == Outcome.ANSWERED and turn.faq.question == "退货运费谁承担"
    assert turn.intent == "return_fee"
    assert texts(conversation)[-1] == ("bot", "亲，七天无理由退货的运费由买家承担。")
    assert turn.answer_seq == 3
    assert Faq.objects.get(id=turn.faq_id).usage_count == 1
    # The answer counts as the first response.
    assert conversation.first_response_at is not None and conversation.waiting_since is None


def test_handling_is_idempotent(bot_shop, clock):
    conversation, turn = start(bot_shop, "什么时候发货", clock)
    assert actions.handle_customer_message(conversation.id, 2, clock=clock) is None
    assert BotTurn.objects.count() == 1 and Message.objects.filter(sender_type="bot").count() == 1


def test_disabled_bot_routes_at_once(bot_shop, clock):
    BotSettings.objects.filter(shop=bot_shop).update(enabled=False)
    f.make_agent(bot_shop)
    customer = f.make_customer(bot_shop)
    conversation, result = inbox_actions.open_conversation(
        shop=bot_shop, customer=customer, first_text="什么时候发货", client_id="c1", clock=clock
    )
    assert result.bot_seq is None and conversation.status == Status.OPEN


def test_asking_for_a_person_hands_off_with_the_history(bot_shop, clock):
    agent = f.make_agent(bot_shop)
    conversation, _turn = start(bot_shop, "什么时候发货", clock)
    _result, turn = say(conversation, "转人工", "c2", clock)
    assert (turn.outcome, turn.reason) == (Outcome.HANDOFF, HandoffReason.HUMAN_REQUEST)
    assert conversation.status == Status.OPEN and conversation.agent_id == agent.id
    # The agent sees the whole conversation: the bot's answer and the handoff note.
    kinds = [kind for kind, _text in texts(conversation)]
    assert kinds == ["system", "customer", "bot", "customer", "system"]
    # Once an agent has it, the bot stays out.
    result, turn = say(conversation, "在吗", "c3", clock)
    assert result.bot_seq is None and turn is None


def test_complaint_intent_hands_off_to_the_complaints_group(bot_shop, clock):
    conversation, turn = start(bot_shop, "我要投诉你们", clock)
    assert turn.outcome == Outcome.HANDOFF and turn.reason in (
        HandoffReason.INTENT,
        HandoffReason.NEGATIVE,
    )
    assert conversation.status == Status.QUEUED and conversation.group.code == "complaints"


def test_angry_customer_is_handed_off(bot_shop, clock):
    conversation, turn = start(bot_shop, "太差劲了，垃圾店铺，骗子！！！", clock)
    assert (turn.outcome, turn.reason) == (Outcome.HANDOFF, HandoffReason.NEGATIVE)
    assert turn.angry


def test_vip_goes_to_an_agent_when_the_shop_says_so(bot_shop, clock):
    _conversation, turn = start(bot_shop, "什么时候发货", clock, tier="vip")
    assert turn.reason == HandoffReason.VIP
    BotSettings.objects.filter(shop=bot_shop).update(handoff_vip=False)
    _conversation, turn = start(bot_shop, "什么时候发货", clock, tier="vip")
    assert turn.outcome == Outcome.ANSWERED


def test_unknown_question_hands_off_and_intent_picks_the_group(bot_shop, clock):
    conversation, turn = start(bot_shop, "再讲个笑话吧", clock)
    assert (turn.outcome, turn.reason) == (Outcome.HANDOFF, HandoffReason.LOW_CONFIDENCE)
    assert conversation.status == Status.QUEUED


def test_same_question_twice_after_two_answers_hands_off(bot_shop, clock):
    conversation, first = start(bot_shop, "什么时候发货", clock)
    _r, second = say(conversation, "几天能发货", "c2", clock)
    assert second.outcome == Outcome.ANSWERED
    _r, third = say(conversation, "到底什么时候发货", "c3", clock)
    assert (third.outcome, third.reason) == (Outcome.HANDOFF, HandoffReason.NOT_RESOLVED)


def test_feedback_counts_and_two_rejections_hand_off(bot_shop, clock):
    conversation, first = start(bot_shop, "什么时候发货", clock)
    actions.record_feedback(conversation.id, first.answer_seq, False, clock=clock)
    first.refresh_from_db()
    assert first.feedback == Feedback.REJECTED
    assert Faq.objects.get(id=first.faq_id).rejected_count == 1
    conversation.refresh_from_db()
    assert conversation.status == Status.BOT
    kind, sorry = texts(conversation)[-1]
    assert kind == "bot" and "抱歉" in sorry  # "sorry, say it another way", in Chinese
    _r, second = say(conversation, "退货运费谁出", "c2", clock)
    assert second.outcome == Outcome.ANSWERED
    actions.record_feedback(conversation.id, second.answer_seq, False, clock=clock)
    conversation.refresh_from_db()
    assert conversation.status == Status.QUEUED
    assert texts(conversation)[-1][0] == "system"


def test_accepted_feedback(bot_shop, clock):
    conversation, turn = start(bot_shop, "什么时候发货", clock)
    actions.record_feedback(conversation.id, turn.answer_seq, True, clock=clock)
    faq = Faq.objects.get(id=turn.faq_id)
    # One answer is one use; the customer's verdict does not count another.
    assert (faq.usage_count, faq.accepted_count) == (1, 1)


def test_bad_feedback_is_refused_and_changes_nothing(bot_shop, clock):
    conversation, turn = start(bot_shop, "什么时候发货", clock)
    with pytest.raises(NotFound):
        actions.record_feedback(conversation.id, 999, True, clock=clock)
    with pytest.raises(NotFound):
        actions.record_feedback(conversation.id, 1, True, clock=clock)  # the greeting
    actions.record_feedback(conversation.id, turn.answer_seq, True, clock=clock)
    with pytest.raises(ActionError) as error:
        actions.record_feedback(conversation.id, turn.answer_seq, False, clock=clock)
    assert error.value.code == "already_rated"
    turn.refresh_from_db()
    assert turn.feedback == Feedback.ACCEPTED
    assert Faq.objects.get(id=turn.faq_id).rejected_count == 0


def test_english_customer_gets_english_handoff_text(bot_shop, clock):
    conversation, turn = start(bot_shop, "I want to talk to a human", clock)
    assert turn.reason == HandoffReason.HUMAN_REQUEST
    assert texts(conversation)[-1][1].startswith("Certainly")


def test_retraining_is_seen_without_restart(bot_shop, clock):
    from kefu.bot.models import Intent, IntentExample

    first = training.intent_model(bot_shop)
    intent = Intent.objects.create(shop=bot_shop, code="invoice", name_zh="发票", name_en="Invoice")
    IntentExample.objects.bulk_create(
        IntentExample(intent=intent, text=t) for t in ["能开发票吗", "发票怎么开", "要增值税发票"]
    )
    report = training.train_intents(bot_shop)
    assert report.trained and report.labels == 6
    second = training.intent_model(bot_shop)
    assert second is not first and "invoice" in second.labels


def test_without_the_bot_the_intent_still_picks_the_group(bot_shop, clock):
    BotSettings.objects.filter(shop=bot_shop).update(enabled=False)
    f.make_agent(bot_shop, "after_sales")
    f.make_agent(bot_shop, "pre_sales")
    returns = f.open_conversation(bot_shop, f.make_customer(bot_shop), "退货邮费谁出", clock=clock)
    assert returns.group.code == "after_sales" and returns.status == Status.OPEN
    shipping = f.open_conversation(bot_shop, f.make_customer(bot_shop), "几天能发货", clock=clock)
    assert shipping.group.code == "pre_sales"
    # The shop's own rules come first.
    f.make_rule(bot_shop, "complaints", keywords="邮费")
    ruled = f.open_conversation(bot_shop, f.make_customer(bot_shop), "退货邮费谁出", clock=clock)
    assert ruled.group.code == "complaints"


def test_greeting_gets_the_bots_own_reply_in_the_customers_language(bot_shop, clock):
    conversation, turn = start(bot_shop, "亲在吗", clock)
    assert (turn.outcome, turn.intent, turn.faq) == (Outcome.ANSWERED, "greeting", None)
    kind, text = texts(conversation)[-1]
    assert kind == "bot" and "小暖" in text and "您好" in text
    assert conversation.messages.order_by("-seq").first().client_id == "talk-2"
    english, _turn = start(bot_shop, "hello", clock)
    assert texts(english)[-1][1].startswith("Hello, I am 小暖")


def test_quiet_bot_conversations_are_closed_by_the_sweep(bot_shop, clock):
    from kefu.bot import tasks
    from kefu.inbox.models import ConversationEvent

    BotSettings.objects.filter(shop=bot_shop).update(idle_close_minutes=30)
    quiet, _turn = start(bot_shop, "什么时候发货", clock)
    clock.advance(minutes=20)
    active, _turn = start(bot_shop, "退货运费谁出", clock)
    handed, _turn = start(bot_shop, "转人工", clock)
    clock.advance(minutes=15)  # quiet: 35 minutes; active and handed over: 15
    assert tasks.close_quiet_conversations(clock) == 1
    quiet.refresh_from_db()
    active.refresh_from_db()
    handed.refresh_from_db()
    assert quiet.status == Status.CLOSED and quiet.closed_at == clock.now()
    assert ConversationEvent.objects.get(conversation=quiet, kind="closed").data == {
        "reason": "bot_idle"
    }
    assert active.status == Status.BOT and handed.status == Status.QUEUED
    assert tasks.close_quiet_conversations(clock) == 0  # idempotent
    clock.advance(minutes=30)
    assert tasks.close_quiet_conversations(clock) == 1  # now the other one too
    # The customer's next message starts a new conversation.
    result = inbox_actions.ingest_message(
        IngestRequest(quiet.id, "customer", "late", "在吗"), clock
    )
    assert result.error is not None and result.error.code == "closed"


def test_a_blocked_answer_becomes_a_handoff(bot_shop, clock):
    from kefu.compliance.models import Violation
    from kefu.compliance.tests.helpers import install_rules

    install_rules(bot_shop)
    Faq.objects.filter(question="什么时候发货").update(answer="亲，加我微信，发货更快哦。")
    from kefu.knowledge import search

    search.reset_cache()
    conversation, turn = start(bot_shop, "什么时候发货", clock)
    assert turn.outcome == Outcome.HANDOFF and turn.reason == HandoffReason.BLOCKED
    assert not Message.objects.filter(conversation=conversation, sender_type="bot").exists()
    violation = Violation.objects.get()
    assert (violation.action, violation.sender_type, violation.rule_code) == (
        "handed_off",
        "bot",
        "wechat",
    )


def test_an_answer_is_screened_once_and_its_warnings_recorded(bot_shop, clock, monkeypatch):
    from kefu.compliance import actions as compliance
    from kefu.compliance.models import Violation
    from kefu.compliance.tests.helpers import install_rules

    install_rules(bot_shop)
    answer = "这不是我的责任，但发货一般48小时内。"
    Faq.objects.filter(question="什么时候发货").update(answer=answer)
    from kefu.knowledge import search

    search.reset_cache()
    screened = []
    real = compliance.screen_outgoing
    monkeypatch.setattr(
        compliance, "screen_outgoing", lambda text, **kw: screened.append(text) or real(text, **kw)
    )
    conversation, turn = start(bot_shop, "什么时候发货", clock)
    assert turn.outcome == Outcome.ANSWERED and texts(conversation)[-1] == ("bot", answer)
    assert screened.count(answer) == 1  # the bot's check is the send's check
    violation = Violation.objects.get(sender_type="bot")
    assert (violation.action, violation.rule_code) == ("sent", "danger")
