import csv
from pathlib import Path

import pytest

from kefu.bot.nlp.sentiment import SentimentModel, SentimentResult


@pytest.fixture(scope="module")
def model():
    return SentimentModel.shipped()


def test_shipped_is_cached(model):
    assert SentimentModel.shipped() is model


@pytest.mark.parametrize(
    "text",
    [
        "饭菜送到都凉了，太难吃了",
        "等了两个小时还没送到",
        "质量太差，穿一次就坏了",
        "東西壞了，很失望",
    ],
)
def test_chinese_negative(model, text):
    r = model.predict(text)
    assert isinstance(r, SentimentResult)
    assert r.label == "negative"
    assert -1.0 <= r.score < 0


@pytest.mark.parametrize("text", ["味道很好，送餐也快", "非常满意，下次还买", "小哥态度很好，谢谢"])
def test_chinese_positive(model, text):
    r = model.predict(text)
    assert r.label == "positive"
    assert 0 < r.score <= 1.0
    assert not r.angry


@pytest.mark.parametrize(
    "text",
    ["I never received my package and nobody answers", "The charger stopped working after a day"],
)
def test_english_negative(model, text):
    assert model.predict(text).label == "negative"


def test_english_positive(model):
    r = model.predict("Thank you so much, great service!")
    assert r.label == "positive"
    assert r.score > 0


def test_angry(model):
    assert model.predict("骗子！收了钱不发货，我要投诉！！").angry
    assert model.predict("This is ridiculous, the WORST service EVER!!!").angry
    assert not model.predict("送餐有点慢").angry


def test_neutral_question(model):
    assert model.predict("请问可以开发票吗").label == "neutral"
    assert model.predict("What are your opening hours?").label == "neutral"
    assert model.predict("").label == "neutral"


def test_adapt_changes_predictions(model):
    # A shop where "辣" (spicy) is praise and "不辣" a complaint.
    texts = ["很辣", "特别辣", "够辣", "辣得过瘾", "真辣", "好辣好辣"] * 3 + [
        "不辣",
        "一点都不辣",
        "完全不辣",
        "根本不辣",
        "不够辣",
        "没有辣味",
    ] * 3
    labels = ["positive"] * 18 + ["negative"] * 18
    adapted = model.adapt(texts, labels)
    assert adapted is not model
    assert adapted.predict("很辣很辣").label == "positive"
    assert adapted.predict("一点也不辣").label == "negative"
    # The shipped model is unchanged.
    assert SentimentModel.shipped() is model


def test_adapt_rejects_bad_labels(model):
    with pytest.raises(ValueError):
        model.adapt(["a", "b"], ["negative", "angry"])
    with pytest.raises(ValueError):
        model.adapt(["a", "b"], ["negative", "negative"])


def test_serialization_round_trip(model):
    adapted = model.adapt(
        ["好", "很好", "不错", "差", "很差", "不行"], ["positive"] * 3 + ["negative"] * 3
    )
    again = SentimentModel.from_bytes(adapted.to_bytes())
    for t in ["很好吃", "太差了", "hello"]:
        assert again.predict(t) == adapted.predict(t)


# Calm pre-/after-sales questions must never read as complaints: a negative label
# hands the chat to a person and shows a red badge on the workbench.
CALM_QUESTIONS = [
    "请问这款蚕丝被有现货吗？",
    "这个枕头多少钱一对",
    "退货的运费是谁承担",
    "你好，床笠有1.8米的吗？",
    "今天下单什么时候发货",
    "可以开电子发票吗",
    "退货寄到哪个地址",
    "羽绒被能用洗衣机洗吗",
    "麻烦帮我查一下快递到哪了",
    "退款大概几天能到账",
    "能换一个颜色吗",
    "新疆地区包邮吗",
    "How do I send this back?",
    "When will my order ship?",
    "Can I get an invoice for my order?",
    "Do you deliver to Macau?",
    "How long does the refund usually take?",
    "Is the grey duvet cover still in stock?",
    "Can I change the shipping address?",
    "What is your return policy for opened items?",
]


@pytest.mark.parametrize("text", CALM_QUESTIONS)
def test_calm_questions_are_neutral(model, text):
    r = model.predict(text)
    assert r.label == "neutral", (text, r)
    assert abs(r.score) < 0.35, (text, r)
    assert not r.angry


COMPLAINTS = [
    "都五天了还没发货，太慢了",
    "质量太差了，洗了一次就起球",
    "客服态度恶劣，问什么都不回",
    "收到的被子一股怪味，要退货",
    "发错货了，我买的是灰色的",
    "My parcel is two weeks late and nobody answers my emails",
    "The pillowcase ripped after one wash, terrible quality",
    "You sent me the wrong size and I'm still waiting for my refund",
]


