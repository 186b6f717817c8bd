"""Supervisors edit their own shops' skill groups and routing rules in the
back office; a rule's expression must be RE2 (it runs on every new
conversation), and a rule only sends to a group of its own shop."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.test import Client

from kefu.routing import rules
from kefu.routing.models import RoutingRule, SkillGroup, validate_pattern
from kefu.tests import factories as f

pytestmark = pytest.mark.django_db


@pytest.fixture
def setup():
    shop, other = f.make_shop(), f.make_shop()
    supervisor = f.make_agent(shop, role="supervisor", status="offline")
    mine = SkillGroup.objects.create(shop=shop, code="returns", name="退货专员")
    theirs = SkillGroup.objects.create(shop=other, code="returns", name="别家退货组")
    RoutingRule.objects.create(shop=other, name="别家规则", group=theirs, keywords="退货")
    client = Client()
    client.force_login(supervisor)
    return shop, mine, theirs, client


def rule_form(shop, group, **changes):
    form = {
        "shop": shop.id,
        "name": "退货走专员",
        "position": 10,
        "keywords": "退货",
        "pattern": "",
        "tier": "",
        "channel": "",
        "group": group.id,
        "enabled": "on",
    }
    return {**form, **changes}


def test_supervisors_see_and_edit_only_their_shops_rules(setup):
    shop, mine, theirs, client = setup
    listing = client.get("/admin/routing/routingrule/").content.decode()
    assert "别家规则" not in listing
    assert "别家退货组" not in client.get("/admin/routing/skillgroup/").content.decode()
    added = client.post("/admin/routing/routingrule/add/", rule_form(shop, mine))
    assert added.status_code == 302, added.content.decode()[:2000]
    assert RoutingRule.objects.get(shop=shop).group == mine
    # Another shop's group is not a choice.
    refused = client.post("/admin/routing/routingrule/add/", rule_form(shop, theirs, name="x"))
    assert refused.status_code == 200 and not RoutingRule.objects.filter(name="x").exists()
    other_rule = RoutingRule.objects.get(name="别家规则")
    assert client.get(f"/admin/routing/routingrule/{other_rule.id}/change/").status_code == 302


def test_patterns_that_could_hang_or_do_not_compile_are_refused_when_saved(setup):
    shop, mine, _theirs, client = setup
    for pattern in (r"(a)\1", r"(?=退货)退", "(unclosed"):
        with pytest.raises(ValidationError):
            validate_pattern(pattern)
        response = client.post(
            "/admin/routing/routingrule/add/", rule_form(shop, mine, pattern=pattern)
        )
        assert response.status_code == 200 and "正则表达式无效" in response.content.decode()
    assert not RoutingRule.objects.filter(shop=shop).exists()
    validate_pattern(r"订单\s*\d{6,}")  # fine


def test_a_catastrophic_pattern_runs_in_linear_time(setup):
    shop, mine, _theirs, _client = setup
    # Saved around the check (e.g. before it existed): RE2 still runs it safely.
    rule = RoutingRule.objects.create(shop=shop, name="r", group=mine, pattern=r"(a+)+$")
    text = "a" * 1999 + "!"
    assert not rules.rule_matches(rule, text, tier="", channel="")
    bad = RoutingRule.objects.create(shop=shop, name="b", group=mine, pattern=r"(a)\1")
    assert not rules.rule_matches(bad, "aa", tier="", channel="")  # never matches


def test_existing_supervisors_get_the_routing_permissions():
    import importlib

    from django.apps import apps as global_apps
    from django.contrib.auth.models import Permission

    shop = f.make_shop()
    supervisor = f.make_agent(shop, role="supervisor", status="offline")
    # As before this release: the orders app's permissions, none of routing's.
    supervisor.user_permissions.remove(
        *Permission.objects.filter(content_type__app_label="routing")
    )
    agent = f.make_agent(shop)
    migration = importlib.import_module("kefu.routing.migrations.0005_supervisors_edit_routing")
    migration.grant_routing(global_apps, None)
    supervisor = type(supervisor).objects.get(pk=supervisor.pk)  # fresh permission cache
    assert supervisor.has_perm("routing.change_routingrule")
    assert not type(agent).objects.get(pk=agent.pk).has_perm("routing.change_routingrule")
