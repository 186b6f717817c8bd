"""The demo supervisor edits routing rules in the back office, in headless
Chromium: the page opens in Chinese and English and offers only the shop's
own skill groups. Same live server and helpers as kefu/inbox/tests/test_browser.py."""

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


def test_supervisor_edits_routing_rules(new_page, live):
    for locale, title in (("zh-CN", "增加 分配规则"), ("en-US", "Add routing rule")):
        page = login(new_page(locale=locale), "zhuguan")
        page.goto("/admin/routing/routingrule/add/")
        expect(page.locator("h1")).to_have_text(title)
        options = page.locator("select[name=group] option").all_inner_texts()
        assert len(options) > 1 and all("别家" not in option for option in options)
        page.locator("select[name=shop]").select_option(index=1)
        page.locator("select[name=group]").select_option(index=1)
        page.fill("input[name=name]", "退货走专员")
        page.fill("input[name=pattern]", r"(a)\1")
        shot(page, f"routing-rule-{locale[:2]}")
        page.locator("input[name=_save]").click()
        expect(page.locator(".errorlist")).to_have_count(1)
        expect(page.locator("#id_pattern_error")).to_contain_text(
            "正则表达式无效" if locale == "zh-CN" else "Invalid regular expression"
        )
        shot(page, f"routing-rule-refused-{locale[:2]}")
