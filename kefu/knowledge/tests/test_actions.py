import datetime as dt

import pytest
from django.utils import translation

from kefu.core.errors import ActionError, NotFound, PermissionDenied
from kefu.knowledge import actions
from kefu.knowledge.models import Faq, FaqVersion, KnowledgeRevision, QuickReply, Synonym
from kefu.tests import factories as f

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


def revision(shop) -> int:
    row = KnowledgeRevision.objects.filter(shop=shop).first()
    return row.revision if row else 0


def test_every_saved_change_is_a_version_with_who_changed_it(shop, supervisor):
    trainer = f.make_agent(shop, role="trainer", status="offline")
    faq = actions.save_faq(
        supervisor,
        shop,
        {"category": "物流", "question": "几天发货？", "answer": "48 小时内。"},
        note="first",
    )
    assert (faq.version, faq.status, faq.created_by, faq.updated_by) == (
        1,
        "draft",
        supervisor,
        supervisor,
    )
    actions.save_faq(trainer, shop, {"answer": "24 小时内。"}, faq_id=faq.id, note="faster")
    actions.publish_faq(supervisor, faq.id)
    faq.refresh_from_db()
    assert (faq.version, faq.status, faq.answer, faq.updated_by) == (
        3,
        "published",
        "24 小时内。",
        supervisor,
    )
    rows = list(FaqVersion.objects.filter(faq=faq).order_by("version"))
    assert [(v.version, v.changed_by, v.note) for v in rows] == [
        (1, supervisor, "first"),
        (2, trainer, "faster"),
        (3, supervisor, "Published"),
    ]
    assert rows[0].snapshot["answer"] == "48 小时内。"
    assert rows[1].snapshot["answer"] == "24 小时内。"
    assert rows[2].snapshot["status"] == "published"
    assert revision(shop) == 3


def test_a_save_that_changes_nothing_writes_nothing(shop, supervisor):
    faq = actions.save_faq(
        supervisor, shop, {"category": "物流", "question": "几天发货？", "answer": "48 小时内。"}
    )
    before = revision(shop)
    same = actions.save_faq(
        supervisor, shop, {"answer": "  48 小时内。 ", "paraphrases": []}, faq_id=faq.id
    )
    assert same.version == 1
    assert FaqVersion.objects.filter(faq=faq).count() == 1
    assert revision(shop) == before


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"question": "   "}, "question", "Question is empty."),
        ({"category": ""}, "category", "Category is empty."),
        ({"valid_from": "2026-13-01"}, "valid_from", "Valid from is not a date"),
        (
            {"valid_from": "2026-06-10", "valid_to": "2026-06-01"},
            "valid_to",
            "stops being valid before it starts",
        ),
        ({"language": "fr"}, "language", "Language: unknown value “fr”"),
        ({"status": "live"}, "status", "Status: unknown value “live”"),
        ({"status": "published", "answer": ""}, "answer", "needs an answer"),
        ({"paraphrases": ["a | b"]}, "paraphrases", "may not contain"),
        ({"intent": "发货 时间"}, "intent", "The intent is a code"),
        ({"colour": "red"}, "colour", "Unknown field"),
    ],
)
def test_bad_faq_input_is_refused_with_a_clear_error_and_nothing_stored(
    shop, supervisor, fields, field, message
):
    data = {"category": "物流", "question": "几天发货？", "answer": "48 小时内。", **fields}
    with pytest.raises(actions.InvalidField) as error:
        actions.save_faq(supervisor, shop, data)
    assert error.value.field == field and message in error.value.message
    assert Faq.objects.count() == 0 and FaqVersion.objects.count() == 0
    assert revision(shop) == 0


def test_duplicate_question_is_refused(shop, supervisor, make_faq):
    first = make_faq("几天发货？")
    with pytest.raises(actions.InvalidField) as error:
        make_faq("几天发货？", answer="另一个答案")
    assert error.value.field == "question" and f"#{first.id}" in error.value.message
    assert Faq.objects.count() == 1


