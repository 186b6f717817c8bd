import pytest

from kefu.bot import training
from kefu.bot.models import BotSettings, Intent, IntentExample
from kefu.knowledge import actions as knowledge_actions
from kefu.tests import factories as f

INTENTS = {
    "return_fee": (
        "退货运费",
        "after_sales",
        ["退货运费谁出", "退货邮费谁承担", "寄回来的运费谁付", "who pays return shipping"],
    ),
    "shipping_time": (
        "发货时间",
        "pre_sales",
        ["什么时候发货", "几天能发货", "今天能发吗", "when will you ship"],
    ),
    "complaint": (
        "投诉",
        "complaints",
        ["我要投诉", "投诉你们", "我要举报你们", "I want to file a complaint"],
    ),
    "greeting": ("问候", "pre_sales", ["你好", "在吗", "亲在吗", "您好", "hello", "hi there"]),
    "other": (
        "其他",
        "pre_sales",
        ["今天天气怎么样", "讲个笑话", "你几岁了", "推荐一部电影", "tell me a joke"],
    ),
}


@pytest.fixture
def bot_shop(db):
    """A shop whose bot answers first, with two FAQs and three trained intents."""
    shop = f.make_shop()
    editor = f.make_agent(shop, role="supervisor", status="offline")
    for question, paraphrases, answer, intent in (
        (
            "退货运费谁承担",
            ["退货邮费谁出", "寄回运费"],
            "亲，七天无理由退货的运费由买家承担。",
            "return_fee",
        ),
        ("什么时候发货", ["几天发货", "多久发货"], "亲，付款后48小时内发货。", "shipping_time"),
    ):
        knowledge_actions.save_faq(
            editor,
            shop,
            {
                "language": "zh-hans",
                "category": "售后",
                "intent": intent,
                "question": question,
                "paraphrases": paraphrases,
                "answer": answer,
                "status": "published",
            },
        )
    for code, (name, group_code, examples) in INTENTS.items():
        intent = Intent.objects.create(
            shop=shop,
            code=code,
            name_zh=name,
            name_en=code,
            group_code=group_code,
            handoff=code == "complaint",
        )
        IntentExample.objects.bulk_create(IntentExample(intent=intent, text=t) for t in examples)
    training.train_intents(shop)
    BotSettings.objects.create(shop=shop, enabled=True, answer_threshold=0.6)
    shop.editor = editor
    return shop
