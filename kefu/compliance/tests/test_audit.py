"""Revealing buyer data needs the permission and a reason and writes exactly
one audit row; a refusal writes none. The log is append-only (model and
database), records permission changes and exports, and supervisors search it
through the API and their page."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.db import DatabaseError, connection, transaction
from django.test import Client
from django.utils import timezone

from kefu.accounts.models import AgentProfile
from kefu.compliance import audit, queries
from kefu.compliance.models import AppendOnly, AuditLog
from kefu.core.errors import ActionError, NotFound, PermissionDenied
from kefu.customers.models import CustomerIdentity
from kefu.inbox import queries as inbox_queries
from kefu.inbox.models import Conversation
from kefu.tests import factories as f

pytestmark = pytest.mark.django_db

PHONE = "13812345678"
MESSAGE = f"我的电话{PHONE}，地址浙江省杭州市西湖区文三路90号3幢201室"


@pytest.fixture
def setup(clock):
    shop = f.make_shop()
    agent = f.make_agent(shop, name="小王")
    supervisor = f.make_agent(shop, role="supervisor", status="offline", name="李主管")
    customer = f.make_customer(shop)
    phone = CustomerIdentity.objects.create(shop=shop, customer=customer, kind="phone", value=PHONE)
    conversation = f.open_conversation(shop, customer, MESSAGE, clock=clock)
    Conversation.objects.filter(id=conversation.id).update(agent=agent)
    return shop, agent, supervisor, customer, phone, conversation


def customer_seq(conversation) -> int:
    rows = inbox_queries.messages_after(conversation.id, 0, staff=False)
    return next(m["seq"] for m in rows if m["text"] == MESSAGE)


def reveals():
    return AuditLog.objects.filter(action="reveal")


def fresh(user):
    """The user again, without Django's cached permissions."""
    return get_user_model().objects.get(pk=user.pk)


def grant(user, codename: str, group_name: str = "隐私查看") -> None:
    group, _created = Group.objects.get_or_create(name=group_name)
    group.permissions.add(Permission.objects.get(codename=codename))
    user.groups.add(group)


# --- Revealing ----------------------------------------------------------------------


def test_supervisor_reveals_a_phone_and_one_row_is_written(setup, clock):
    shop, _agent, supervisor, customer, phone, _conversation = setup
    value = audit.reveal_customer_identity(supervisor, phone.id, "  买家要求回电  ", clock=clock)
    assert value == PHONE
    [entry] = reveals()
    assert (entry.actor_id, entry.actor_name, entry.shop_id, entry.customer_id) == (
        supervisor.id,
        "李主管",
        shop.id,
        customer.id,
    )
    assert entry.reason == "买家要求回电"
    assert entry.at == clock.now()
    assert entry.data == {"field": "identity", "identity_id": phone.id, "kind": "phone"}
    assert PHONE not in entry.subject and PHONE not in str(entry.data)


def test_agent_needs_the_permission(setup):
    _shop, agent, _supervisor, _customer, phone, conversation = setup
    with pytest.raises(PermissionDenied):
        audit.reveal_customer_identity(agent, phone.id, "买家要求回电")
    with pytest.raises(PermissionDenied):
        audit.reveal_message_text(agent, conversation.id, 1, "买家要求回电")
    assert reveals().count() == 0
    grant(agent, "reveal_buyer_data")
    assert audit.reveal_customer_identity(fresh(agent), phone.id, "买家要求回电") == PHONE
    assert reveals().count() == 1


@pytest.mark.parametrize(
    ("reason", "code"),
    [("", "reason_required"), ("  a b c ", "reason_required"), ("好" * 301, "reason_too_long")],
)
def test_a_reason_is_required(setup, reason, code):
    _shop, _agent, supervisor, _customer, phone, conversation = setup
    with pytest.raises(ActionError) as refused:
        audit.reveal_customer_identity(supervisor, phone.id, reason)
    assert refused.value.code == code
    with pytest.raises(ActionError):
        audit.reveal_message_text(supervisor, conversation.id, 1, reason)
    assert reveals().count() == 0


