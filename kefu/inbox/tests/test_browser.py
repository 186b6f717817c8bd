"""End-to-end tests in headless Chromium against a real uvicorn process.

The server runs in its own process with its own SQLite file (kefu.testing.live),
so these tests use no pytest-django database fixture. Every wait is an explicit
poll with a deadline (Playwright's expect/wait_for); there are no sleeps.

Screenshots go to <repo>/screenshots/ (gitignored), or to $KEFU_SCREENSHOTS_DIR;
set KEFU_SCREENSHOTS_DIR="" to skip them.

Demo routing used here: a pre-sales question goes to the online agent of the
pre-sales group with the most free capacity; only 小美 (shouqian2) is ever set
online, so every pre-sales conversation reaches her. An after-sales question
("快递", "物流") waits in the 售后组 queue, whose agents all stay offline.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from kefu.testing import LiveServer

sync_api = pytest.importorskip("playwright.sync_api")
expect = sync_api.expect

CHROMIUM = os.environ.get("KEFU_CHROMIUM") or shutil.which("chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
DEADLINE_MS = 10_000
PASSWORD = "kefu-demo-2026"
AGENT = "shouqian2"
AGENT_NAME = "小美"
REPO = Path(__file__).resolve().parents[3]
_shots = os.environ.get("KEFU_SCREENSHOTS_DIR", str(REPO / "screenshots"))
SCREENSHOTS = Path(_shots) if _shots else None

XSS_PAYLOADS = [
    '<img src=x onerror="window.__xss=1">',
    "<script>window.__xss=1</script>",
    "<svg onload=window.__xss=1>",
    '"><iframe src=javascript:window.__xss=1>',
]
CJK = re.compile(r"[\u4e00-\u9fff]")
# Move the open conversation's clocks (ms) instead of waiting in real time.
SHIFT_WAITING = """(ms) => {
  const s = window.kefuWorkbench.state;
  s.convs.get(s.selectedId).waitingSince -= ms;
}"""
SET_HOLD_LEFT = """(ms) => {
  const s = window.kefuWorkbench.state;
  s.convs.get(s.selectedId).holdUntil = Date.now() + ms;
}"""

expect.set_options(timeout=DEADLINE_MS)


# --- Fixtures ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def live() -> Iterator[LiveServer]:
    """One server for the module: its own SQLite file, migrated, demo data.
    KEFU_BROWSER_BACKENDS=1 runs it on this environment's KEFU_DATABASE_URL /
    KEFU_REDIS_URL instead (use fresh ones: the demo's per-IP limits count there)."""
    with LiveServer(
        settings=os.environ.get("KEFU_LIVE_SETTINGS", "kefu.settings.dev"),
        inherit_backends=os.environ.get("KEFU_BROWSER_BACKENDS") == "1",
        name="kefu-browser",
    ) as server:
        yield server


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM:
        pytest.skip("Chromium not found: install it or set KEFU_CHROMIUM")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def new_page(browser, live):
    """new_page(): a page in a fresh browser context (own cookies and storage).
    Chinese browser by default, like our agents and buyers."""
    contexts = []

    def make(locale: str = "zh-CN", width: int = 1440, height: int = 900):
        context = browser.new_context(
            base_url=live.url, locale=locale, viewport={"width": width, "height": height}
        )
        context.set_default_timeout(DEADLINE_MS)
        contexts.append(context)
        page = context.new_page()
        page.errors = []  # uncaught exceptions in the page fail the test
        page.on("pageerror", lambda error: page.errors.append(str(error)))
        return page

    yield make
    for context in contexts:
        pages = list(context.pages)
        context.close()
        for page in pages:
            assert not page.errors, f"JavaScript errors on {page.url}: {page.errors}"


def shot(page, name: str) -> None:
    if SCREENSHOTS is None:
        return
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"))


# --- Helpers -------------------------------------------------------------------------


def login(page, username: str = AGENT, *, screenshot: str | None = None):
    page.goto("/accounts/login/?next=/workbench/")
    page.fill('input[name="username"]', username)
    page.fill('input[name="password"]', PASSWORD)
    if screenshot:
        shot(page, screenshot)
    page.click('.login-form button[type="submit"]')
    page.wait_for_url("**/workbench/")
    wait_connected(page)
    return page


def wait_connected(page) -> None:
    workbench = page.locator("#workbench")
    expect(workbench).to_have_attribute("data-ready", "1")
    expect(workbench).to_have_attribute("data-connection", "open")


def set_online(page) -> None:
    page.select_option("#status-select", "online")
    # The attribute follows the server's `status` frame, not the select.
    expect(page.locator("#workbench")).to_have_attribute("data-status", "online")


def open_widget(page):
    page.goto("/shop/demo/")
    page.click(".kw-launcher")
    expect(page.locator(".kw-panel")).to_be_visible()
    expect(page.locator(".kw-greeting .kw-bubble")).to_be_visible()  # greeting at once
    return page


def buyer_send(page, text: str) -> None:
    box = page.locator(".kw-input")
    box.fill(text)
    box.press("Enter")
    expect(box).to_have_value("")
    # Acknowledged by the server: no longer pending, stored with an id.
    expect(
        page.locator(".kw-msg.kw-me[data-state='sent'] .kw-bubble").get_by_text(text, exact=True)
    ).to_have_count(1)


def agent_send(page, text: str) -> None:
    box = page.locator("#composer-text")
    box.fill(text)
    box.press("Enter")
    expect(box).to_have_value("")
    expect(agent_bubbles(page, "msg-agent:not(.is-pending):not(.is-error)", text)).to_have_count(1)


def agent_bubbles(page, kind: str, text: str):
    return page.locator(f"#messages .msg.{kind} .msg-bubble").get_by_text(text, exact=True)


def buyer_bubbles(page, text: str, kind: str = "kw-agent"):
    return page.locator(f".kw-msg.{kind} .kw-bubble").get_by_text(text, exact=True)


def conversation_row(page, text: str):
    return page.locator("#conv-list .conv").filter(has_text=text)


def assert_no_injected_markup(page, container: str) -> None:
    assert page.evaluate("typeof window.__xss") == "undefined"
    counts = page.evaluate(
        """(container) => ({
            inMessages: document.querySelectorAll(['img', 'script', 'svg', 'iframe']
                .map(tag => `${container} ${tag}`).join(', ')).length,
            anywhere: document.querySelectorAll('img, svg, iframe').length,
        })""",
        container,
    )
    assert counts == {"inMessages": 0, "anywhere": 0}, counts


# --- Tests -------------------------------------------------------------------------------


@pytest.mark.browser
def test_buyer_and_agent_chat(new_page):
    agent = login(new_page(), screenshot="login-zh")
    set_online(agent)

    buyer = open_widget(new_page())
    question = "请问新疆长绒棉四件套 1.8m 现在有现货吗？"
    buyer_send(buyer, question)

    row = conversation_row(agent, question)
    expect(row).to_be_visible()
    expect(row.locator(".badge-unread")).to_have_text("1")
    row.locator(".conv-btn").click()
    expect(agent_bubbles(agent, "msg-customer", question)).to_be_visible()
    expect(row.locator(".badge-unread")).to_be_hidden()  # read on open
    expect(agent.locator("#customer-name")).not_to_be_empty()

    # The response timer: normal, amber from the shop's first-reply target (30 s),
    # red with an alert from its reply alert (100 s). Time is moved by shifting
    # the conversation's waiting_since in the page instead of waiting.
    wait_timer = agent.locator("#chat-wait")
    expect(wait_timer).to_have_class(re.compile(r"\btimer-ok\b"))
    agent.evaluate(SHIFT_WAITING, 35_000)
    expect(wait_timer).to_have_class(re.compile(r"\btimer-warn\b"))
    expect(agent.locator("#chat-alert")).to_be_hidden()
    agent.evaluate(SHIFT_WAITING, 70_000)
    expect(wait_timer).to_have_class(re.compile(r"\btimer-alert\b"))
    expect(row).to_have_class(re.compile(r"\bis-alert\b"))
    expect(agent.locator("#chat-alert")).to_be_visible()
    expect(agent.locator("#alert-summary")).to_be_visible()
    shot(agent, "workbench-alert-zh")

    reply = "亲，有现货的，今天16点前下单当天发货哦～"
    agent_send(agent, reply)
    expect(buyer_bubbles(buyer, reply)).to_be_visible()
    expect(buyer.locator(".kw-sub")).to_contain_text(AGENT_NAME)
    expect(wait_timer).to_be_hidden()  # answered: no timer, no alert
    expect(agent.locator("#chat-alert")).to_be_hidden()
    expect(agent.locator("#alert-summary")).to_be_hidden()
    shot(agent, "workbench-zh")
    shot(buyer, "shop-widget-open")

    # The buyer reloads: same visitor (token in localStorage), same conversation.
    buyer.reload()
    buyer.click(".kw-launcher")
    for text in (question, reply):
        expect(buyer.locator(".kw-bubble").get_by_text(text, exact=True)).to_have_count(1)

    # A holding message promises an answer time and starts a countdown.
    agent.select_option("#hold-seconds", "60")
    agent.click("#hold-button")
    hold_timer = agent.locator("#chat-hold")
    expect(hold_timer).to_have_class(re.compile(r"\btimer-ok\b"))
    expect(agent.locator("#messages .msg-agent .msg-hold")).to_have_count(1)
    expect(buyer.locator(".kw-msg.kw-agent:not(.kw-greeting)")).to_have_count(2)  # reply + holding
    agent.evaluate(SET_HOLD_LEFT, 20_000)  # amber in the last 30 s
    expect(hold_timer).to_have_class(re.compile(r"\btimer-warn\b"))
    agent.evaluate(SET_HOLD_LEFT, -1_000)  # lapsed: red, "promised time is up"
    expect(hold_timer).to_have_class(re.compile(r"\btimer-alert\b"))
    expect(agent.locator("#chat-alert")).to_be_visible()

    agent.click("#close-button")
    expect(buyer.locator(".kw-ended")).to_be_visible()
    expect(row).to_have_count(0)  # greyed for a moment, then gone


@pytest.mark.browser
def test_hostile_text_is_shown_never_run(new_page):
    """XSS payloads from the buyer and the agent are shown as text; a flood is refused."""
    agent = login(new_page())
    set_online(agent)
    buyer = open_widget(new_page())
    for payload in XSS_PAYLOADS:
        buyer_send(buyer, payload)

    conversation_row(agent, XSS_PAYLOADS[-1]).locator(".conv-btn").click()
    row = agent.locator("#conv-list .conv.is-selected")
    for payload in XSS_PAYLOADS:
        expect(agent_bubbles(agent, "msg-customer", payload)).to_be_visible()
    answer = '<img src=x onerror="window.__xss=1"><b>bold</b>'
    agent_send(agent, answer)
    expect(buyer_bubbles(buyer, answer)).to_be_visible()

    for page, container in ((agent, "#messages"), (buyer, ".kw-messages")):
        assert_no_injected_markup(page, container)
    for payload in XSS_PAYLOADS:
        expect(buyer.locator(".kw-bubble").get_by_text(payload, exact=True)).to_be_visible()
    expect(row.locator(".conv-preview")).to_have_text(answer)  # list preview: text too

    # A flooding buyer hits the shop's message rate limit (20 per fixed 10 s
    # window): 45 sends in one burst exceed it however the windows fall, and the
    # widget says so.
    buyer.evaluate(
        """() => {
            const box = document.querySelector('.kw-input');
            for (let i = 0; i < 45; i++) {
                box.value = `刷屏 ${i}`;
                box.form.requestSubmit();
            }
        }"""
    )
    expect(buyer.locator(".kw-composer-error")).to_be_visible()
    failed = buyer.locator(".kw-msg.is-error")
    expect(failed.first).to_be_visible()
    expect(failed.first.locator(".kw-error button")).to_have_count(2)  # retry, delete
    assert buyer.evaluate("typeof window.__xss") == "undefined"


@pytest.mark.browser
def test_agent_reconnects_and_gets_missed_messages_once(new_page):
    agent = login(new_page())
    set_online(agent)
    buyer = open_widget(new_page())
    first = "在吗？想问下四件套有几种颜色"
    buyer_send(buyer, first)
    row = conversation_row(agent, first)
    row.locator(".conv-btn").click()
    expect(agent_bubbles(agent, "msg-customer", first)).to_be_visible()

    # Drop the agent's socket and hold reconnection while the buyer writes.
    agent.evaluate("window.kefuWorkbench.pauseReconnect(); window.kefuWorkbench.socket.close()")
    expect(agent.locator("#conn-banner")).to_be_visible()
    expect(agent.locator("#workbench")).not_to_have_attribute("data-connection", "open")
    missed = ["第一条：能开发票吗？", "第二条：发顺丰可以吗？", "第三条：周末也发货吗？"]
    for text in missed:
        buyer_send(buyer, text)
    # Written while disconnected: the agent's reply waits as pending.
    offline_reply = "稍等，我帮您确认一下"
    agent.fill("#composer-text", offline_reply)
    agent.press("#composer-text", "Enter")
    expect(agent.locator("#messages .msg.is-pending")).to_have_count(1)
    for text in missed:
        expect(agent_bubbles(agent, "msg-customer", text)).to_have_count(0)

    agent.evaluate("window.kefuWorkbench.resumeReconnect()")
    expect(agent.locator("#workbench")).to_have_attribute("data-connection", "open")
    expect(agent.locator("#conn-banner")).to_be_hidden()
    for text in missed:
        expect(agent_bubbles(agent, "msg-customer", text)).to_have_count(1)
    # The pending reply went out once, with the same client_id.
    expect(agent.locator("#messages .msg.is-pending")).to_have_count(0)
    expect(agent_bubbles(agent, "msg-agent", offline_reply)).to_have_count(1)
    expect(buyer_bubbles(buyer, offline_reply)).to_have_count(1)

    # One more round trip, then nothing may have been duplicated.
    agent_send(agent, "好的，都可以的")
    for text in [first, *missed]:
        expect(agent_bubbles(agent, "msg-customer", text)).to_have_count(1)
    seqs = agent.evaluate(
        "[...document.querySelectorAll('#messages .msg[data-seq]')]"
        ".map(el => Number(el.dataset.seq))"
    )
    assert seqs == sorted(set(seqs)), seqs
    assert seqs == list(range(1, len(seqs) + 1)), seqs  # no gap either

    # The same on the buyer's side: replies written while the widget was offline.
    buyer.evaluate("window.kefuWidget.pauseReconnect(); window.kefuWidget.socket.close()")
    expect(buyer.locator(".kw-banner")).to_be_visible()
    replies = ["发票可以开的", "顺丰也可以", "周末正常发货"]
    for text in replies:
        agent_send(agent, text)
    buyer.evaluate("window.kefuWidget.resumeReconnect()")
    expect(buyer.locator(".kw-banner")).to_be_hidden()
    for text in replies:
        expect(buyer_bubbles(buyer, text)).to_have_count(1)
    buyer_send(buyer, "好的谢谢")
    for text in [first, *missed]:
        expect(buyer.locator(".kw-bubble").get_by_text(text, exact=True)).to_have_count(1)


@pytest.mark.browser
def test_language_switch(new_page):
    page = login(new_page(locale="zh-CN"))
    logout = page.locator("#logout-button")
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
    expect(logout).to_have_text(CJK)
    expect(logout).not_to_have_text("Log out")
    rows = page.locator("#conv-list .conv .conv-btn")
    if rows.count():
        rows.first.click()
        expect(page.locator("#customer")).to_have_attribute("data-loaded", "1")
    shot(page, "workbench-zh-full")
    if rows.count() >= 2:  # keyboard: Alt+↓ selects the next conversation
        selected = page.locator("#conv-list .conv.is-selected")
        first_id = selected.get_attribute("data-id")
        page.keyboard.press("Alt+ArrowDown")
        expect(selected).not_to_have_attribute("data-id", first_id)
        page.keyboard.press("Alt+ArrowUp")
        expect(selected).to_have_attribute("data-id", first_id)

    with page.expect_navigation():  # POST /i18n/setlang/ → back to /workbench/
        page.click('.language-switch button[value="en"]')
    wait_connected(page)
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(logout).to_have_text("Log out")
    expect(page.locator("#tab-mine")).to_contain_text("My conversations")
    if rows.count():
        rows.first.click()
        expect(page.locator("#customer")).to_have_attribute("data-loaded", "1")
    shot(page, "workbench-en")

    with page.expect_navigation():
        page.click('.language-switch button[value="zh-hans"]')
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
    expect(logout).to_have_text(CJK)


@pytest.mark.browser
def test_supervisor_queue_and_transfer(new_page):
    agent = login(new_page())
    set_online(agent)
    supervisor = login(new_page(), "zhuguan")
    expect(supervisor.locator("#tab-queues")).to_be_visible()
    supervisor.click("#tab-queues")
    expect(supervisor.locator("#agent-board tr").filter(has_text=AGENT_NAME)).to_contain_text("/8")

    buyer = open_widget(new_page())
    question = "快递三天了物流还没更新，能帮我查一下吗？"
    buyer_send(buyer, question)
    group = supervisor.locator("#queue-groups .queue-group").filter(has_text="售后组")
    expect(group.locator(".queue-count")).to_have_text("1")  # live `queue` frame
    waiting = supervisor.locator("#waiting-list li").filter(has_text=question)
    expect(waiting).to_be_visible()
    expect(buyer.locator(".kw-sub")).to_be_visible()
    shot(supervisor, "workbench-supervisor-queues")

    waiting.locator("button").click()
    expect(supervisor.locator("#chat-notice")).to_be_visible()  # not assigned to me
    expect(agent_bubbles(supervisor, "msg-customer", question)).to_be_visible()
    dialog = supervisor.locator("#transfer-dialog")
    supervisor.click("#transfer-button")
    expect(dialog).to_be_visible()
    supervisor.keyboard.press("Escape")  # Esc closes dialogs
    expect(dialog).to_be_hidden()
    supervisor.click("#transfer-button")
    expect(dialog).to_be_visible()
    option = supervisor.locator("#transfer-agent option").filter(has_text=AGENT_NAME)
    expect(option).to_have_count(1)
    supervisor.select_option("#transfer-agent", option.get_attribute("value"))
    supervisor.fill("#transfer-note", "物流问题，请跟进")
    supervisor.click("#transfer-submit")
    expect(dialog).to_be_hidden()

    expect(conversation_row(agent, question)).to_be_visible()
    expect(group.locator(".queue-count")).to_have_text("0")
    expect(waiting).to_have_count(0)
    expect(buyer.locator(".kw-sub")).to_contain_text(AGENT_NAME)


@pytest.mark.browser
def test_widget_falls_back_to_http_without_websocket(new_page):
    agent = login(new_page())
    set_online(agent)
    buyer = new_page()
    # A network that refuses WebSockets: every socket fails before opening.
    buyer.add_init_script(
        """
        class RefusedSocket extends EventTarget {
          constructor(url) {
            super();
            this.url = url;
            this.readyState = 0;
            setTimeout(() => {
              this.readyState = 3;
              this.dispatchEvent(new Event('error'));
              const event = new Event('close');
              event.code = 1006;
              this.dispatchEvent(event);
            }, 20);
          }
          send() { throw new Error('not open'); }
          close() {}
        }
        Object.assign(RefusedSocket, {CONNECTING: 0, OPEN: 1, CLOSING: 2, CLOSED: 3});
        window.WebSocket = RefusedSocket;
        """
    )
    open_widget(buyer)
    expect(buyer.locator(".kw")).to_have_attribute("data-conn", "http")
    question = "你们的乳胶枕是天然乳胶吗？"
    buyer_send(buyer, question)
    row = conversation_row(agent, question)
    row.locator(".conv-btn").click()
    reply = "是的亲，泰国天然乳胶，含量93%"
    agent_send(agent, reply)
    expect(buyer_bubbles(buyer, reply)).to_be_visible()
    # The agent hands it to another skill group; over HTTP the widget still
    # learns that the buyer now waits in a queue.
    agent.click("#transfer-button")
    agent.check('#transfer-dialog input[name="target"][value="group"]')
    option = agent.locator("#transfer-group option").filter(has_text="售后组")
    expect(option).to_have_count(1)
    agent.select_option("#transfer-group", option.get_attribute("value"))
    agent.fill("#transfer-note", "客户还想问物流")
    agent.click("#transfer-submit")
    expect(agent.locator("#transfer-dialog")).to_be_hidden()
    expect(row).to_have_count(0)
    expect(buyer.locator(".kw")).to_have_attribute("data-status", "queued")
    # Too long for the shop: the counter turns red and nothing is sent.
    limit = buyer.evaluate("window.kefuWidget.state.maxChars")
    buyer.locator(".kw-input").fill("好" * (limit + 1))
    expect(buyer.locator(".kw-counter")).to_have_class(re.compile("is-over"))
    expect(buyer.locator(".kw-send")).to_be_disabled()
    expect(buyer.locator(".kw-composer-error")).to_be_visible()
