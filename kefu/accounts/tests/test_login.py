import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from kefu.accounts import actions
from kefu.accounts.models import LoginLock
from kefu.core.errors import PermissionDenied
from kefu.tests import factories as f

pytestmark = pytest.mark.django_db


def login(client, username, password):
    return client.post("/accounts/login/", {"username": username, "password": password})


def test_passwords_are_hashed_with_argon2():
    shop = f.make_shop()
    agent = f.make_agent(shop)
    assert get_user_model().objects.get(id=agent.id).password.startswith("argon2$")


def test_five_failures_lock_the_account_even_for_the_right_password(clock):
    shop = f.make_shop()
    agent = f.make_agent(shop)
    client = Client()
    for _ in range(4):
        response = login(client, agent.username, "wrong")
        assert response.status_code == 200 and "_auth_user_id" not in client.session
    response = login(client, agent.username, "wrong")
    assert "locked" in response.content.decode().lower() or "锁定" in response.content.decode()
    response = login(client, agent.username, f.PASSWORD)
    assert response.status_code == 200 and "_auth_user_id" not in client.session
    assert LoginLock.objects.filter(username=agent.username).exists()


def test_supervisor_unlocks_agent_of_their_shop_only():
    shop = f.make_shop()
    agent = f.make_agent(shop)
    supervisor = f.make_agent(shop, role="supervisor")
    outsider = f.make_agent(f.make_shop(), role="supervisor")
    for _ in range(5):
        actions.record_login_failure(agent.username, "127.0.0.1")
    assert actions.locked_until(agent.username) is not None
    with pytest.raises(PermissionDenied):
        actions.unlock_login(outsider, agent.username)
    assert actions.locked_until(agent.username) is not None
    actions.unlock_login(supervisor, agent.username)
    assert actions.locked_until(agent.username) is None
    response = login(Client(), agent.username, f.PASSWORD)
    assert response.status_code == 302 and response.url == "/workbench/"


def test_lock_expires_after_fifteen_minutes(clock):
    shop = f.make_shop()
    agent = f.make_agent(shop)
    for _ in range(5):
        actions.record_login_failure(agent.username, None, clock=clock)
    assert actions.locked_until(agent.username, clock=clock) is not None
    clock.advance(minutes=15, seconds=1)
    assert actions.locked_until(agent.username, clock=clock) is None


def test_failures_outside_the_window_do_not_count(clock):
    shop = f.make_shop()
    agent = f.make_agent(shop)
    for _ in range(4):
        actions.record_login_failure(agent.username, None, clock=clock)
    clock.advance(minutes=16)
    assert actions.record_login_failure(agent.username, None, clock=clock) is False


def test_workbench_needs_login_and_pages_render_in_both_languages():
    shop = f.make_shop()
    agent = f.make_agent(shop)
    assert Client().get("/workbench/").status_code == 302
    client = Client()
    client.force_login(agent)
    assert client.get("/workbench/").status_code == 200
    page = Client().get("/accounts/login/")
    assert page.status_code == 200 and 'lang="zh-hans"' in page.content.decode()
    english = Client(HTTP_ACCEPT_LANGUAGE="en").get("/accounts/login/")
    assert 'lang="en"' in english.content.decode()


def test_unseen_online_agents_are_set_offline_by_the_sweep(clock):
    from kefu.accounts.models import AgentProfile, AgentStatusChange

    shop = f.make_shop()
    quiet = f.make_agent(shop, clock=clock)
    alive = f.make_agent(shop, clock=clock)
    actions.touch_agent(quiet.id, clock=clock)
    clock.advance(seconds=100)
    actions.touch_agent(alive.id, clock=clock)
    clock.advance(seconds=30)
    assert actions.set_unseen_agents_offline(120, clock=clock) == 1
    assert actions.set_unseen_agents_offline(120, clock=clock) == 0
    statuses = dict(AgentProfile.objects.values_list("user_id", "status"))
    assert (statuses[quiet.id], statuses[alive.id]) == ("offline", "online")
    assert AgentStatusChange.objects.filter(user=quiet).latest("id").status == "offline"
