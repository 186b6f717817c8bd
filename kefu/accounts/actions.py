"""Changes to agents, lockouts and API tokens."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils.translation import gettext as _

from kefu.core.clock import Clock, system_clock
from kefu.core.errors import ActionError, PermissionDenied
from kefu.realtime.events import AgentChanged, AgentStatusChanged, agent_group, supervisors_group
from kefu.realtime.publish import publish_on_commit

from .models import AgentProfile, AgentStatus, AgentStatusChange, ApiToken, LoginFailure, LoginLock

LOCKOUT_FAILURES = 5
LOCKOUT_WINDOW = dt.timedelta(minutes=15)
LOCKOUT_DURATION = dt.timedelta(minutes=15)


def publish_agent_load(user_id: int) -> None:
    """Tell the supervisors of the agent's shops their status and load (after commit)."""
    profile = AgentProfile.objects.filter(user_id=user_id).first()
    if profile is None:
        return
    shop_ids = list(profile.shops.values_list("id", flat=True))
    if not shop_ids:
        return
    publish_on_commit(
        AgentChanged(
            groups=tuple(supervisors_group(shop_id) for shop_id in shop_ids),
            agent={
                "user_id": user_id,
                "name": profile.display_name,
                "status": profile.status,
                "active_count": profile.active_count,
                "max_concurrent": profile.max_concurrent,
            },
        )
    )


def set_agent_status(user, status: str, *, clock: Clock = system_clock) -> AgentProfile:
    """Change an agent's status; going online pulls waiting conversations."""
    from kefu.routing import actions as routing_actions

    if status not in AgentStatus.values:
        raise ActionError(_("Unknown status: %(status)s") % {"status": status}, code="bad_frame")
    now = clock.now()
    with transaction.atomic():
        profile = AgentProfile.objects.select_for_update().get(user=user)
        if profile.status != status:
            profile.status = status
            profile.status_changed_at = now
            profile.save(update_fields=["status", "status_changed_at"])
            AgentStatusChange.objects.create(user=user, status=status, at=now)
        publish_on_commit(AgentStatusChanged(groups=(agent_group(user.id),), status=status))
        publish_agent_load(user.id)
        if status == AgentStatus.ONLINE:
            routing_actions.fill_agent_capacity(user.id, clock=clock)
    return profile


def set_max_concurrent(user, value: int, *, clock: Clock = system_clock) -> AgentProfile:
    from kefu.routing import actions as routing_actions

    if not 1 <= value <= 200:
        raise ActionError(_("Capacity must be between 1 and 200."))
    with transaction.atomic():
        AgentProfile.objects.filter(user=user).update(max_concurrent=value)
        routing_actions.fill_agent_capacity(user.id, clock=clock)
    return AgentProfile.objects.get(user=user)


# What each role edits in the back office, whose lists of these apps are
# scoped to the user's own shops: the knowledge base and the bot; supervisors
# also the compliance rules (and hold its permissions: reveal buyer data,
# allow blocked sends, search the audit log), orders and routing.
BACK_OFFICE_APPS = {
    "supervisor": ("knowledge", "bot", "compliance", "commerce", "routing"),
    "trainer": ("knowledge", "bot"),
}


def grant_back_office(user, role: str) -> None:
    from django.contrib.auth.models import Permission

    user.is_staff = True
    user.save(update_fields=["is_staff"])
    apps = BACK_OFFICE_APPS.get(role, ())
    user.user_permissions.add(*Permission.objects.filter(content_type__app_label__in=apps))


def create_agent(
    *,
    username: str,
    password: str,
    display_name: str,
    shops,
    groups=(),
    role: str = "agent",
    level: str = "junior",
    max_concurrent: int = 8,
) -> AgentProfile:
    User = get_user_model()
    with transaction.atomic():
        user = User.objects.create_user(username=username, password=password)
        if role == "admin":
            user.is_staff = user.is_superuser = True
            user.save(update_fields=["is_staff", "is_superuser"])
        elif role in BACK_OFFICE_APPS:
            grant_back_office(user, role)
        profile = AgentProfile.objects.create(
            user=user,
            display_name=display_name,
            role=role,
            level=level,
            max_concurrent=max_concurrent,
        )
        profile.shops.set(shops)
        profile.skill_groups.set(groups)
    return profile


def touch_agent(user_id: int, *, clock: Clock = system_clock) -> None:
    """Record that the agent's workbench is alive (connect and heartbeat)."""
    AgentProfile.objects.filter(user_id=user_id).update(last_seen_at=clock.now())


def set_unseen_agents_offline(timeout_seconds: int, *, clock: Clock = system_clock) -> int:
    """Sweep: agents whose workbench has not been heard from go offline, so no
    new conversation is routed to a closed browser. Idempotent."""
    cutoff = clock.now() - dt.timedelta(seconds=timeout_seconds)
    stale = AgentProfile.objects.exclude(status=AgentStatus.OFFLINE).filter(last_seen_at__lt=cutoff)
    count = 0
    for profile in stale.select_related("user"):
        set_agent_status(profile.user, AgentStatus.OFFLINE, clock=clock)
        count += 1
    return count


def open_session(user) -> str:
    """A logged-in session for `user` without a password (load-test fixtures,
    socket tests): the same keys Django's login() writes. Returns its key."""
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore

    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = settings.AUTHENTICATION_BACKENDS[0]
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.create()
    assert session.session_key
    return session.session_key


# --- Login lockout --------------------------------------------------------------


def locked_until(username: str, *, clock: Clock = system_clock) -> dt.datetime | None:
    lock = LoginLock.objects.filter(username=username, locked_until__gt=clock.now()).first()
    return lock.locked_until if lock else None


def record_login_failure(username: str, ip: str | None, *, clock: Clock = system_clock) -> bool:
    """Count a failure; True when it locks the account."""
    now = clock.now()
    with transaction.atomic():
        LoginFailure.objects.create(username=username, ip=ip, at=now)
        recent = LoginFailure.objects.filter(username=username, at__gt=now - LOCKOUT_WINDOW).count()
        if recent >= LOCKOUT_FAILURES:
            LoginLock.objects.update_or_create(
                username=username,
                defaults={"locked_until": now + LOCKOUT_DURATION, "unlocked_by": None},
            )
            return True
    return False


def record_login_success(username: str) -> None:
    LoginFailure.objects.filter(username=username).delete()


def unlock_login(actor, username: str, *, clock: Clock = system_clock) -> None:
    from . import queries

    target = AgentProfile.objects.filter(user__username=username).first()
    actor_shops = queries.supervised_shop_ids(actor)
    if not actor.is_superuser and (
        target is None or not actor_shops & set(target.shops.values_list("id", flat=True))
    ):
        raise PermissionDenied(_("You can only unlock agents of the shops you supervise."))
    with transaction.atomic():
        LoginLock.objects.filter(username=username).update(
            locked_until=clock.now(), unlocked_by=actor
        )
        LoginFailure.objects.filter(username=username).delete()


# --- API tokens -------------------------------------------------------------------


def hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def create_api_token(shop, name: str, created_by=None) -> tuple[ApiToken, str]:
    """Returns the token row and the raw key, which is shown once and never stored."""
    raw = "kf_" + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        shop=shop, name=name, prefix=raw[:10], key_hash=hash_token(raw), created_by=created_by
    )
    return token, raw


def authenticate_api_token(raw: str, *, clock: Clock = system_clock) -> ApiToken | None:
    token = (
        ApiToken.objects.select_related("shop")
        .filter(key_hash=hash_token(raw), revoked_at__isnull=True)
        .first()
    )
    if token is not None:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=clock.now())
    return token
