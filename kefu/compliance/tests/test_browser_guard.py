"""The compliance guard in the workbench, end to end in headless Chromium:
findings while typing, one-click replacement, a blocked text cannot be sent,
the override request reaching the supervisor's page and, once allowed, the
buyer; a buyer's phone number masked for the agent.

Same live server and helpers as kefu/inbox/tests/test_browser.py (the demo
shop with the shipped default rules, free shipping advertised)."""

from __future__ import annotations

import itertools

import pytest

from kefu.inbox.tests.test_browser import (  # noqa: F401 (fixtures)
    agent_bubbles,
    browser,
    buyer_bubbles,
    buyer_send,
    conversation_row,
    expect,
    live,
    login,
    new_page,
    open_widget,
    set_online,
    shot,
)

OPENING = "你好，请问四件套有现货吗？"
_chats = itertools.count(1)

pytestmark = pytest.mark.browser


def start_chat(new_page, locale="zh-CN"):
    agent = login(new_page(locale=locale))
    set_online(agent)
    buyer = open_widget(new_page())
    opening = f"{OPENING}（{next(_chats)}）"
    buyer_send(buyer, opening)
    conversation_row(agent, opening).locator(".conv-btn").click()
    expect(agent_bubbles(agent, "msg-customer", opening)).to_be_visible()
    return agent, buyer


def test_findings_while_typing_replace_and_block(new_page):
    agent, _buyer = start_chat(new_page)
    composer = agent.locator("#composer-text")
    panel = agent.locator("#guard-findings")

    composer.fill("亲，这不是我的责任哦")
    expect(panel).to_be_visible()
    expect(panel.locator(".guard-item.is-warn")).to_have_count(1)
    expect(agent.locator("#send-button")).to_be_enabled()
    shot(agent, "guard-warning-zh")
    panel.locator(".guard-replace").click()
    expect(composer).to_have_value("亲，我会帮您联系相关部门哦")
    expect(panel).to_be_hidden()

    composer.fill("加我微信详聊，给您便宜")
    expect(panel.locator(".guard-item.is-block")).to_have_count(1)
    expect(agent.locator("#send-button")).to_be_disabled()
    composer.press("Enter")  # refused in the browser too
    expect(agent.locator(".msg-agent").filter(has_text="加我微信")).to_have_count(0)
    shot(agent, "guard-blocked-zh")


def test_override_goes_to_the_supervisor_and_then_the_buyer(new_page):
    agent, buyer = start_chat(new_page)
    composer = agent.locator("#composer-text")
    text = "您加我微信，我发您实拍视频"
    composer.fill(text)
    expect(agent.locator("#guard-findings .guard-item.is-block").first).to_be_visible()
    agent.once("dialog", lambda dialog: dialog.accept("买家自己要求分开寄"))
    agent.locator("#guard-override").click()
    expect(agent.locator("#guard-findings .guard-note")).to_be_visible()
    expect(composer).to_have_value("")

    supervisor = login(new_page(), "zhuguan")
    supervisor.goto("/compliance/")
    item = supervisor.locator(".override").filter(has_text=text)
    expect(item).to_be_visible()
    shot(supervisor, "compliance-page-zh")
    item.locator('input[name="reason"]').fill("已与买家确认分开寄送")
    item.locator('button[value="allow"]').click()
    expect(supervisor.locator(".flash-success")).to_be_visible()
    expect(buyer_bubbles(buyer, text)).to_be_visible()


def test_buyer_phone_is_masked_for_the_agent(new_page):
    agent, buyer = start_chat(new_page, locale="en-US")
    buyer_send(buyer, "我的电话是13812345678，地址改一下")
    bubble = agent.locator("#messages .msg-customer .msg-bubble").filter(has_text="138****5678")
    expect(bubble).to_be_visible()
    expect(agent.locator(".msg-customer").filter(has_text="13812345678")).to_have_count(0)
    expect(agent.locator(".msg-reveal").last).to_be_visible()
    shot(agent, "masked-phone-en")


@pytest.mark.parametrize("locale", ["zh-CN", "en-US"])
def test_supervisor_pages_in_both_languages(new_page, locale):
    supervisor = login(new_page(locale=locale), "zhuguan")
    supervisor.goto("/compliance/")
    expect(supervisor.locator("h1")).to_have_text("合规" if locale == "zh-CN" else "Compliance")
    shot(supervisor, f"compliance-{locale}")
    supervisor.goto("/compliance/audit/")
    expect(supervisor.locator("table, .empty").first).to_be_visible()
    shot(supervisor, f"audit-{locale}")
