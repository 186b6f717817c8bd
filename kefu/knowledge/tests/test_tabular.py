import datetime as dt
import io

import pytest
from django.core.management import call_command
from django.utils import translation
from openpyxl import Workbook, load_workbook

from kefu.core import tabular
from kefu.knowledge import actions
from kefu.knowledge.models import Faq, FaqVersion, KnowledgeRevision, QuickReply

pytestmark = pytest.mark.django_db

HEADER = (
    "id,language,category,intent,question,paraphrases,answer,products,"
    "valid_from,valid_to,status,review_due"
)


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


def csv_bytes(*lines: str, bom: bool = True) -> bytes:
    return (("\ufeff" if bom else "") + "\r\n".join(lines) + "\r\n").encode("utf-8")


def run(data: bytes, name: str = "faqs.csv", kind: str = "faqs", **kwargs):
    return tabular.run_import(kind, data, name, **kwargs)


def test_good_rows_are_stored_and_bad_rows_reported_with_line_and_column(shop):
    data = csv_bytes(
        HEADER,
        ",zh-hans,物流,shipping_time,什么时候发货？,几天发货 | 多久发出,"
        "付款后 48 小时内发货。,,,,published,",
        ",zh-hans,物流,,,没有问题的行,答案,,,,published,",
        ",zh-hans,活动,,618 满减,,满 300 减 30,,2026-06-18,2026-06-01,published,",
        ',en,Shipping,,How long does shipping take?,"When will my order ship?\nShipping time",'
        '"We ship within\n48 hours.",SKU-1 | SKU-2,2026-01-01,,draft,2026-12-31',
        ",zh-hans,物流,,什么时候发货？,,重复的行,,,,published,",
        ",zh-hans,售后,,能退货吗,,,,,,published,",
    )
    report = run(data, shop=shop)
    assert (report.rows, report.created, report.updated, report.unchanged) == (6, 2, 0, 0)
    assert [(e.line, e.column) for e in report.errors] == [
        (3, "question"),
        (4, "valid_to"),
        # Line 5's quoted cells span three physical lines: the next row is line 8.
        (8, "question"),
        (9, "answer"),
    ]
    assert report.errors[0].reason == "Question is empty."
    assert "before it starts" in report.errors[1].reason
    assert report.errors[2].reason == "The same record as line 2."
    assert "needs an answer" in report.errors[3].reason
    assert report.committed
    shipping = Faq.objects.get(question="什么时候发货？")
    assert (shipping.paraphrases, shipping.intent, shipping.status) == (
        ["几天发货", "多久发出"],
        "shipping_time",
        "published",
    )
    english = Faq.objects.get(language="en")
    assert english.paraphrases == ["When will my order ship?", "Shipping time"]
    assert english.answer == "We ship within\n48 hours."
    assert english.products == ["SKU-1", "SKU-2"]
    assert (english.valid_from, english.review_due) == (dt.date(2026, 1, 1), dt.date(2026, 12, 31))
    assert FaqVersion.objects.count() == 2


def test_atomic_import_stores_nothing_when_a_row_is_bad(shop):
    data = csv_bytes(
        HEADER,
        ",zh-hans,物流,,什么时候发货？,,48 小时内。,,,,published,",
        ",zh-hans,物流,,几天到？,,三天。,,tomorrow,,published,",
    )
    report = run(data, shop=shop, atomic=True)
    assert [(e.line, e.column) for e in report.errors] == [(3, "valid_from")]
    assert not report.committed and report.created == 0
    assert Faq.objects.count() == 0 and FaqVersion.objects.count() == 0
    assert not KnowledgeRevision.objects.filter(shop=shop, revision__gt=0).exists()


def test_id_column_updates_that_faq_and_refuses_other_shops_ids(shop, other_shop, make_faq):
    mine = make_faq("什么时候发货？")
    theirs = make_faq("什么时候发货？", shop=other_shop)
    data = csv_bytes(
        "id,question,answer",
        f"{mine.id},几天发货？,24 小时内。",
        f"{theirs.id},别人的,改掉",
        "abc,x,y",
    )
    report = run(data, shop=shop)
    assert report.updated == 1
    assert [(e.line, e.column) for e in report.errors] == [(3, "id"), (4, "id")]
    mine.refresh_from_db()
    theirs.refresh_from_db()
    assert (mine.question, mine.answer, mine.category, mine.version) == (
        "几天发货？",
        "24 小时内。",
        "物流",
        2,
    )
    assert theirs.answer == "付款后 48 小时内发货。"


def test_xlsx_import_with_real_dates_and_numbers(shop):
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["question", "category", "answer", "valid_from", "valid_to", "status"])
    sheet.append(
        ["双十一预售", "活动", "11 月 11 日付尾款", dt.datetime(2026, 11, 1), None, "published"]
    )
    sheet.append([None, None, None, None, None, None])  # empty rows are skipped
    sheet.append(["价格能便宜吗", "", 100, None, None, "published"])
    stream = io.BytesIO()
    workbook.save(stream)
    report = run(stream.getvalue(), name="kb.XLSX", shop=shop)
    assert report.created == 1
    assert [(e.line, e.column) for e in report.errors] == [(4, "category")]
    faq = Faq.objects.get()
    assert (faq.valid_from, faq.language) == (dt.date(2026, 11, 1), "zh-hans")


