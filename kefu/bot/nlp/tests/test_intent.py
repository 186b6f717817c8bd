import pytest

from kefu.bot.nlp.intent import IntentModel, IntentPrediction

TRAIN = [
    ("where is my order", "track"),
    ("track my package please", "track"),
    ("has my parcel shipped yet", "track"),
    ("when will my delivery arrive", "track"),
    ("I want to cancel my order", "cancel"),
    ("please cancel the purchase", "cancel"),
    ("cancel it, I changed my mind", "cancel"),
    ("stop my order from shipping, cancel", "cancel"),
    ("I want a refund", "refund"),
    ("give me my money back", "refund"),
    ("how do I get reimbursed", "refund"),
    ("refund my payment please", "refund"),
    ("我要退款", "refund"),
    ("快递到哪了", "track"),
    ("帮我取消订单", "cancel"),
]


@pytest.fixture(scope="module")
def model():
    texts, labels = zip(*TRAIN, strict=True)
    return IntentModel.fit(texts, labels)


def test_labels(model):
    assert sorted(model.labels) == ["cancel", "refund", "track"]


def test_predict(model):
    p = model.predict("can you cancel my order?")
    assert isinstance(p, IntentPrediction)
    assert p.label == "cancel"
    assert 0.0 <= p.confidence <= 1.0
    assert model.predict("where is my parcel").label == "track"
    assert model.predict("我想退款").label == "refund"


def test_confidence_higher_for_clear_message(model):
    clear = model.predict("please cancel my order, cancel it")
    vague = model.predict("hello")
    assert clear.confidence > vague.confidence


def test_predict_many_matches_predict(model):
    texts = ["refund please", "track my order"]
    assert model.predict_many(texts) == [model.predict(t) for t in texts]
    assert model.predict_many([]) == []


def test_serialization_round_trip(model):
    again = IntentModel.from_bytes(model.to_bytes())
    assert again.labels == model.labels
    for t in ["refund please", "where is it", "取消"]:
        assert again.predict(t) == model.predict(t)


def test_from_bytes_rejects_other_objects():
    import pickle

    with pytest.raises(ValueError):
        IntentModel.from_bytes(pickle.dumps((1, "nope")))