def test_agents_cannot_edit_team_faqs_and_other_shops_are_404(shop, agent, other_shop, make_faq):
    faq = make_faq()
    with pytest.raises(PermissionDenied):
        actions.save_faq(agent, shop, {"answer": "改了"}, faq_id=faq.id)
    with pytest.raises(PermissionDenied):
        actions.save_faq(agent, shop, {"category": "x", "question": "y", "answer": "z"})
    outsider = f.make_agent(other_shop, role="supervisor", status="offline")
    with pytest.raises(NotFound):
        actions.save_faq(outsider, shop, {"answer": "改了"}, faq_id=faq.id)
    with pytest.raises(NotFound):
        actions.publish_faq(outsider, faq.id)
    with pytest.raises(NotFound):
        # The FAQ's id with the outsider's own shop: still not theirs.
        actions.save_faq(outsider, other_shop, {"answer": "改了"}, faq_id=faq.id)
    faq.refresh_from_db()
    assert (faq.answer, faq.version) == ("付款后 48 小时内发货。", 1)


def test_draft_from_questions_and_merging_into_an_existing_draft(shop):
    faq = actions.draft_faq_from_questions(shop, ["  能开发票吗", "能开发票吗", "发票怎么开", ""])
    assert (faq.status, faq.question, faq.paraphrases, faq.language, faq.answer) == (
        "draft",
        "能开发票吗",
        ["发票怎么开"],
        "zh-hans",
        "",
    )
    again = actions.draft_faq_from_questions(shop, ["能开发票吗", "可以开专票吗"])
    assert again.id == faq.id and again.paraphrases == ["发票怎么开", "可以开专票吗"]
    assert again.version == 2
    english = actions.draft_faq_from_questions(shop, ["Can I get an invoice?"])
    assert english.language == "en"
    with pytest.raises(actions.InvalidField):
        actions.draft_faq_from_questions(shop, ["  ", ""])
    assert Faq.objects.count() == 2


def test_record_faq_use_counts(make_faq):
    faq = make_faq()
    actions.record_faq_use(faq.id, None)
    actions.record_faq_use(faq.id, True)
    actions.record_faq_use(faq.id, True)
    actions.record_faq_use(faq.id, False)
    faq.refresh_from_db()
    assert (faq.usage_count, faq.accepted_count, faq.rejected_count, faq.version) == (4, 2, 1, 1)
    with pytest.raises(NotFound):
        actions.record_faq_use(999_999, True)


def reply_fields(**fields):
    return {
        "category": "greeting",
        "title": "问候",
        "shortcut": "/hi",
        "text": "您好 {customer_name}，我是{shop_name}的{agent_name}。",
        **fields,
    }


def test_quick_reply_variables_are_filled_and_unknown_ones_stay(shop, supervisor, agent, clock):
    customer = f.make_customer(shop, name="张三")
    conversation = f.open_conversation(shop, customer, "在吗", clock=clock)
    text = "{customer_name}您好，我是{shop_name}的{agent_name}，订单 {order_no} 已发货。{other}"
    assert actions.render_quick_reply(text, conversation=conversation, agent=agent) == (
        "张三您好，我是暖暖家纺的小王，订单 {order_no} 已发货。{other}"
    )
    # Without a conversation the customer is unknown: that placeholder stays too.
    assert actions.render_quick_reply(text, agent=agent, shop=shop) == (
        "{customer_name}您好，我是暖暖家纺的小王，订单 {order_no} 已发货。{other}"
    )


