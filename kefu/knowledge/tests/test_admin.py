import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from kefu.knowledge import actions
from kefu.knowledge.models import Faq, FaqVersion
from kefu.tests import factories as f

pytestmark = pytest.mark.django_db


def staff_client(user):
    user.is_staff = True
    user.is_superuser = False
    user.save()
    from django.contrib.auth.models import Permission

    user.user_permissions.set(Permission.objects.filter(content_type__app_label="knowledge"))
    client = Client()
    client.force_login(user)
    return client


def test_admin_lists_only_supervised_shops_and_saves_through_the_action(
    shop, other_shop, supervisor, make_faq
):
    mine = make_faq("什么时候发货？")
    make_faq("别家的问题", shop=other_shop)
    client = staff_client(supervisor)
    listing = client.get("/admin/knowledge/faq/").content.decode()
    assert "什么时候发货？" in listing and "别家的问题" not in listing
    form = {
        "shop": shop.id,
        "language": "zh-hans",
        "category": "物流",
        "intent": "",
        "question": "什么时候发货？",
        "paraphrases": "几天发货\n多久发出",
        "answer": "24 小时内发货。",
        "products": "",
        "valid_from": "",
        "valid_to": "",
        "status": "published",
        "review_due": "",
        "note": "提速",
        "versions-TOTAL_FORMS": "1",
        "versions-INITIAL_FORMS": "1",
        "versions-MIN_NUM_FORMS": "0",
        "versions-MAX_NUM_FORMS": "1000",
        "versions-0-id": str(mine.versions.get().id),
        "versions-0-faq": str(mine.id),
    }
    response = client.post(f"/admin/knowledge/faq/{mine.id}/change/", form)
    assert response.status_code == 302, response.content.decode()[:3000]
    mine.refresh_from_db()
    assert (mine.answer, mine.paraphrases, mine.version) == (
        "24 小时内发货。",
        ["几天发货", "多久发出"],
        2,
    )
    assert [(v.version, v.changed_by, v.note) for v in mine.versions.order_by("version")][1] == (
        2,
        supervisor,
        "提速",
    )
    diff = client.get(f"/admin/knowledge/faq/{mine.id}/diff/", {"a": 1, "b": 2}).content.decode()
    assert "付款后 48 小时内发货。" in diff and "24 小时内发货。" in diff
    bad = client.post(
        f"/admin/knowledge/faq/{mine.id}/change/",
        {**form, "valid_from": "2026-06-02", "valid_to": "2026-06-01"},
    )
    assert bad.status_code == 200 and FaqVersion.objects.filter(faq=mine).count() == 2


def test_admin_import_page_reports_rows_and_export_action(shop, other_shop, supervisor, make_faq):
    client = staff_client(supervisor)
    page = client.get("/admin/knowledge/faq/import/").content.decode()
    assert other_shop.name not in page
    upload = SimpleUploadedFile(
        "faqs.csv",
        "question,category,answer,status\r\n能退货吗,售后,可以,published\r\n,售后,缺问题,published\r\n".encode(),
    )
    response = client.post(
        "/admin/knowledge/faq/import/", {"shop": shop.id, "file": upload, "atomic": ""}
    )
    html = response.content.decode()
    assert response.status_code == 200 and 'id="import-errors"' in html
    assert "<td>3</td><td>question</td>" in html
    assert list(Faq.objects.values_list("question", flat=True)) == ["能退货吗"]
    # Another shop's id in the form is refused by the form, nothing imported there.
    upload = SimpleUploadedFile("faqs.csv", b"question,category,answer\r\nx,y,z\r\n")
    client.post("/admin/knowledge/faq/import/", {"shop": other_shop.id, "file": upload})
    assert not Faq.objects.filter(shop=other_shop).exists()
    faq = Faq.objects.get()
    exported = client.post(
        "/admin/knowledge/faq/", {"action": "export_csv", "_selected_action": [faq.id]}
    )
    assert exported["Content-Type"].startswith("text/csv")
    assert "能退货吗" in exported.content.decode("utf-8-sig")


def test_agents_personal_replies_stay_out_of_the_admin(shop, supervisor):
    agent = f.make_agent(shop, status="offline")
    actions.save_quick_reply(
        agent,
        shop,
        {"category": "greeting", "title": "私人问候", "shortcut": "/me", "text": "x"},
        personal=True,
    )
    listing = staff_client(supervisor).get("/admin/knowledge/quickreply/").content.decode()
    assert "私人问候" not in listing