@pytest.mark.parametrize("text", COMPLAINTS)
def test_complaints_stay_negative(model, text):
    r = model.predict(text)
    assert r.label == "negative", (text, r)
    assert r.score < -0.3


@pytest.mark.parametrize(
    "text",
    ["骗子！说好的发货一直不发，我要去12315投诉你们！！", "This is a SCAM, WORST shop EVER!!!"],
)
def test_angry_complaints(model, text):
    r = model.predict(text)
    assert r.label == "negative" and r.angry, (text, r)


# ------------------------------------------------------------------ shipped-model cache
def _fresh(monkeypatch, cache_dir, model, calls=None, delay=0.0):
    """Forget the process-wide model; "building" returns the already built one (fast)."""
    import time

    from kefu.bot.nlp import sentiment as s

    monkeypatch.setenv("KEFU_NLP_CACHE_DIR", str(cache_dir))
    monkeypatch.setattr(s, "_model", None)

    def build():
        if calls is not None:
            calls.append(1)
        time.sleep(delay)
        return model.zh

    monkeypatch.setattr(s, "_build_zh", build)
    return s


def test_corrupt_cache_is_rebuilt(monkeypatch, tmp_path, model):
    calls = []
    s = _fresh(monkeypatch, tmp_path, model, calls)
    path = s._cache_path()
    path.write_bytes(b"not an npz file")
    again = SentimentModel.shipped()
    assert again.predict("质量太差了，洗一次就坏").label == "negative"
    assert calls == [1]
    assert s._ZhModel.load(path).classes  # rewritten with a valid model
    # The next process loads it instead of building.
    monkeypatch.setattr(s, "_model", None)
    assert SentimentModel.shipped().predict("太慢了，差评").label == "negative"
    assert calls == [1]


def test_models_of_older_resources_are_removed(monkeypatch, tmp_path, model):
    s = _fresh(monkeypatch, tmp_path, model)
    stale = [tmp_path / "sentiment-0123456789abcdef.npz", tmp_path / "sentiment-old.pkl"]
    for path in stale:
        path.write_bytes(b"old")
    unrelated = tmp_path / "notes.txt"
    unrelated.write_text("keep")
    SentimentModel.shipped()
    assert s._cache_path().exists()
    assert not any(path.exists() for path in stale) and unrelated.exists()


def test_unwritable_cache_still_predicts(monkeypatch, tmp_path, model):
    blocker = tmp_path / "file-not-dir"
    blocker.write_text("x")
    s = _fresh(monkeypatch, blocker / "sub", model)  # mkdir fails: a file is in the way
    m = SentimentModel.shipped()
    assert m.predict("请问什么时候发货").label == "neutral"
    assert s._model is m