def test_a_customer_of_another_shop_is_not_found(setup):
    _shop, _agent, supervisor, _customer, _phone, _conversation = setup
    other = f.make_shop()
    stranger = f.make_customer(other)
    identity = CustomerIdentity.objects.create(
        shop=other, customer=stranger, kind="phone", value="13900000000"
    )
    conversation = f.open_conversation(other, stranger, "你好")
    with pytest.raises(NotFound):
        audit.reveal_customer_identity(supervisor, identity.id, "买家要求回电")
    with pytest.raises(NotFound):
        audit.reveal_customer_identity(supervisor, 987654, "买家要求回电")
    with pytest.raises(NotFound):
        audit.reveal_message_text(supervisor, conversation.id, 1, "买家要求回电")
    assert reveals().count() == 0


def test_reveal_a_message_as_written(setup, clock):
    shop, agent, supervisor, customer, _phone, conversation = setup
    seq = customer_seq(conversation)
    [shown] = inbox_queries.messages_after(conversation.id, seq - 1, limit=1)
    assert shown["masked"] is True and PHONE not in shown["text"]
    text = audit.reveal_message_text(supervisor, conversation.id, seq, "核对收货地址", clock=clock)
    assert text == MESSAGE
    [entry] = reveals()
    assert (entry.shop_id, entry.customer_id, entry.actor_id) == (
        shop.id,
        customer.id,
        supervisor.id,
    )
    assert entry.data == {
        "field": "message",
        "conversation_id": conversation.id,
        "seq": seq,
        "kinds": ["address", "phone"],
    }
    with pytest.raises(NotFound):
        audit.reveal_message_text(supervisor, conversation.id, 99, "核对收货地址")
    # An agent who cannot see the conversation gets 404, permission or not.
    outsider = f.make_agent(shop, "after_sales")
    grant(outsider, "reveal_buyer_data")
    with pytest.raises(NotFound):
        audit.reveal_message_text(fresh(outsider), conversation.id, seq, "核对收货地址")
    assert reveals().count() == 1


# --- Append-only --------------------------------------------------------------------


def test_the_model_refuses_changes_and_deletes():
    entry = audit.record(None, "export", subject="export faqs")
    entry.reason = "改一下"
    with pytest.raises(AppendOnly):
        entry.save()
    with pytest.raises(AppendOnly):
        entry.delete()
    assert AuditLog.objects.get(id=entry.id).reason == ""


@pytest.mark.backend
@pytest.mark.django_db(transaction=True)
def test_the_database_refuses_updates_and_deletes():
    """Triggers on SQLite and PostgreSQL: the ORM's bulk paths and raw SQL are
    refused too. (Flushing the database after this test still works.)"""
    entry = audit.record(None, "export", subject="export faqs")
    table = AuditLog._meta.db_table
    attempts = [
        lambda: AuditLog.objects.filter(id=entry.id).update(reason="改一下"),
        lambda: AuditLog.objects.filter(id=entry.id).delete(),
        lambda: _raw(f"UPDATE {table} SET reason = 'x' WHERE id = %s", [entry.id]),
        lambda: _raw(f"DELETE FROM {table} WHERE id = %s", [entry.id]),
        lambda: _raw(f"DELETE FROM {table}", []),
    ]
    for attempt in attempts:
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
            attempt()
    assert AuditLog.objects.get(id=entry.id).reason == ""
    assert AuditLog.objects.count() == 1


def _raw(sql: str, params: list) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


# --- Permission changes and exports -------------------------------------------------


def permission_rows():
    return list(
        AuditLog.objects.filter(action="permission")
        .order_by("id")
        .values_list("shop_id", "actor_id", "subject", "data")
    )


