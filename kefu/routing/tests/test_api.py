import pytest
from django.test import Client

from kefu.tests import factories as f

pytestmark = pytest.mark.django_db


def client_for(user):
    client = Client()
    client.force_login(user)
    return client


def test_agents_see_their_groups_queues_supervisors_every_queue(clock):
    shop = f.make_shop()
    f.make_rule(shop, "after_sales", "坏了")
    f.open_conversation(shop, f.make_customer(shop), "在吗", clock=clock)
    f.open_conversation(shop, f.make_customer(shop, tier="vip"), "东西坏了", clock=clock)
    pre_sales_agent = f.make_agent(shop, status="offline")
    supervisor = f.make_agent(shop, role="supervisor", status="offline")
    other_shop_supervisor = f.make_agent(f.make_shop(), role="supervisor", status="offline")

    mine = client_for(pre_sales_agent).get("/api/v1/queues/waiting").json()
    assert [row["group"] for row in mine] == ["pre_sales"]
    everything = client_for(supervisor).get("/api/v1/queues/waiting").json()
    assert [(row["group"], row["vip"]) for row in everything] == [
        ("after_sales", True),
        ("pre_sales", False),
    ]
    assert client_for(other_shop_supervisor).get("/api/v1/queues/waiting").json() == []
    counts = {
        row["code"]: row["waiting"] for row in client_for(supervisor).get("/api/v1/queues").json()
    }
    assert counts == {"pre_sales": 1, "after_sales": 1, "vip": 0, "complaints": 0}


def test_agent_board_and_status_over_http():
    shop = f.make_shop()
    agent = f.make_agent(shop, status="offline", capacity=4)
    client = client_for(agent)
    response = client.post(
        "/api/v1/agents/me/status", {"status": "online"}, content_type="application/json"
    )
    assert response.status_code == 200 and response.json()["status"] == "online"
    bad = client.post(
        "/api/v1/agents/me/status", {"status": "asleep"}, content_type="application/json"
    )
    assert bad.status_code == 400
    board = client.get("/api/v1/agents").json()
    assert [(a["user_id"], a["status"], a["max_concurrent"]) for a in board] == [
        (agent.id, "online", 4)
    ]
    me = client.get("/api/v1/agents/me").json()
    assert me["shops"][0]["first_reply_target_seconds"] == 30 and me["supervised_shop_ids"] == []