def test_file_level_problems_are_clear(shop):
    with pytest.raises(tabular.TableError, match="Unknown columns: questoin"):
        run(csv_bytes("questoin,answer", "a,b"), shop=shop)
    with pytest.raises(tabular.TableError, match="Missing columns: question"):
        run(csv_bytes("answer", "b"), shop=shop)
    with pytest.raises(tabular.TableError, match="not UTF-8"):
        run("question\r\n什么时候发货？\r\n".encode("gbk"), shop=shop)
    with pytest.raises(tabular.TableError, match="use .csv or .xlsx"):
        run(b"question", name="faqs.txt", shop=shop)
    with pytest.raises(tabular.TableError, match="not a readable .xlsx"):
        run(b"not a zip", name="faqs.xlsx", shop=shop)
    with pytest.raises(tabular.TableError, match="Nothing imports"):
        run(b"question", kind="unicorns", shop=shop)
    assert Faq.objects.count() == 0


def export(kind, shop, fmt="csv") -> bytes:
    stream = io.BytesIO()
    tabular.export_table(kind, stream, fmt, shop=shop)
    return stream.getvalue()


def test_csv_round_trip_changes_nothing(shop, supervisor, make_faq):
    make_faq(
        "什么时候发货？",
        paraphrases=["几天发货", "多久发出"],
        products=["SKU-1"],
        answer='付款后 48 小时内发货，"包邮"，\n偏远地区除外。',
        valid_from=dt.date(2026, 1, 1),
        review_due=dt.date(2026, 12, 1),
        intent="shipping_time",
    )
    make_faq("How long is shipping?", language="en", category="Shipping", status="draft", answer="")
    first = export("faqs", shop)
    assert first.startswith("\ufeffid,language,category".encode())
    versions, revision = (
        FaqVersion.objects.count(),
        KnowledgeRevision.objects.get(shop=shop).revision,
    )
    report = run(first, shop=shop)
    assert (report.unchanged, report.created, report.updated, report.errors) == (2, 0, 0, [])
    assert export("faqs", shop) == first
    assert FaqVersion.objects.count() == versions
    assert KnowledgeRevision.objects.get(shop=shop).revision == revision


def test_xlsx_round_trip_and_quick_replies(shop, supervisor, agent):
    actions.save_quick_reply(
        supervisor,
        shop,
        {
            "category": "greeting",
            "title": "问候",
            "shortcut": "/hi",
            "text": "您好 {customer_name}",
            "position": 2,
        },
    )
    actions.save_quick_reply(
        agent,
        shop,
        {"category": "greeting", "title": "私人", "shortcut": "/me", "text": "我的"},
        personal=True,
    )
    first = export("quick-replies", shop, "xlsx")
    rows = list(load_workbook(io.BytesIO(first)).active.iter_rows(values_only=True))
    assert rows == [
        ("category", "title", "shortcut", "text", "language", "position"),
        ("greeting", "问候", "/hi", "您好 {customer_name}", "zh-hans", "2"),
    ]
    report = run(first, name="r.xlsx", kind="quick-replies", shop=shop)
    assert (report.unchanged, report.created, report.errors) == (1, 0, [])
    changed = csv_bytes(
        "category,title,shortcut,text,language,position",
        "greeting,问候,/hi,您好，欢迎光临,zh-hans,2",
        "holiday,春节,/cny,春节期间暂停发货,zh-hans,",
        "weather,天气,/sun,晴,zh-hans,",
        "greeting,重复,/hi,x,zh-hans,",
    )
    report = run(changed, kind="quick-replies", shop=shop)
    assert (report.updated, report.created) == (1, 1)
    assert [(e.line, e.column) for e in report.errors] == [(4, "category"), (5, "shortcut")]
    assert QuickReply.objects.get(shortcut="/hi", owner__isnull=True).text == "您好，欢迎光临"
    assert QuickReply.objects.get(owner=agent).text == "我的"  # personal ones are never touched


def test_commands_import_and_export(shop, make_faq, tmp_path, capsys):
    make_faq("什么时候发货？")
    path = tmp_path / "faqs.csv"
    call_command("export", "faqs", str(path))
    assert path.read_bytes() == export("faqs", shop)
    bad = tmp_path / "bad.csv"
    bad.write_bytes(csv_bytes("question,category,answer", "能退货吗,售后,可以", ",售后,没有问题"))
    with pytest.raises(SystemExit) as exit_info:
        call_command("import", "faqs", str(bad), "--atomic", "--progress-every", "1")
    assert exit_info.value.code == 1
    out, err = capsys.readouterr()
    assert "line 3, column question: Question is empty." in err
    assert "faqs: 1/2 rows" in err and "faqs: 2/2 rows" in err
    assert "Nothing was stored" in out
    assert Faq.objects.count() == 1
    call_command("import", "faqs", str(path), "--shop", shop.slug)
    assert "1 unchanged" in capsys.readouterr().out


def test_shop_must_be_named_when_there_are_several(shop, other_shop, tmp_path):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="several shops"):
        call_command("export", "faqs", str(tmp_path / "x.csv"))
    with pytest.raises(CommandError, match="No shop with the slug"):
        call_command("export", "faqs", str(tmp_path / "x.csv"), "--shop", "nope")


def test_help_lists_the_kinds(capsys):
    with pytest.raises(SystemExit):
        call_command("import", "--help")
    out = capsys.readouterr().out
    assert "faqs" in out and "quick-replies" in out
