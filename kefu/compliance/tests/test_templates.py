"""Shop templates (the greeting, the bot's handoff text) are outgoing messages
too: the shop's rules check them when they are saved and again when sent."""

from __future__ import annotations

import pytest
from django.forms.models import model_to_dict

from kefu.accounts.admin import ShopForm
from kefu.bot.admin import BotSettingsForm
from kefu.bot.models import BotSettings
from kefu.compliance import actions
from kefu.compliance.models import Violation
from kefu.inbox.models import Message
from kefu.tests import factories as f

from .helpers import install_rules

pytestmark = [pytest.mark.django_db, pytest.mark.backend]


def test_check_template_names_what_would_be_blocked():
    shop = f.make_shop()
    install_rules(shop)
    [problem] = actions.check_template("您好，加我微信聊更方便", shop_id=shop.id)
    assert "加我微信" in problem and "平台外" in problem
    # A warning is not a reason to refuse a template; a clean text has none.
    assert actions.check_template("这不是我的责任", shop_id=shop.id) == []
    assert actions.check_template("您好，欢迎光临！", shop_id=shop.id) == []


def test_a_greeting_the_rules_would_block_is_not_saved():
    shop = f.make_shop()
    install_rules(shop)
    data = {**model_to_dict(shop), "greeting": "亲，加我vx有优惠"}
    form = ShopForm(data=data, instance=shop)
    assert not form.is_valid() and "加我vx" in form.errors["greeting"][0]
    form = ShopForm(data={**data, "greeting": "亲，欢迎光临～"}, instance=shop)
    assert form.is_valid(), form.errors


def test_a_handoff_text_the_rules_would_block_is_not_saved():
    shop = f.make_shop()
    install_rules(shop)
    settings = BotSettings.objects.create(shop=shop)
    data = {**model_to_dict(settings), "handoff_text": "人工客服忙，加我微信吧"}
    form = BotSettingsForm(data=data, instance=settings)
    assert not form.is_valid() and "handoff_text" in form.errors
    form = BotSettingsForm(data={**data, "handoff_text": "正在为您转接人工客服"}, instance=settings)
    assert form.is_valid(), form.errors


def test_a_blocked_greeting_is_not_sent_and_is_recorded(clock):
    # Saved before the rule existed (or through the database): the send still screens it.
    shop = f.make_shop(greeting="欢迎！加我微信领券")
    install_rules(shop)
    conversation = f.open_conversation(shop, f.make_customer(shop), "在吗", clock=clock)
    texts = list(Message.objects.filter(conversation=conversation).values_list("text", flat=True))
    assert texts == ["在吗"]  # the customer's message, without the greeting
    [violation] = Violation.objects.filter(conversation=conversation)
    assert (violation.sender_type, violation.action, violation.rule_code) == (
        "system",
        "blocked",
        "wechat",
    )