def test_team_replies_need_an_editor_personal_ones_are_private(shop, supervisor, agent):
    team, changed = actions.save_quick_reply(supervisor, shop, reply_fields())
    assert changed and team.owner is None
    with pytest.raises(PermissionDenied):
        actions.save_quick_reply(agent, shop, reply_fields(shortcut="/bye"))
    with pytest.raises(PermissionDenied):
        actions.save_quick_reply(agent, shop, {"text": "改"}, reply_id=team.id)
    mine, _ = actions.save_quick_reply(agent, shop, reply_fields(), personal=True)
    assert mine.owner == agent and mine.shortcut == "/hi"  # the same shortcut is fine: personal
    colleague = f.make_agent(shop, status="offline")
    with pytest.raises(NotFound):
        actions.save_quick_reply(colleague, shop, {"text": "偷改"}, reply_id=mine.id)
    with pytest.raises(NotFound):
        actions.delete_quick_reply(colleague, mine.id)
    with pytest.raises(actions.InvalidField) as error:
        actions.save_quick_reply(agent, shop, reply_fields(title="另一个"), personal=True)
    assert error.value.field == "shortcut"
    mine.refresh_from_db()
    assert mine.text == reply_fields()["text"]
    assert QuickReply.objects.count() == 2


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"category": "weather"}, "category"),
        ({"shortcut": "hi"}, "shortcut"),
        ({"shortcut": "/h i"}, "shortcut"),
        ({"text": ""}, "text"),
        ({"position": "first"}, "position"),
    ],
)
def test_bad_quick_reply_input_stores_nothing(shop, supervisor, fields, field):
    with pytest.raises(actions.InvalidField) as error:
        actions.save_quick_reply(supervisor, shop, reply_fields(**fields))
    assert error.value.field == field
    assert QuickReply.objects.count() == 0


def test_unknown_category_message_lists_the_choices(shop, supervisor):
    with pytest.raises(ActionError) as error:
        actions.save_quick_reply(supervisor, shop, reply_fields(category="weather"))
    assert "weather" in error.value.message and "after_sales" in error.value.message


def test_synonyms_bump_the_revision_and_need_two_terms(shop, supervisor):
    actions.save_synonyms(supervisor, shop, [["快递", "物流"], ["退款", "退钱"]])
    assert revision(shop) == 1
    actions.save_synonyms(supervisor, shop, [["快递", "物流"], ["退款", "退钱"]])
    assert revision(shop) == 1  # unchanged: no bump
    with pytest.raises(actions.InvalidField):
        actions.save_synonym(supervisor, shop, ["快递", "快遞"])  # the same term, normalised
    with pytest.raises(actions.InvalidField):
        actions.save_synonyms(supervisor, shop, [["快递", "物流"], ["单独"]])
    assert [s.terms for s in Synonym.objects.order_by("id")] == [["快递", "物流"], ["退款", "退钱"]]
    assert revision(shop) == 1


def test_scripts_cases_manuals(shop, supervisor, agent, clock):
    script = actions.save_script(
        supervisor, shop, {"stage": "bargaining", "title": "议价", "text": "亲，价格已经很优惠了"}
    )
    assert script.stage == "bargaining"
    with pytest.raises(actions.InvalidField):
        actions.save_script(supervisor, shop, {"stage": "haggling", "title": "x", "text": "y"})
    with pytest.raises(PermissionDenied):
        actions.save_script(agent, shop, {"stage": "greeting", "title": "x", "text": "y"})
    case = actions.save_case(
        supervisor,
        shop,
        {
            "kind": "success",
            "title": "化解差评",
            "situation": "买家差评",
            "handling": "道歉补偿",
            "tags": ["差评", "差评", "投诉"],
        },
        clock=clock,
    )
    assert case.tags == ["差评", "投诉"] and case.created_by == supervisor
    manual = actions.save_manual(
        supervisor, shop, {"kind": "service", "title": "服务手册", "body": "# 总则"}, clock=clock
    )
    again = actions.save_manual(
        supervisor, shop, {"kind": "service", "title": "服务手册", "body": "# 总则\n- 微笑"}
    )
    assert again.id == manual.id and again.version == 2
    assert (
        actions.save_manual(
            supervisor, shop, {"kind": "service", "title": "服务手册", "body": "# 总则\n- 微笑"}
        ).version
        == 2
    )


def test_validity_dates_accept_dates_and_iso_text(shop, supervisor):
    faq = actions.save_faq(
        supervisor,
        shop,
        {
            "category": "活动",
            "question": "618 有优惠吗",
            "answer": "满 300 减 30",
            "valid_from": dt.date(2026, 6, 1),
            "valid_to": "2026-06-18",
        },
    )
    assert (faq.valid_from, faq.valid_to) == (dt.date(2026, 6, 1), dt.date(2026, 6, 18))
