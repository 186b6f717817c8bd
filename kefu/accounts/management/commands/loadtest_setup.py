"""Fixtures for bench/chat_load.py: a shop with online agents of enough capacity
and raised widget limits, sessions for the agents and visitor tokens."""

import json
import math

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction

from kefu.accounts.actions import open_session
from kefu.accounts.models import AgentProfile, AgentStatus, Platform, Shop
from kefu.inbox.connectors.widget import issue_token
from kefu.routing.models import GroupCode, SkillGroup


class Command(BaseCommand):
    help = "Create the load-test shop, agents and visitors; print them as JSON."

    def add_arguments(self, parser):
        parser.add_argument("--customers", type=int, default=1800)
        parser.add_argument("--agents", type=int, default=200)
        parser.add_argument("--slug", default="loadtest")

    def handle(self, *args, customers, agents, slug, **options):
        capacity = math.ceil(customers / agents)
        limits = {
            "agent_capacity": capacity,
            "messages_per_visitor": 1000,
            "messages_window_seconds": 10,
            "new_conversations_per_ip": customers * 10,
        }
        User = get_user_model()
        with transaction.atomic():
            Shop.objects.filter(slug=slug).delete()
            User.objects.filter(username__startswith=f"{slug}-agent-").delete()
            shop = Shop.objects.create(
                slug=slug,
                name="Load test",
                platform=Platform.OTHER,
                messages_per_visitor=limits["messages_per_visitor"],
                messages_window_seconds=limits["messages_window_seconds"],
                new_conversations_per_ip=limits["new_conversations_per_ip"],
                sticky_hours=0,
            )
            group = SkillGroup.objects.create(shop=shop, code=GroupCode.PRE_SALES, name="售前组")
            out_agents = []
            for i in range(agents):
                user = User(username=f"{slug}-agent-{i}")
                user.set_unusable_password()  # load-test agents log in by session only
                user.save()
                profile = AgentProfile.objects.create(
                    user=user,
                    display_name=f"客服{i}",
                    max_concurrent=capacity,
                    status=AgentStatus.ONLINE,
                )
                profile.shops.add(shop)
                profile.skill_groups.add(group)
                out_agents.append({"username": user.username, "session_key": open_session(user)})
        out_customers = [{"token": issue_token(shop)[0]} for _ in range(customers)]
        self.stdout.write(
            json.dumps(
                {
                    "shop_slug": slug,
                    "agents": out_agents,
                    "customers": out_customers,
                    "limits": limits,
                }
            )
        )