def test_permission_changes_are_recorded(setup):
    shop, agent, supervisor, _customer, _phone, _conversation = setup
    before = AuditLog.objects.filter(action="permission").count()
    group = Group.objects.create(name="隐私查看")
    permission = Permission.objects.get(codename="reveal_buyer_data")
    with audit.acting_as(supervisor):
        agent.groups.add(group)
        agent.user_permissions.add(permission)
        agent.groups.remove(group)
        group.user_set.add(agent)  # the reverse side
        agent.groups.clear()
        profile = AgentProfile.objects.get(user=agent)
        profile.role = "supervisor"
        profile.save()
        profile.display_name = "小王2"
        profile.save()  # not a role change: no row
    name = agent.get_username()
    rows = permission_rows()[before:]
    assert [row[2] for row in rows] == [
        f"{name}: groups added",
        f"{name}: user_permissions added",
        f"{name}: groups removed",
        f"{name}: groups added",
        f"{name}: groups removed",
        f"{name}: role",
    ]
    assert {row[0] for row in rows} == {shop.id}
    assert {row[1] for row in rows} == {supervisor.id}
    assert rows[0][3] == {"user_id": agent.id, "change": "groups added", "names": ["隐私查看"]}
    assert rows[1][3]["names"] == ["compliance.reveal_buyer_data"]
    assert rows[5][3]["names"] == ["agent -> supervisor"]


def test_creating_a_supervisor_is_recorded_without_an_actor():
    shop = f.make_shop()
    supervisor = f.make_agent(shop, role="supervisor", status="offline")
    subjects = [row[2] for row in permission_rows()]
    name = supervisor.get_username()
    assert subjects == [f"{name}: user_permissions added", f"{name}: role"]
    assert {row[1] for row in permission_rows()} == {None}


def test_exports_are_recorded(clock):
    shop = f.make_shop()
    entry = audit.record_export(None, "faqs", shop.id, 12, clock=clock)
    assert (entry.action, entry.shop_id, entry.subject, entry.data, entry.at) == (
        "export",
        shop.id,
        "export faqs",
        {"kind": "faqs", "rows": 12},
        clock.now(),
    )


def test_record_refuses_an_unknown_action():
    with pytest.raises(ValueError):
        audit.record(None, "nonsense")
    assert AuditLog.objects.count() == 0


# --- Searching ------------------------------------------------------------------------


def test_search_is_limited_to_supervised_shops(setup, clock):
    shop, agent, supervisor, customer, phone, _conversation = setup
    audit.reveal_customer_identity(supervisor, phone.id, "买家要求回电", clock=clock)
    other = f.make_shop()
    audit.record(None, "export", shop_id=other.id, subject="export faqs")
    found = queries.search_audit(supervisor, action="reveal")
    assert [e.customer_id for e in found] == [customer.id]
    assert queries.search_audit(supervisor, q="回电", customer_id=customer.id)[0].reason == (
        "买家要求回电"
    )
    assert queries.search_audit(supervisor, actor="李主管", action="reveal") == found
    assert queries.search_audit(supervisor, actor=supervisor.id, action="reveal") == found
    assert queries.search_audit(supervisor, since=clock.now() + dt.timedelta(seconds=1)) == []
    assert queries.search_audit(supervisor, until=clock.now(), action="reveal") == []
    assert all(e.shop_id == shop.id for e in queries.search_audit(supervisor))
    with pytest.raises(NotFound):
        queries.search_audit(supervisor, shop_id=other.id)
    with pytest.raises(PermissionDenied):
        queries.search_audit(agent)
    grant(agent, "view_audit_log", "审计")
    assert [e.action for e in queries.search_audit(fresh(agent), action="reveal")] == ["reveal"]


