import pytest

from kefu.bot.nlp.faq import DEFAULT_ANSWER_THRESHOLD, FaqDoc, FaqHit, FaqMatcher

DOCS = [
    FaqDoc("ship", ("什么时候发货", "几天能发货", "下单后多久发出")),
    FaqDoc("refund", ("怎么申请退款", "退款多久到账", "我要退钱")),
    FaqDoc("invoice", ("可以开发票吗", "发票怎么开")),
    FaqDoc("returns", ("How do I return an item?", "Can I send it back?", "return policy")),
    FaqDoc("hours", ("What are your opening hours?", "When are you open?")),
]


@pytest.fixture(scope="module")
def matcher():
    return FaqMatcher.fit(DOCS)


def test_len(matcher):
    assert len(matcher) == 5
    assert 0.0 < DEFAULT_ANSWER_THRESHOLD < 1.0


def test_ranking(matcher):
    hits = matcher.search("退款什么时候到账", k=3)
    assert hits and isinstance(hits[0], FaqHit)
    assert hits[0].id == "refund"
    assert len(hits) == 3
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
    assert all(0.0 <= h.confidence <= 1.0 for h in hits)
    assert matcher.search("how can I return this item")[0].id == "returns"
    assert matcher.search("when do you open")[0].id == "hours"


def test_traditional_query_matches_simplified_faq(matcher):
    assert matcher.search("怎麼申請退款")[0].id == "refund"


def test_confidence_higher_for_close_paraphrase(matcher):
    close = matcher.search("怎么申请退款")[0].confidence
    far = matcher.search("the weather is nice today")
    assert not far or far[0].confidence < close


def test_empty_query_and_empty_index(matcher):
    assert matcher.search("") == []
    assert matcher.search("   ") == []
    assert matcher.search("！？。") == []
    empty = FaqMatcher.fit([])
    assert len(empty) == 0
    assert empty.search("退款") == []


def test_synonyms_bring_query_to_the_right_faq():
    docs = [
        FaqDoc("a", ("快递多久能到",)),
        FaqDoc("b", ("物品损坏怎么办",)),
    ]
    plain = FaqMatcher.fit(docs)
    syn = FaqMatcher.fit(docs, synonyms=[["快递", "物流", "包裹"]])
    q = "包裹多久能到"
    s_plain = {h.id: h.score for h in plain.search(q)}
    s_syn = {h.id: h.score for h in syn.search(q)}
    assert syn.search(q)[0].id == "a"
    assert s_syn["a"] > s_plain.get("a", 0.0)


def test_english_synonyms_whole_words_only():
    docs = [FaqDoc("ship", ("when do you ship",)), FaqDoc("pay", ("how to pay",))]
    syn = FaqMatcher.fit(docs, synonyms=[["ship", "dispatch"]])
    assert syn.search("when do you dispatch")[0].id == "ship"


def test_serialization_round_trip(matcher):
    again = FaqMatcher.from_bytes(matcher.to_bytes())
    assert len(again) == len(matcher)
    for q in ["发票", "return policy", "几天发货"]:
        assert again.search(q) == matcher.search(q)


def test_k_limits_results(matcher):
    assert len(matcher.search("发货", k=1)) == 1
    assert matcher.search("发货", k=0) == []
    assert len(matcher.search("发货", k=50)) == 5


def test_nonsense_gets_no_confidence(matcher):
    for q in ["xyzzy plugh", "qqq", "zzkx vbnq", "哈哈哈哈"]:
        hits = matcher.search(q)
        assert not hits or hits[0].confidence < 0.05, (q, hits)
    # A misspelt long word still finds support.
    assert matcher.search("how do I retrun an item")[0].id == "returns"
