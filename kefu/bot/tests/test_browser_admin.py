"""The demo supervisor's bot settings in the back office, in headless
Chromium: a handoff text the shop's rules would block is refused when saved,
with the rule's explanation, in Chinese and English. Same live server and
helpers as kefu/inbox/tests/test_browser.py."""

from __future__ import annotations

import pytest

from kefu.inbox.tests.test_browser import (  # noqa: F401 (fixtures)
    browser,
    expect,
    live,
    login,
    new_page,
    shot,
)

pytestmark = pytest.mark.browser


def test_supervisor_cannot_save_a_handoff_text_the_rules_block(new_page, live):
    for locale, explained in (("zh-CN", "平台"), ("en-US", "platform")):
        page = login(new_page(locale=locale), "zhuguan")
        page.goto("/admin/bot/botsettings/")
        page.locator("#result_list tbody th a").first.click()
        page.fill("textarea[name=handoff_text]", "人工客服忙，加我微信聊吧")
        page.locator("input[name=_save]").click()
        error = page.locator("#id_handoff_text_error")
        expect(error).to_contain_text("“加我微信聊”")
        expect(error).to_contain_text(explained)  # the rule's explanation, in the page's language
        shot(page, f"bot-handoff-refused-{locale[:2]}")


def test_back_office_names_the_apps_in_the_page_language(new_page, live):
    for locale, bot, index in (("zh-CN", "机器人", "机器人"), ("en-US", "Bot", "Bot")):
        page = login(new_page(locale=locale), "zhuguan")
        page.goto("/admin/bot/botsettings/")
        breadcrumbs = page.locator(".breadcrumbs")
        expect(breadcrumbs).to_contain_text(bot)
        assert " bot " not in f" {breadcrumbs.inner_text()} "  # not the lower-case app label
        shot(page, f"bot-admin-breadcrumbs-{locale[:2]}")
        page.goto("/admin/")
        expect(page.locator("#content-main")).to_contain_text(index)
        shot(page, f"admin-index-{locale[:2]}")