# --- API and page ---------------------------------------------------------------------


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_reveal_api_round_trip(setup):
    _shop, agent, supervisor, _customer, phone, conversation = setup
    seq = customer_seq(conversation)
    boss = client_for(supervisor)
    profile = boss.get(f"/api/v1/customers/{phone.customer_id}").json()
    shown = next(i for i in profile["identities"] if i["id"] == phone.id)
    assert shown == {"id": phone.id, "kind": "phone", "value": "138****5678", "masked": True}
    response = boss.post(
        "/api/v1/compliance/reveal",
        {"identity_id": phone.id, "reason": "买家要求回电"},
        content_type="application/json",
    )
    assert (response.status_code, response.json()) == (200, {"value": PHONE})
    response = boss.post(
        "/api/v1/compliance/reveal",
        {"conversation_id": conversation.id, "seq": seq, "reason": "核对收货地址"},
        content_type="application/json",
    )
    assert (response.status_code, response.json()) == (200, {"value": MESSAGE})
    assert reveals().count() == 2
    refusals = [
        (boss, {"identity_id": phone.id, "reason": "要"}, 400, "reason_required"),
        (boss, {"identity_id": 987654, "reason": "买家要求回电"}, 404, "not_found"),
        (boss, {"reason": "买家要求回电"}, 400, "bad_request"),
        (boss, {"conversation_id": conversation.id, "reason": "买家要求回电"}, 400, "bad_request"),
        (client_for(agent), {"identity_id": phone.id, "reason": "买家要求回电"}, 403, "forbidden"),
    ]
    for client, body, status, code in refusals:
        response = client.post("/api/v1/compliance/reveal", body, content_type="application/json")
        assert (response.status_code, response.json()["code"]) == (status, code), body
    assert reveals().count() == 2
    listed = boss.get("/api/v1/compliance/audit?action=reveal").json()
    assert [e["subject"] for e in listed] == [
        f"conversation {conversation.id}: message {seq}",
        f"customer {phone.customer_id}: identity {phone.id} (phone)",
    ]
    assert listed[0]["reason"] == "核对收货地址" and listed[0]["actor_name"] == "李主管"
    assert client_for(agent).get("/api/v1/compliance/audit").status_code == 403
    assert Client().get("/api/v1/compliance/audit").status_code == 401


def test_audit_page(setup, clock):
    _shop, agent, supervisor, customer, phone, _conversation = setup
    audit.reveal_customer_identity(supervisor, phone.id, "买家要求回电", clock=clock)
    for n in range(55):
        audit.record(supervisor, "export", shop_id=customer.shop_id, subject=f"export n{n}")
    boss = client_for(supervisor)
    page = boss.get("/compliance/audit/?action=reveal")
    body = page.content.decode()
    assert page.status_code == 200
    assert "买家要求回电" in body and f"identity {phone.id}" in body and PHONE not in body
    assert "export n1" not in body
    first = boss.get("/compliance/audit/?action=export").content.decode()
    assert "export n54" in first and "export n4<" not in first and "page=2" in first
    second = boss.get("/compliance/audit/?action=export&page=2").content.decode()
    assert "export n4<" in second and "export n54" not in second
    today = timezone.localdate(clock.now()).isoformat()
    found = boss.get(f"/compliance/audit/?customer={customer.id}&since={today}&until={today}")
    assert "买家要求回电" in found.content.decode()
    assert client_for(agent).get("/compliance/audit/").status_code == 403
    assert Client().get("/compliance/audit/").status_code == 302


def test_the_middleware_attributes_changes_to_the_requests_user(setup):
    from django.test import RequestFactory

    from kefu.compliance.signals import AuditActorMiddleware

    _shop, agent, supervisor, _customer, _phone, _conversation = setup
    group = Group.objects.create(name="质检")
    request = RequestFactory().get("/admin/")
    request.user = supervisor

    def view(request):
        agent.groups.add(group)
        return "done"

    assert AuditActorMiddleware(view)(request) == "done"
    entry = AuditLog.objects.filter(action="permission").latest("id")
    assert (entry.actor_id, entry.actor_name, entry.data["names"]) == (
        supervisor.id,
        "李主管",
        ["质检"],
    )
    # Outside a request: the system.
    agent.groups.remove(group)
    assert AuditLog.objects.filter(action="permission").latest("id").actor_id is None