def test_concurrent_first_use_builds_once(monkeypatch, tmp_path, model):
    import threading

    calls = []
    s = _fresh(monkeypatch, tmp_path, model, calls, delay=0.3)
    out = []
    threads = [
        threading.Thread(target=lambda: out.append(SentimentModel.shipped())) for _ in range(3)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(calls) == 1
    assert out[0] is out[1] is out[2]
    assert [p.name for p in tmp_path.iterdir()] == [s._cache_path().name]  # no temp files left


# ------------------------------------------------------- delivery / tweets (team-written)
DELIVERY_COMPLAINTS = [
    "送餐太慢了",
    "饭都凉了",
    "汤洒了一半",
    "少送了一份",
    "骑手态度差",
    "味道不错就是送得太慢",
    "等了一个半小时，饭菜全凉了",
    "备注了不要辣还是放了一堆辣椒",
]


@pytest.mark.parametrize("text", DELIVERY_COMPLAINTS)
def test_delivery_complaints_are_negative(model, text):
    r = model.predict(text)
    assert r.label == "negative", (text, r)


@pytest.mark.parametrize(
    "text",
    ["不难吃，还挺香的", "送得不慢，二十分钟就到了", "没有送错，东西都齐", "一点都不油腻，很清爽"],
)
def test_negated_complaint_words_are_not_negative(model, text):
    r = model.predict(text)
    assert r.label == "positive", (text, r)


def test_negated_complaint_lexicon_flip():
    from kefu.bot.nlp.sentiment import _lexicons

    zh = _lexicons()[0]
    assert zh.features("难吃")[0] > 0 and zh.features("难吃")[1] == 0
    neg, pos, _ = zh.features("一点都不难吃")
    assert neg == 0 and pos > 0
    # the negation of a topic word is itself the complaint
    assert zh.features("商家不给退款")[0] > 0


ENGLISH_TWEET_COMPLAINTS = [
    "@airline great, another delay. 3 hours on the tarmac",
    "still waiting for my refund, three weeks now",
    "no one answers the phone, been on hold for an hour",
    "worst service ever #fail",
    "you cancelled my flight and nobody told me",
    "charged me twice and nobody will fix it",
    "never again.",
    "why is my parcel marked as delivered when it's not here?",
    "thanks for losing my bag again",
    "my internet is down again, third time this week",
]


@pytest.mark.parametrize("text", ENGLISH_TWEET_COMPLAINTS)
def test_english_tweet_complaints(model, text):
    r = model.predict(text)
    assert r.label == "negative", (text, r)


@pytest.mark.parametrize(
    "text",
    [
        "Can I change my seat?",
        "Is my flight on time?",
        "How long does delivery usually take?",
        "Does the refund go back to my card?",
        "What is the cancellation policy?",
        "Please send me the invoice",
        "I need to update my address",
        "骑手大概多久到",
        "能送到宿舍楼下吗",
        "退货运费谁来出",
    ],
)
def test_more_calm_questions_are_neutral(model, text):
    r = model.predict(text)
    assert r.label == "neutral", (text, r)
    assert abs(r.score) < 0.35, (text, r)


# ------------------------------------------------------- team sanity sets (tests/data)
# Written by the team for these tests only (never trained on); see tests/data/README.txt.
DATA = Path(__file__).resolve().parent / "data"


def _sanity(model, name):
    with (DATA / name).open(encoding="utf-8", newline="") as f:
        rows = [(r["text"], r["label"]) for r in csv.DictReader(f)]
    pred = [model.predict(t).label for t, _ in rows]
    acc = sum(p == y for p, (_, y) in zip(pred, rows, strict=True)) / len(rows)
    neg = [p for p, (_, y) in zip(pred, rows, strict=True) if y == "negative"]
    return acc, sum(p == "negative" for p in neg) / len(neg)


def test_english_support_tweets_floor(model):
    # 201 tweets to airlines, telcos, couriers and shops (101 negative, 55 neutral,
    # 45 positive); measured 0.920 / 0.871 when written.
    acc, neg_recall = _sanity(model, "en_support_tweets.csv")
    assert acc >= 0.88 and neg_recall >= 0.83, (acc, neg_recall)


def test_chinese_short_delivery_floor(model):
    # 100 short delivery messages (60 complaints, 20 questions, 20 praise); 0.95 / 0.95.
    acc, neg_recall = _sanity(model, "zh_delivery_short.csv")
    assert acc >= 0.90 and neg_recall >= 0.90, (acc, neg_recall)


# ------------------------------------------------------------------ adaptation behaviour
def _two_class_shop():
    """A shop whose labels come from review stars: only good and bad, no neutral."""
    good = ["很好吃", "送得很快", "分量很足", "包装很好", "味道不错", "还会再点"]
    bad = ["太难吃了", "送得太慢", "分量太少", "汤洒了", "都凉了", "再也不点了"]
    texts = [t + s for t in good + bad for s in ("", "！", "。", "啊")]
    return texts, ["positive"] * 24 + ["negative"] * 24


def test_two_class_shop_labels_keep_calm_questions_neutral(model):
    adapted = model.adapt(*_two_class_shop())
    for text in CALM_QUESTIONS:
        assert adapted.predict(text).label == "neutral", text
    assert adapted.predict("送得太慢了，饭都凉了").label == "negative"
    assert adapted.predict("味道不错，送得也快").label == "positive"


def test_shop_labels_in_one_language_leave_the_other_alone(model):
    adapted = model.adapt(*_two_class_shop())
    for text in ["still waiting for my refund", "thanks, that fixed it", "Can I change my seat?"]:
        assert adapted.predict(text) == model.predict(text)


def test_few_shop_labels_only_nudge_the_shipped_model(model):
    # Two labels that contradict the shipped model cannot overrule it...
    few = model.adapt(["送得太慢了", "很好吃"], ["positive", "negative"])
    assert few.predict("送得太慢了，饭都凉了").label == "negative"
    assert few.predict("很好吃，下次还点").label == "positive"


def test_adapted_model_keeps_sanity_floors(model):
    adapted = model.adapt(*_two_class_shop())
    acc, neg_recall = _sanity(adapted, "zh_delivery_short.csv")
    assert acc >= 0.88 and neg_recall >= 0.90, (acc, neg_recall)
    assert _sanity(adapted, "en_support_tweets.csv") == _sanity(model, "en_support_tweets.csv")
