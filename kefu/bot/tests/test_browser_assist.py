"""Agent assist in the workbench, end to end in headless Chromium: suggestions
for the customer's latest message, Alt+1…6, the "/" quick-reply picker and the
knowledge tab (kefu/static/kefu/assist.js).

Same setup as kefu/inbox/tests/test_browser.py (its fixtures and helpers are
imported from there): a real uvicorn process with its own SQLite file and the
demo data, including the demo knowledge base (kefu/knowledge/demo/kb.json).
Every wait is an explicit Playwright expect with a deadline; no sleeps.

Routing in the demo sends after-sales questions ("退货") to a queue nobody
answers, so every conversation here starts with a pre-sales question, which
reaches 小美 (shouqian2); the after-sales question follows in the same
conversation.
"""

from __future__ import annotations

import itertools
import json
import re
from pathlib import Path

import pytest

from kefu.inbox.tests.test_browser import (  # noqa: F401 (fixtures)
    AGENT_NAME,
    XSS_PAYLOADS,
    agent_bubbles,
    assert_no_injected_markup,
    browser,
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

KB = json.loads(
    (Path(__file__).resolve().parents[2] / "knowledge" / "demo" / "kb.json").read_text("utf-8")
)
RETURN_FEE = next(faq for faq in KB["faqs"] if faq["question"] == "退货运费谁承担？")
WELCOME = next(reply for reply in KB["quick_replies"] if reply["shortcut"] == "/hi")
OPENING = "你好，请问新疆长绒棉四件套有现货吗？"
COLD_MS = 30_000
_chats = itertools.count(1)

pytestmark = pytest.mark.browser


def start_chat(new_page, *questions: str):
    """Agent 小美 online, a buyer asking OPENING then `questions`; the agent has
    the conversation open. Returns (agent, buyer)."""
    agent = login(new_page())
    set_online(agent)
    buyer = open_widget(new_page())
    opening = f"{OPENING}（{next(_chats)}）"  # each test has its own conversation row
    buyer_send(buyer, opening)
    row = conversation_row(agent, opening)
    expect(row).to_be_visible()
    for text in questions:
        buyer_send(buyer, text)
    last = questions[-1] if questions else opening
    conversation_row(agent, last[:40]).locator(".conv-btn").click()  # previews are cut at 60
    expect(agent_bubbles(agent, "msg-customer", last)).to_be_visible()
    expect(agent.locator("#assist")).to_be_visible()
    # The first suggestions of a fresh server process build the shop's FAQ
    # matcher and intent model (a few seconds): a longer deadline, once.
    expect(agent.locator("#assist")).to_have_attribute("data-state", "ready", timeout=COLD_MS)
    return agent, buyer


def faq_item(page, question: str):
    return page.locator("#assist-faqs .assist-item").filter(has_text=question)


def test_suggestion_alt_1_and_quick_reply_picker(new_page):
    question = "退货运费谁出？"
    agent, buyer = start_chat(new_page, question)
    expect(agent.locator("#assist-for")).to_contain_text(question)
    first = agent.locator("#assist-faqs .assist-item").first
    expect(first).to_contain_text(RETURN_FEE["question"])
    expect(first.locator(".assist-key")).to_have_text("Alt+1")
    expect(first.locator(".assist-conf")).to_have_text(re.compile(r"^\d{1,3}%$"))
    expect(agent.locator("#assist-badges")).to_be_visible()
    shot(agent, "assist-strip-zh")

    # Alt+1: the answer goes into the composer for editing, and is not sent.
    box = agent.locator("#composer-text")
    expect(box).to_be_focused()
    expect(box).to_have_value("")
    agent.keyboard.press("Alt+1")
    expect(box).to_have_value(RETURN_FEE["answer"])
    expect(agent.locator("#composer-counter")).to_have_text(f"{len(RETURN_FEE['answer'])}/5000")
    expect(agent.locator("#messages .msg-agent")).to_have_count(0)

    # A new customer message refreshes the strip (debounced, latest wins).
    box.fill("")
    followup = "发票可以开吗？"
    buyer_send(buyer, followup)
    expect(agent.locator("#assist-for")).to_contain_text(followup)
    expect(faq_item(agent, RETURN_FEE["question"])).to_have_count(0)

    # Collapsing is remembered across reloads.
    agent.click("#assist-toggle")
    expect(agent.locator("#assist-body")).to_be_hidden()
    expect(agent.locator("#assist-toggle")).to_have_attribute("aria-expanded", "false")
    agent.reload()
    conversation_row(agent, followup).locator(".conv-btn").click()
    expect(agent.locator("#assist-body")).to_be_hidden()
    agent.click("#assist-toggle")
    expect(agent.locator("#assist-body")).to_be_visible()

    # "/" picker: shortcut prefix, ↑/↓, Enter inserts the filled-in reply in
    # place of the "/…" token; Enter does not send while the picker is open.
    shop_name = agent.evaluate("[...window.kefuWorkbench.state.shops.values()][0].name")
    expected = WELCOME["text"].replace("{shop_name}", shop_name).replace("{agent_name}", AGENT_NAME)
    assert "{" not in expected
    box.focus()
    box.press_sequentially("/h")
    picker = agent.locator("#qr-picker")
    expect(picker).to_be_visible()
    options = picker.locator(".qr-option")
    expect(picker).to_have_attribute("data-query", "h")  # results for "/h" shown
    expect(options.first.locator(".qr-shortcut")).to_have_text(WELCOME["shortcut"])
    box.press_sequentially("i")
    expect(picker).to_have_attribute("data-query", "hi")
    expect(options.first.locator(".qr-shortcut")).to_have_text("/hi")
    expect(options.first).to_have_attribute("aria-selected", "true")
    shot(agent, "assist-picker-zh")
    if options.count() > 1:
        box.press("ArrowDown")
        expect(options.nth(1)).to_have_attribute("aria-selected", "true")
        box.press("ArrowUp")
        expect(options.first).to_have_attribute("aria-selected", "true")
    box.press("Enter")
    expect(picker).to_be_hidden()
    expect(box).to_have_value(expected)
    expect(agent.locator("#messages .msg-agent")).to_have_count(0)

    # Esc closes the picker and leaves the text alone; a second line can use it too.
    box.press("Shift+Enter")
    box.press_sequentially("/nothing-like-this")
    expect(picker).to_have_attribute("data-query", "nothing-like-this")
    expect(picker.locator(".qr-status")).to_be_visible()
    box.press("Enter")  # nothing to choose: swallowed, not sent
    expect(agent.locator("#messages .msg-agent")).to_have_count(0)
    box.press("Escape")
    expect(picker).to_be_hidden()
    expect(box).to_have_value(expected + "\n/nothing-like-this")


def test_knowledge_tab_traditional_query(new_page):
    agent, _buyer = start_chat(new_page)
    expect(agent.locator("#panel-customer")).to_be_visible()
    agent.keyboard.press("Alt+K")  # or a click on the tab
    expect(agent.locator("#tab-knowledge")).to_have_attribute("aria-selected", "true")
    expect(agent.locator("#panel-customer")).to_be_hidden()
    search = agent.locator("#kb-query")
    expect(search).to_be_focused()
    search.fill("退貨運費誰承擔")  # traditional characters
    hit = agent.locator("#kb-results .kb-item").filter(has_text=RETURN_FEE["question"])
    expect(hit).to_be_visible()
    shot(agent, "assist-knowledge-zh")
    hit.locator(".kb-insert").click()
    box = agent.locator("#composer-text")
    expect(box).to_have_value(RETURN_FEE["answer"])
    expect(box).to_be_focused()
    expect(agent.locator("#messages .msg-agent")).to_have_count(0)

    search.press("Escape")  # clears the search
    expect(search).to_have_value("")
    expect(agent.locator("#kb-results .kb-item")).to_have_count(0)
    expect(agent.locator("#kb-status")).not_to_be_empty()
    agent.click("#tab-customer")
    expect(agent.locator("#panel-customer")).to_be_visible()


def test_hostile_customer_text_stays_inert_in_the_strip(new_page):
    payload = XSS_PAYLOADS[0] + "退货运费谁出" + XSS_PAYLOADS[1]
    agent, _buyer = start_chat(new_page, payload)
    expect(agent.locator("#assist-for")).to_have_text(re.compile(re.escape(payload)))
    expect(agent.locator("#assist[aria-busy]")).to_have_count(0)
    expect(faq_item(agent, RETURN_FEE["question"])).to_be_visible()
    assert_no_injected_markup(agent, "#assist")
    assert_no_injected_markup(agent, "#assist-badges")
    agent.keyboard.press("Alt+1")
    expect(agent.locator("#composer-text")).to_have_value(RETURN_FEE["answer"])
    assert agent.evaluate("typeof window.__xss") == "undefined"
