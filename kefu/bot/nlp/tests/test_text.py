from kefu.bot.nlp.text import language_of, normalize, tokenize


def test_normalize_traditional_to_simplified():
    assert normalize("體驗很差，發貨太慢") == "体验很差,发货太慢"


def test_normalize_full_width_case_and_whitespace():
    assert normalize("  ＡＢＣ　１２３\t\n Hello   World ") == "abc 123 hello world"


def test_normalize_empty():
    assert normalize("") == ""
    assert normalize("   ") == ""


def test_tokenize_chinese_uses_words_and_drops_punctuation():
    toks = tokenize("我的快遞還沒到！")
    assert "快递" in toks
    assert "！" not in toks and "!" not in toks
    assert all(t.strip() for t in toks)


def test_tokenize_english():
    assert tokenize("Where is my ORDER #123? I don't know.") == [
        "where",
        "is",
        "my",
        "order",
        "123",
        "i",
        "don't",
        "know",
    ]


def test_tokenize_mixed():
    toks = tokenize("iPhone 15 屏幕碎了")
    assert toks[:2] == ["iphone", "15"]
    assert "屏幕" in toks


def test_language_of():
    assert language_of("hello") == "en"
    assert language_of("hello 你好") == "zh-hans"
    assert language_of("") == "en"
