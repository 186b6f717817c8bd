"""The knowledge-gap report: grouping, the one-click draft, and who may see it."""

import pytest
from django.test import Client

from kefu.bot import gaps
from kefu.bot.models import BotTurn, Feedback, HandoffReason, Outcome
from kefu.core.errors import ActionError
from kefu.knowledge.models import Faq, FaqVersion
from kefu.tests import factories as f

pytestmark = pytest.mark.django_db

QUESTIONS = [
    ("被套可以机洗吗", Outcome.HANDOFF, HandoffReason.LOW_CONFIDENCE, ""),
    ("被套能不能机洗", Outcome.HANDOFF, HandoffReason.LOW_CONFIDENCE, ""),
    ("被套可以用洗衣机洗吗", Outcome.ANSWERED, "", Feedback.REJECTED),
    ("你们支持花呗分期吗", Outcome.HANDOFF, HandoffReason.LOW_CONFIDENCE, ""),
    ("花呗分期可以吗", Outcome.HANDOFF, HandoffReason.NOT_RESOLVED, ""),
    # Not gaps: a person was asked for, or the answer helped.
    ("转人工", Outcome.HANDOFF, HandoffReason.HUMAN_REQUEST, ""),
    ("什么时候发货", Outcome.ANSWERED, "", Feedback.ACCEPTED),
]


@pytest.fixture
def report(clock):
    shop = f.make_shop()
    conversation = f.open_conversation(shop, f.make_customer(shop), "你好", clock=clock)
    for seq, (text, outcome, reason, feedback) in enumerate(QUESTIONS, start=10):
        BotTurn.objects.create(
            shop=shop,
            conversation=conversation,
            message_seq=seq,
            text=text,
            intent="care" if "洗" in text else "",
            outcome=outcome,
            reason=reason,
            feedback=feedback,
            created_at=clock.now(),
        )
    return shop


def test_similar_questions_are_grouped(report, clock):
    groups = gaps.group_questions(gaps.gap_turns(report.id, clock=clock))
    sets = sorted(sorted(g.questions) for g in groups)
    assert sets == sorted(
        [
            sorted(["被套可以机洗吗", "被套能不能机洗", "被套可以用洗衣机洗吗"]),
            sorted(["你们支持花呗分期吗", "花呗分期可以吗"]),
        ]
    )
    assert groups[0].size == 3 and groups[0].intent == "care"


def test_old_turns_are_left_out(report, clock):
    clock.advance(days=2)
    assert gaps.gap_turns(report.id, days=1, clock=clock).count() == 0


def test_one_action_drafts_an_faq_and_clears_the_group(report, clock):
    editor = f.make_agent(report, role="supervisor")
    group = gaps.group_questions(gaps.gap_turns(report.id, clock=clock))[0]
    faq = gaps.draft_faq_from_gap(editor, report, group.turn_ids, clock=clock)
    assert faq.status == "draft" and faq.intent == "care"
    assert {faq.question, *faq.paraphrases} == set(group.questions)
    assert FaqVersion.objects.filter(faq=faq).count() == 1  # one draft, one version
    remaining = gaps.group_questions(gaps.gap_turns(report.id, clock=clock))
    assert len(remaining) == 1
    with pytest.raises(ActionError):  # the same group twice is refused
        gaps.draft_faq_from_gap(editor, report, group.turn_ids, clock=clock)
    assert Faq.objects.count() == 1


def test_report_page_for_editors_only(report):
    client = Client()
    supervisor = f.make_agent(report, role="supervisor")
    client.force_login(supervisor)
    page = client.get("/bot/gaps/")
    assert page.status_code == 200
    assert "被套" in page.content.decode()
    group = gaps.group_questions(gaps.gap_turns(report.id))[0]
    posted = client.post("/bot/gaps/draft", {"shop": report.slug, "turn": group.turn_ids})
    faq = Faq.objects.get()
    assert posted.status_code == 302 and posted.url.endswith(f"/knowledge/faq/{faq.id}/change/")
    # The supervisor can write the answer there: the back office is open to them.
    assert client.get(posted.url).status_code == 200

    agent = f.make_agent(report)
    client.force_login(agent)
    assert client.get("/bot/gaps/").status_code == 403
    assert client.post("/bot/gaps/draft", {"shop": report.slug, "turn": [1]}).status_code == 403
    outsider = f.make_agent(f.make_shop(), role="supervisor")
    client.force_login(outsider)
    page = client.get(f"/bot/gaps/?shop={report.slug}")
    assert "被套" not in page.content.decode()


def test_report_lists_stale_and_unhelpful_answers(report, clock):
    import datetime as dt

    from kefu.knowledge import actions as knowledge_actions
    from kefu.knowledge.queries import faq_health

    editor = f.make_agent(report, role="supervisor")

    def faq(question, **fields):
        return knowledge_actions.save_faq(
            editor,
            report,
            {"category": "售后", "question": question, "answer": "答", "status": "published"}
            | fields,
        )

    stale = faq("旧的问题", review_due=dt.date(2020, 1, 1))
    fresh = faq("新的问题", review_due=dt.date(2999, 1, 1))
    knowledge_actions.record_faq_use(fresh.id, False)
    knowledge_actions.record_faq_use(fresh.id, None)
    health = faq_health(report, clock)
    assert health["due"] == [stale]
    assert health["unhelpful"] == [fresh] and health["most_used"] == [fresh]
