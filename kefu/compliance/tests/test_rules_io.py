"""Rules as spreadsheets, the admin, the API and the supervisor page."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import call_command
from django.test import Client

from kefu.compliance.models import ComplianceRule, Violation
from kefu.core import tabular
from kefu.inbox import actions as inbox_actions
from kefu.tests import factories as f

from .helpers import install_rules

pytestmark = pytest.mark.django_db


@pytest.fixture
def shop():
    shop = f.make_shop(slug="warm-home")
    install_rules(shop)
    return shop


@pytest.fixture
def supervisor(shop):
    return f.make_agent(shop, role="supervisor", status="offline", name="李主管")


def export(shop, fmt="csv") -> bytes:
    stream = io.BytesIO()
    tabular.export_table("rules", stream, fmt, shop=shop)
    return stream.getvalue()


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_round_trip_changes_nothing(shop, supervisor, fmt):
    data = export(shop, fmt)
    report = tabular.run_import("rules", data, f"rules.{fmt}", shop=shop, user=supervisor)
    assert (report.unchanged, report.created, report.updated, report.errors) == (2, 0, 0, [])
    assert export(shop, fmt) == data or fmt == "xlsx"  # xlsx carries a timestamp


def test_bad_rows_are_reported_and_atomic_stores_nothing(shop, supervisor):
    header = "code,family,kind,severity,title,explanation,patterns,phrases,examples_match\n"
    rows = (
        "rival,custom,phrases,block,竞品,不要提竞品,,隔壁店,去隔壁店看看\n"
        'loop,custom,regex,block,坏,坏,"(a)\\1",,\n'
        "miss,custom,phrases,warn,例,例,,满分,这句没有\n"
    )
    data = (header + rows).encode()
    report = tabular.run_import("rules", data, "r.csv", shop=shop, atomic=True)
    assert not report.committed and not ComplianceRule.objects.filter(code="rival").exists()
    lines = {error.line: error.reason for error in report.errors}
    assert set(lines) == {3, 4}
    assert "expression 1" in lines[3] and "must match" in lines[4]
    report = tabular.run_import("rules", data, "r.csv", shop=shop)
    assert report.created == 1 and ComplianceRule.objects.filter(code="rival").exists()


def test_commands(shop, tmp_path, capsys):
    path = tmp_path / "rules.csv"
    call_command("export", "rules", str(path), shop="warm-home")
    assert "wechat" in path.read_text(encoding="utf-8-sig")
    call_command("import", "rules", str(path), shop="warm-home")
    assert "未变 2 行" in capsys.readouterr().out


def test_check_api_and_override_api(shop, supervisor, clock):
    agent = f.make_agent(shop, name="小王")
    conversation = f.open_conversation(shop, f.make_customer(shop), "在吗", clock=clock)
    inbox_actions.Conversation.objects.filter(id=conversation.id).update(agent=agent)
    client = Client()
    client.force_login(agent)
    response = client.post(
        "/api/v1/compliance/check",
        {"conversation_id": conversation.id, "text": "加我微信吧"},
        content_type="application/json",
    )
    body = response.json()
    assert response.status_code == 200 and body["blocked"] is True
    assert body["findings"][0]["span"] == [0, 4]
    assert not Violation.objects.exists()  # checking stores nothing
    # Sending over HTTP is refused with the findings.
    response = client.post(
        f"/api/v1/conversations/{conversation.id}/messages",
        {"client_id": "h1", "text": "加我微信吧"},
        content_type="application/json",
    )
    assert response.status_code == 400 and response.json()["code"] == "blocked"
    assert response.json()["findings"][0]["rule"] == "wechat"
    response = client.post(
        "/api/v1/compliance/overrides",
        {
            "conversation_id": conversation.id,
            "client_id": "h1",
            "text": "加我微信吧",
            "reason": "买家要求",
        },
        content_type="application/json",
    )
    assert response.status_code == 201
    override_id = response.json()["id"]
    refused = client.post(
        f"/api/v1/compliance/overrides/{override_id}/decide",
        {"allow": True, "reason": "我自己批"},
        content_type="application/json",
    )
    assert refused.status_code == 404
    boss = Client()
    boss.force_login(supervisor)
    listed = boss.get("/api/v1/compliance/overrides?status=pending").json()
    assert [o["id"] for o in listed] == [override_id]
    page = boss.get("/compliance/")
    assert page.status_code == 200 and "加我微信吧" in page.content.decode()
    response = boss.post(
        f"/compliance/overrides/{override_id}/decide", {"decision": "allow", "reason": "已核实无误"}
    )
    assert response.status_code == 302
    assert conversation.messages.filter(client_id="h1", sender_type="agent").exists()
    page = boss.get("/compliance/").content.decode()
    assert "站外交易" in page  # the rule's line in the monthly table


def test_the_page_is_for_supervisors_only(shop):
    agent = f.make_agent(shop)
    client = Client()
    client.force_login(agent)
    assert client.get("/compliance/").status_code == 403


def test_guard_check_command_with_a_shop(shop, tmp_path, capsys):
    path = tmp_path / "in.txt"
    path.write_text("加我微信\n\n您好\n", encoding="utf-8")
    call_command("guard", "check", str(path), shop="warm-home")
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [line["text"] for line in lines] == ["加我微信", "您好"]
    assert lines[0]["findings"][0]["rule"] == "wechat" and lines[1]["findings"] == []


def test_install_defaults_adds_only_missing_shipped_rules(shop, capsys):
    from kefu.compliance.guard.defaults import default_specs

    call_command("guard", "install-defaults", shop="warm-home")
    codes = set(ComplianceRule.objects.filter(shop=shop).values_list("code", flat=True))
    assert {s.code for s in default_specs()} | {"wechat", "danger"} == codes
    assert f"{len(default_specs())} rule(s) added" in capsys.readouterr().out
    call_command("guard", "install-defaults", shop="warm-home")
    assert "0 rule(s) added" in capsys.readouterr().out
