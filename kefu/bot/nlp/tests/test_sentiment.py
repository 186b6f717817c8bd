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
